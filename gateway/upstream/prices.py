"""Polar's product prices as typed records: the four kinds of ``ProductPrice`` (``amount_type`` fixed, custom,
seat_based, metered_unit) and the deprecated legacy recurring fixed and custom ones, read from Polar's JSON
here so that the GraphQL layer never touches its keys.

Enumerated values (``source``, ``tax_behavior``, units, tier types) stay Polar's strings; the GraphQL layer
has the enums. A price of a kind Polar adds later is left out rather than failing its whole order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class PriceBase:
    id: str
    created_at: datetime
    modified_at: datetime | None
    source: str
    amount_type: str
    currency: str
    tax_behavior: str | None
    is_archived: bool
    product_id: str


@dataclass(frozen=True, slots=True)
class FixedPrice(PriceBase):
    amount: int
    legacy_interval: str | None  # a legacy recurring price's own interval; None on current prices


@dataclass(frozen=True, slots=True)
class CustomPrice(PriceBase):
    minimum_amount: int
    maximum_amount: int | None
    preset_amount: int | None
    legacy_interval: str | None


@dataclass(frozen=True, slots=True)
class SeatTier:
    min_seats: int
    max_seats: int | None
    price_per_seat: int


@dataclass(frozen=True, slots=True)
class SeatBasedPrice(PriceBase):
    tier_type: str
    tiers: tuple[SeatTier, ...]
    minimum_seats: int
    maximum_seats: int | None


@dataclass(frozen=True, slots=True)
class PriceMeter:
    id: str
    name: str
    unit: str
    custom_label: str | None
    custom_multiplier: int | None


@dataclass(frozen=True, slots=True)
class MeteredUnitPrice(PriceBase):
    unit_amount: Decimal  # cents per unit; Polar sends a decimal string, e.g. "0.5"
    cap_amount: int | None
    meter_id: str
    meter: PriceMeter


Price = FixedPrice | CustomPrice | SeatBasedPrice | MeteredUnitPrice


def prices_from_json(items: list[Json]) -> list[Price]:
    """The prices of a product, in Polar's order; kinds this gateway does not know are left out."""
    return [price for price in map(price_from_json, items) if price is not None]


def price_from_json(data: Json) -> Price | None:
    kind = data.get("amount_type")
    base = _base(data)
    legacy_interval = data.get("recurring_interval") if data.get("legacy") else None
    if kind == "fixed":
        return FixedPrice(**base, amount=data["price_amount"], legacy_interval=legacy_interval)
    if kind == "custom":
        return CustomPrice(
            **base,
            minimum_amount=data["minimum_amount"],
            maximum_amount=data.get("maximum_amount"),
            preset_amount=data.get("preset_amount"),
            legacy_interval=legacy_interval,
        )
    if kind == "seat_based":
        tiers = data["seat_tiers"]
        return SeatBasedPrice(
            **base,
            tier_type=tiers.get("seat_tier_type", "volume"),
            tiers=tuple(SeatTier(t["min_seats"], t.get("max_seats"), t["price_per_seat"]) for t in tiers["tiers"]),
            minimum_seats=tiers["minimum_seats"],
            maximum_seats=tiers.get("maximum_seats"),
        )
    if kind == "metered_unit":
        meter = data["meter"]
        return MeteredUnitPrice(
            **base,
            unit_amount=Decimal(data["unit_amount"]),
            cap_amount=data.get("cap_amount"),
            meter_id=data["meter_id"],
            meter=PriceMeter(
                id=meter["id"],
                name=meter["name"],
                unit=meter["unit"],
                custom_label=meter.get("custom_label"),
                custom_multiplier=meter.get("custom_multiplier"),
            ),
        )
    return None


def _base(data: Json) -> dict[str, Any]:
    modified = data.get("modified_at")
    return {
        "id": data["id"],
        "created_at": datetime.fromisoformat(data["created_at"]),
        "modified_at": datetime.fromisoformat(modified) if modified else None,
        "source": data["source"],
        "amount_type": data["amount_type"],
        "currency": data["price_currency"],
        "tax_behavior": data.get("tax_behavior"),
        "is_archived": data["is_archived"],
        "product_id": data["product_id"],
    }
