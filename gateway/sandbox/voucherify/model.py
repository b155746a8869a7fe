"""The customer record the sandbox keeps, and its JSON as Voucherify renders it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

WRITABLE = ("name", "description", "email", "phone", "birthday", "birthdate", "address", "metadata")
ADDRESS_KEYS = ("city", "state", "line_1", "line_2", "country", "postal_code")


def iso(moment: datetime) -> str:
    """``2022-08-30T06:32:07.380Z``: milliseconds and ``Z``, as Voucherify writes dates."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def empty_summary() -> dict[str, Any]:
    return {
        "redemptions": {
            "total_redeemed": 0,
            "total_failed": 0,
            "total_succeeded": 0,
            "total_rolled_back": 0,
            "total_rollback_failed": 0,
            "total_rollback_succeeded": 0,
            "gift": {"redeemed_amount": 0, "amount_to_go": 0},
            "loyalty_card": {"redeemed_points": 0, "points_to_go": 0},
        },
        "orders": {"total_amount": 0, "total_count": 0, "average_amount": 0, "last_order_amount": 0},
    }


def empty_loyalty() -> dict[str, Any]:
    return {"points": 0, "referred_customers": 0, "campaigns": {}}


@dataclass
class Customer:
    id: str
    created_at: datetime
    source_id: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)  # the writable fields that were ever set
    updated_at: datetime | None = None
    summary: dict[str, Any] = field(default_factory=empty_summary)
    loyalty: dict[str, Any] = field(default_factory=empty_loyalty)
    referrals: dict[str, Any] = field(default_factory=lambda: {"total": 0, "campaigns": []})
    consents: dict[str, bool] = field(default_factory=dict)  # consent id -> granted; never rendered (no field)
    activity: list[dict[str, Any]] = field(default_factory=list)  # customer events, oldest first

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id}
        if self.source_id is not None:
            body["source_id"] = self.source_id
        body.update({key: self.fields[key] for key in WRITABLE if key in self.fields and key != "metadata"})
        body["summary"] = self.summary
        body["loyalty"] = self.loyalty
        body["referrals"] = self.referrals
        body["metadata"] = self.fields.get("metadata", {})
        body["system_metadata"] = {}
        body["created_at"] = iso(self.created_at)
        if self.updated_at is not None:
            body["updated_at"] = iso(self.updated_at)
        body["object"] = "customer"
        return body

    @property
    def orders_count(self) -> int:
        count: int = self.summary["orders"]["total_count"]
        return count

    @property
    def points(self) -> int:
        points: int = self.loyalty["points"]
        return points
