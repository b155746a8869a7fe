"""A product's prices in the customer portal: one interface and a type per kind of Polar price, built from the
upstream layer's records (``gateway.upstream.prices``), with Polar's names in camelCase and enums where
Polar's schema has enums."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry

from ..upstream import prices as records
from .types import RecurringInterval


@strawberry.enum(description="Where a price comes from: the product's catalog, or made for one checkout.")
class ProductPriceSource(Enum):
    CATALOG = "catalog"
    AD_HOC = "ad_hoc"


@strawberry.enum(description="The kind of a price; each has its own type.")
class ProductPriceAmountType(Enum):
    FIXED = "fixed"
    CUSTOM = "custom"
    SEAT_BASED = "seat_based"
    METERED_UNIT = "metered_unit"


@strawberry.enum(description="Whether tax is added to the price (EXCLUSIVE), in it (INCLUSIVE), or by location.")
class TaxBehavior(Enum):
    LOCATION = "location"
    INCLUSIVE = "inclusive"
    EXCLUSIVE = "exclusive"


@strawberry.enum(description="VOLUME prices every seat at the matching tier; GRADUATED prices each tier's range.")
class SeatTierType(Enum):
    VOLUME = "volume"
    GRADUATED = "graduated"


@strawberry.enum
class MeterUnit(Enum):
    SCALAR = "scalar"
    TOKEN = "token"
    CUSTOM = "custom"


@strawberry.interface(description="A price of a product; the fields of each kind come with `... on ProductPriceFixed`.")
class ProductPrice:
    id: strawberry.ID
    created_at: datetime
    modified_at: datetime | None
    source: ProductPriceSource
    amount_type: ProductPriceAmountType
    price_currency: str = strawberry.field(description="The currency the customer is charged in, e.g. usd.")
    tax_behavior: TaxBehavior | None = strawberry.field(description="Null: the organization's default.")
    is_archived: bool
    product_id: strawberry.ID


@strawberry.type(description="A fixed price.")
class ProductPriceFixed(ProductPrice):
    price_amount: int = strawberry.field(description="The price in cents.")
    legacy: bool = strawberry.field(description="A deprecated recurring price, with an interval of its own.")
    recurring_interval: RecurringInterval | None = strawberry.field(description="Only on legacy prices.")


@strawberry.type(description="A pay-what-you-want price; a minimum of 0 makes it free or pay what you want.")
class ProductPriceCustom(ProductPrice):
    minimum_amount: int = strawberry.field(description="In cents.")
    maximum_amount: int | None = strawberry.field(description="In cents.")
    preset_amount: int | None = strawberry.field(description="In cents: the amount first shown to the customer.")
    legacy: bool = strawberry.field(description="A deprecated recurring price, with an interval of its own.")
    recurring_interval: RecurringInterval | None = strawberry.field(description="Only on legacy prices.")


@strawberry.type
class ProductPriceSeatTier:
    min_seats: int
    max_seats: int | None = strawberry.field(description="Null: no upper bound.")
    price_per_seat: int = strawberry.field(description="In cents.")


@strawberry.type
class ProductPriceSeatTiers:
    seat_tier_type: SeatTierType
    tiers: list[ProductPriceSeatTier]
    minimum_seats: int
    maximum_seats: int | None = strawberry.field(description="Null: no upper bound.")


@strawberry.type(description="A price per seat, in tiers by the number of seats.")
class ProductPriceSeatBased(ProductPrice):
    seat_tiers: ProductPriceSeatTiers


@strawberry.type(description="The meter a metered price counts.")
class ProductPriceMeter:
    id: strawberry.ID
    name: str
    unit: MeterUnit
    custom_label: str | None
    custom_multiplier: int | None


@strawberry.type(description="A usage-based price: a price per unit of a meter, with an optional cap.")
class ProductPriceMeteredUnit(ProductPrice):
    unit_amount: Decimal = strawberry.field(description="Cents per unit, exact (e.g. 0.5).")
    cap_amount: int | None = strawberry.field(description="The most charged in cents, however many units.")
    meter_id: strawberry.ID
    meter: ProductPriceMeter


PRICE_TYPES = (ProductPriceFixed, ProductPriceCustom, ProductPriceSeatBased, ProductPriceMeteredUnit)


def product_price(record: records.Price) -> ProductPrice:
    common: dict[str, Any] = dict(
        id=strawberry.ID(record.id),
        created_at=record.created_at,
        modified_at=record.modified_at,
        source=ProductPriceSource(record.source),
        amount_type=ProductPriceAmountType(record.amount_type),
        price_currency=record.currency,
        tax_behavior=TaxBehavior(record.tax_behavior) if record.tax_behavior else None,
        is_archived=record.is_archived,
        product_id=strawberry.ID(record.product_id),
    )
    if isinstance(record, records.FixedPrice):
        legacy = record.legacy_interval
        return ProductPriceFixed(**common, price_amount=record.amount, legacy=legacy is not None,
                                 recurring_interval=_interval(legacy))  # fmt: skip
    if isinstance(record, records.CustomPrice):
        return ProductPriceCustom(
            **common,
            minimum_amount=record.minimum_amount,
            maximum_amount=record.maximum_amount,
            preset_amount=record.preset_amount,
            legacy=record.legacy_interval is not None,
            recurring_interval=_interval(record.legacy_interval),
        )
    if isinstance(record, records.SeatBasedPrice):
        tiers = [ProductPriceSeatTier(min_seats=t.min_seats, max_seats=t.max_seats, price_per_seat=t.price_per_seat)
                 for t in record.tiers]  # fmt: skip
        seat_tiers = ProductPriceSeatTiers(
            seat_tier_type=SeatTierType(record.tier_type),
            tiers=tiers,
            minimum_seats=record.minimum_seats,
            maximum_seats=record.maximum_seats,
        )
        return ProductPriceSeatBased(**common, seat_tiers=seat_tiers)
    meter = record.meter
    return ProductPriceMeteredUnit(
        **common,
        unit_amount=record.unit_amount,
        cap_amount=record.cap_amount,
        meter_id=strawberry.ID(record.meter_id),
        meter=ProductPriceMeter(
            id=strawberry.ID(meter.id),
            name=meter.name,
            unit=MeterUnit(meter.unit),
            custom_label=meter.custom_label,
            custom_multiplier=meter.custom_multiplier,
        ),
    )


def _interval(interval: str | None) -> RecurringInterval | None:
    return RecurringInterval(interval) if interval else None
