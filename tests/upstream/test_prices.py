"""Polar's price JSON read into records: every kind of the contract, legacy ones, and kinds not known yet."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from gateway.graphql.prices import ProductPriceCustom, ProductPriceFixed, product_price
from gateway.graphql.types import RecurringInterval
from gateway.upstream.prices import CustomPrice, FixedPrice, MeteredUnitPrice, prices_from_json

COMMON: dict[str, Any] = {
    "created_at": "2025-01-02T09:00:00Z", "modified_at": None, "id": "196ca717-4d84-4d28-a1b8-777255797dbc",
    "source": "catalog", "price_currency": "usd", "tax_behavior": "exclusive", "is_archived": False,
    "product_id": "d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23",
}  # fmt: skip


def test_legacy_recurring_prices_keep_their_interval() -> None:
    """``LegacyRecurringProductPriceFixed`` and ``...Custom``: deprecated, with ``type``, an interval and ``legacy``."""
    legacy = {"type": "recurring", "recurring_interval": "year", "legacy": True}
    fixed, custom = prices_from_json([
        {**COMMON, **legacy, "amount_type": "fixed", "price_amount": 1000},
        {**COMMON, **legacy, "amount_type": "custom", "minimum_amount": 0, "maximum_amount": None, "preset_amount": 500},
    ])  # fmt: skip
    assert isinstance(fixed, FixedPrice)
    assert (fixed.amount, fixed.legacy_interval, fixed.created_at) == (1000, "year", datetime(2025, 1, 2, 9, tzinfo=UTC))
    assert isinstance(custom, CustomPrice)
    assert (custom.minimum_amount, custom.preset_amount, custom.legacy_interval) == (0, 500, "year")
    typed = product_price(fixed)
    assert isinstance(typed, ProductPriceFixed)
    assert (typed.legacy, typed.recurring_interval) == (True, RecurringInterval.YEAR)
    current = product_price(prices_from_json([{**COMMON, "amount_type": "custom", "minimum_amount": 100,
                                               "maximum_amount": 900, "preset_amount": None}])[0])  # fmt: skip
    assert isinstance(current, ProductPriceCustom)
    assert (current.legacy, current.recurring_interval, current.maximum_amount) == (False, None, 900)


def test_a_metered_unit_amount_stays_exact() -> None:
    (price,) = prices_from_json([{
        **COMMON, "amount_type": "metered_unit", "unit_amount": "0.000000000123", "cap_amount": None,
        "meter_id": "d498a884-e2cd-4d3e-8002-f536468a8b22",
        "meter": {"id": "d498a884-e2cd-4d3e-8002-f536468a8b22", "name": "Tokens", "unit": "token",
                  "custom_label": None, "custom_multiplier": None},
    }])  # fmt: skip
    assert isinstance(price, MeteredUnitPrice)
    assert price.unit_amount == Decimal("0.000000000123")
    assert price.meter.unit == "token"


def test_a_kind_polar_adds_later_is_left_out() -> None:
    prices = prices_from_json([{**COMMON, "amount_type": "free"}, {**COMMON, "amount_type": "fixed", "price_amount": 1}])
    assert [type(p) for p in prices] == [FixedPrice]
