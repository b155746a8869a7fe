"""What the gateway asks of Voucherify, as typed records: the customer list's filters and order, and the
bodies of upserts, updates and bulk updates. Here, and only here, they become Voucherify's query parameters
and JSON."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from .changes import KEEP, Keep
from .transport import QueryParams
from .voucherify_records import ADDRESS_KEYS, Address, Json


class SortKey(Enum):
    """The orders of Voucherify's customer list (a ``-`` before one descends)."""

    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    SOURCE_ID = "source_id"


def instant(moment: datetime) -> str:
    """An ISO 8601 instant in UTC with milliseconds, as Voucherify writes them."""
    utc = moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


@dataclass(frozen=True, slots=True)
class CustomerQuery:
    """Which customers a list holds, and in what order; every filter given must hold."""

    email: str | None = None
    name: str | None = None
    city: str | None = None
    segment_id: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    sort_key: SortKey | None = None  # None: newest first
    reverse: bool = False

    @property
    def ascending(self) -> bool:
        return (self.sort_key is not None) != self.reverse

    @property
    def by_creation(self) -> bool:
        """Whether the list is in creation order, which ``starting_after`` (a creation time) can walk."""
        return self.sort_key in (None, SortKey.CREATED_AT)

    def flipped(self) -> CustomerQuery:
        """The same customers in the opposite order."""
        return replace(self, reverse=not self.reverse)

    def order(self) -> str:
        key = (self.sort_key or SortKey.CREATED_AT).value
        return key if self.ascending else f"-{key}"

    def params(self) -> QueryParams:
        params: QueryParams = []
        for name in ("email", "name", "city", "segment_id"):
            if (value := getattr(self, name)) is not None:
                params.append((name, value))
        for name, value in (
            ("created_at[after]", self.created_after), ("created_at[before]", self.created_before),
            ("updated_at[after]", self.updated_after), ("updated_at[before]", self.updated_before),
        ):  # fmt: skip
            if value is not None:
                params.append((name, instant(value)))
        params.append(("order", self.order()))
        return params


def write_address(address: Address) -> Json:
    return {key: value for key in ADDRESS_KEYS if (value := getattr(address, key)) is not None}


@dataclass(frozen=True, slots=True)
class CustomerFields:
    """The writable fields of a customer; ``KEEP`` leaves one as it is (not sent), ``None`` clears it."""

    name: str | Keep | None = KEEP
    description: str | Keep | None = KEEP
    email: str | Keep | None = KEEP
    phone: str | Keep | None = KEEP
    birthdate: date | Keep | None = KEEP
    address: Address | Keep | None = KEEP
    metadata: Json | Keep = KEEP  # replaces the map as a whole

    def body(self) -> Json:
        body: Json = {}
        for name in ("name", "description", "email", "phone"):
            if (value := getattr(self, name)) is not KEEP:
                body[name] = value
        if not isinstance(self.birthdate, Keep):
            body["birthdate"] = self.birthdate.isoformat() if self.birthdate is not None else None
        if not isinstance(self.address, Keep):
            body["address"] = write_address(self.address) if self.address is not None else None
        if not isinstance(self.metadata, Keep):
            body["metadata"] = self.metadata
        return body


@dataclass(frozen=True, slots=True)
class CustomerUpsert:
    """A create that updates the customer when ``id`` or ``source_id`` exists (``source_id`` is ignored
    when ``id`` is given, as Voucherify does)."""

    id: str | None = None
    source_id: str | None = None
    fields: CustomerFields = field(default_factory=CustomerFields)

    def body(self) -> Json:
        body: dict[str, Any] = {}
        if self.id is not None:
            body["id"] = self.id
        if self.source_id is not None:
            body["source_id"] = self.source_id
        return body | self.fields.body()


@dataclass(frozen=True, slots=True)
class BulkCustomer:
    """One customer of a bulk update: found by ``source_id``, upserted when missing."""

    source_id: str
    fields: CustomerFields = field(default_factory=CustomerFields)

    def body(self) -> Json:
        return {"source_id": self.source_id} | self.fields.body()
