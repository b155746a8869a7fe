"""Voucherify's answers as typed records, read from its JSON here and nowhere else.

Readers take what the contract marks optional with a default (``updated_at`` is absent before the first
update, ``has_more`` from some lists); a required key that is missing is a ``KeyError``, which the client
reports as an answer the contract does not have."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

Json = dict[str, Any]


def moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def maybe_moment(value: object) -> datetime | None:
    return moment(value) if isinstance(value, str) and value else None


def maybe_date(value: object) -> date | None:
    """A ``YYYY-MM-DD`` birthdate; anything else (the field is free text in old profiles) is no date."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _int(data: Json, key: str) -> int:
    value = data.get(key)
    return value if isinstance(value, int) else 0


def _text(data: Json, key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _object(data: Json, key: str) -> Json:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class Address:
    line_1: str | None
    line_2: str | None
    city: str | None
    state: str | None
    postal_code: str | None
    country: str | None


ADDRESS_KEYS = ("line_1", "line_2", "city", "state", "postal_code", "country")


def read_address(data: object) -> Address | None:
    if not isinstance(data, dict):
        return None
    return Address(**{key: _text(data, key) for key in ADDRESS_KEYS})


@dataclass(frozen=True, slots=True)
class GiftSummary:
    redeemed_amount: int  # cents
    amount_to_go: int


@dataclass(frozen=True, slots=True)
class LoyaltyCardSummary:
    redeemed_points: int
    points_to_go: int


@dataclass(frozen=True, slots=True)
class RedemptionsSummary:
    total_redeemed: int
    total_failed: int
    total_succeeded: int
    total_rolled_back: int
    total_rollback_failed: int
    total_rollback_succeeded: int
    gift: GiftSummary
    loyalty_card: LoyaltyCardSummary


@dataclass(frozen=True, slots=True)
class OrdersSummary:
    total_amount: int  # cents
    total_count: int
    average_amount: int
    last_order_amount: int
    last_order_date: datetime | None


@dataclass(frozen=True, slots=True)
class Summary:
    redemptions: RedemptionsSummary
    orders: OrdersSummary


_REDEMPTION_COUNTS = (
    "total_redeemed", "total_failed", "total_succeeded", "total_rolled_back", "total_rollback_failed",
    "total_rollback_succeeded",
)  # fmt: skip


def read_summary(data: Json) -> Summary:
    redemptions, orders = _object(data, "redemptions"), _object(data, "orders")
    gift, card = _object(redemptions, "gift"), _object(redemptions, "loyalty_card")
    return Summary(
        redemptions=RedemptionsSummary(
            **{key: _int(redemptions, key) for key in _REDEMPTION_COUNTS},
            gift=GiftSummary(redeemed_amount=_int(gift, "redeemed_amount"), amount_to_go=_int(gift, "amount_to_go")),
            loyalty_card=LoyaltyCardSummary(
                redeemed_points=_int(card, "redeemed_points"), points_to_go=_int(card, "points_to_go")
            ),
        ),
        orders=OrdersSummary(
            total_amount=_int(orders, "total_amount"),
            total_count=_int(orders, "total_count"),
            average_amount=_int(orders, "average_amount"),
            last_order_amount=_int(orders, "last_order_amount"),
            last_order_date=maybe_moment(orders.get("last_order_date")),
        ),
    )


@dataclass(frozen=True, slots=True)
class CampaignLoyalty:
    campaign: str  # the campaign's name: Voucherify keys them by name
    points: int
    loyalty_tier: str | None
    referred_customers: int


@dataclass(frozen=True, slots=True)
class Loyalty:
    points: int
    referred_customers: int
    campaigns: list[CampaignLoyalty]


def read_loyalty(data: Json) -> Loyalty:
    campaigns = [
        CampaignLoyalty(
            campaign=name,
            points=_int(value, "points"),
            loyalty_tier=_text(value, "loyalty_tier"),
            referred_customers=_int(value, "referred_customers"),
        )
        for name, value in _object(data, "campaigns").items()
        if isinstance(value, dict)
    ]
    referred = _int(data, "referred_customers")
    return Loyalty(points=_int(data, "points"), referred_customers=referred, campaigns=campaigns)


@dataclass(frozen=True, slots=True)
class Referral:
    campaign_id: str | None
    referrer_id: str | None
    related_object_id: str | None
    related_object_type: str | None
    date: datetime | None


@dataclass(frozen=True, slots=True)
class Referrals:
    total: int
    campaigns: list[Referral]


def read_referrals(data: Json) -> Referrals:
    campaigns = data.get("campaigns")
    return Referrals(
        total=_int(data, "total"),
        campaigns=[
            Referral(
                campaign_id=_text(item, "campaign_id"),
                referrer_id=_text(item, "referrer_id"),
                related_object_id=_text(item, "related_object_id"),
                related_object_type=_text(item, "related_object_type"),
                date=maybe_moment(item.get("date")),
            )
            for item in (campaigns if isinstance(campaigns, list) else [])
            if isinstance(item, dict)
        ],
    )


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    source_id: str | None
    name: str | None
    description: str | None
    email: str | None
    phone: str | None
    birthdate: date | None
    address: Address | None
    metadata: Json
    summary: Summary
    loyalty: Loyalty
    referrals: Referrals
    created_at: datetime
    updated_at: datetime | None


def read_customer(data: Json) -> Customer:
    return Customer(
        id=data["id"],
        source_id=_text(data, "source_id"),
        name=_text(data, "name"),
        description=_text(data, "description"),
        email=_text(data, "email"),
        phone=_text(data, "phone"),
        birthdate=maybe_date(data.get("birthdate") or data.get("birthday")),  # ``birthday``: the deprecated alias
        address=read_address(data.get("address")),
        metadata=_object(data, "metadata"),
        summary=read_summary(_object(data, "summary")),
        loyalty=read_loyalty(_object(data, "loyalty")),
        referrals=read_referrals(_object(data, "referrals")),
        created_at=moment(data["created_at"]),
        updated_at=maybe_moment(data.get("updated_at")),
    )


@dataclass(frozen=True, slots=True)
class CustomerPage:
    """One page of the customer list: ``total`` matches the filters over every page."""

    items: list[Customer]
    total: int
    has_more: bool | None  # None: Voucherify did not say (the field is optional in its contract)


def read_customer_page(data: Json) -> CustomerPage:
    items = [read_customer(item) for item in data["customers"]]
    has_more = data.get("has_more")
    said = has_more if isinstance(has_more, bool) else None
    return CustomerPage(items=items, total=int(data["total"]), has_more=said)


@dataclass(frozen=True, slots=True)
class Segment:
    id: str
    name: str | None


def read_segments(data: Json) -> list[Segment]:
    return [Segment(id=item["id"], name=_text(item, "name")) for item in data["data"]]


@dataclass(frozen=True, slots=True)
class Activity:
    id: str
    type: str | None
    created_at: datetime | None
    group_id: str | None
    category: str | None
    data: Json  # the event's payload as Voucherify sent it: its nesting is not settled upstream


@dataclass(frozen=True, slots=True)
class ActivityPage:
    items: list[Activity]
    has_more: bool
    next_after: str | None  # ``more_starting_after``: the id to continue after


def read_activity_page(data: Json) -> ActivityPage:
    items = [
        Activity(
            id=item["id"],
            type=_text(item, "type"),
            created_at=maybe_moment(item.get("created_at")),
            group_id=_text(item, "group_id"),
            category=_text(item, "category"),
            data=_object(item, "data"),
        )
        for item in data["data"]
    ]
    has_more = bool(data.get("has_more"))
    return ActivityPage(items=items, has_more=has_more, next_after=_text(data, "more_starting_after"))


@dataclass(frozen=True, slots=True)
class DeletionCounts:
    events: int
    customer_events: int
    daily_events: int
    segments: int
    orders: int
    order_events: int
    customer: int


@dataclass(frozen=True, slots=True)
class DeletionReport:
    id: str
    created_at: datetime
    related_object_id: str
    related_object: str
    status: str
    counts: DeletionCounts


_DELETION_COUNTS = ("events", "customer_events", "daily_events", "segments", "orders", "order_events", "customer")


def read_deletion(data: Json) -> DeletionReport:
    counts = data["data_json"]
    return DeletionReport(
        id=data["id"],
        created_at=moment(data["created_at"]),
        related_object_id=data["related_object_id"],
        related_object=data["related_object"],
        status=data["status"],
        counts=DeletionCounts(**{key: int(counts[key]) for key in _DELETION_COUNTS}),
    )


@dataclass(frozen=True, slots=True)
class AsyncAction:
    id: str
    type: str
    status: str  # ENQUEUED, IN_PROGRESS, DONE, FAILED
    operation_status: str | None
    progress: int
    result: Json | None  # depends on the type; present once the action is done
    created_at: datetime | None
    updated_at: datetime | None
    processing_time_ms: int | None

    @property
    def finished(self) -> bool:
        return self.status in ("DONE", "FAILED")


def read_async_action(data: Json) -> AsyncAction:
    result, processing = data.get("result"), data.get("processing_time")
    return AsyncAction(
        id=data["id"],
        type=data["type"],
        status=data["status"],
        operation_status=_text(data, "operation_status"),
        progress=_int(data, "progress"),
        result=result if isinstance(result, dict) else None,
        created_at=maybe_moment(data.get("created_at")),
        updated_at=maybe_moment(data.get("updated_at")),
        processing_time_ms=processing if isinstance(processing, int) else None,
    )


def read_async_action_id(data: Json) -> str:
    action_id: str = data["async_action_id"]
    return action_id
