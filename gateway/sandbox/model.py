"""The sandbox's in-memory records: plain dataclasses, rendered to Polar's JSON by ``render``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Metadata = dict[str, str | int | float | bool]
Json = dict[str, Any]

ACTIVE_STATUSES = frozenset({"active", "trialing"})
"""Statuses of the subscriptions that ``/state`` lists (``Subscription.active``)."""

LIST_ACTIVE_STATUSES = frozenset({"active", "trialing", "past_due"})
"""Statuses that make a customer ``active`` for the customer list filter (past_due included)."""


@dataclass
class Organization:
    id: str
    name: str
    slug: str
    created_at: datetime


@dataclass
class Token:
    """An access token: an organization access token or a customer session token."""

    value: str
    organization_id: str
    scopes: frozenset[str]
    customer_id: str | None = None
    expires_at: datetime | None = None


@dataclass
class Customer:
    id: str
    organization_id: str
    created_at: datetime
    type: str
    email: str | None
    name: str | None = None
    billing_name: str | None = None
    billing_address: dict[str, str | None] | None = None
    tax_id: tuple[str, str] | None = None
    locale: str | None = None
    metadata: Metadata = field(default_factory=dict)
    external_id: str | None = None
    email_verified: bool = False
    modified_at: datetime | None = None
    deleted_at: datetime | None = None
    owner_email: str | None = None


@dataclass
class Meter:
    id: str
    organization_id: str
    name: str
    event_name: str
    created_at: datetime


@dataclass
class Benefit:
    id: str
    organization_id: str
    type: str
    description: str
    created_at: datetime
    properties: Json
    metadata: Metadata = field(default_factory=dict)


@dataclass(frozen=True)
class SeatTier:
    min_seats: int
    max_seats: int | None
    price_per_seat: int


@dataclass
class Price:
    """One of Polar's price kinds (``amount_type``); the fields of the other kinds stay None."""

    id: str
    product_id: str
    amount: int  # fixed: the price; the others: what a subscription to it starts at
    currency: str
    created_at: datetime
    amount_type: str = "fixed"  # fixed, custom, seat_based or metered_unit
    minimum_amount: int | None = None  # custom (pay what you want)
    maximum_amount: int | None = None
    preset_amount: int | None = None
    seat_tiers: list[SeatTier] | None = None  # seat_based
    seat_tier_type: str = "volume"
    unit_amount: str | None = None  # metered_unit: cents per unit, a decimal string
    cap_amount: int | None = None
    meter_id: str | None = None


@dataclass
class Product:
    id: str
    organization_id: str
    name: str
    description: str | None
    recurring_interval: str | None
    created_at: datetime
    prices: list[Price]
    benefit_ids: list[str]


@dataclass
class SubscriptionMeterUsage:
    id: str
    meter_id: str
    created_at: datetime
    consumed_units: float
    credited_units: int
    amount: int


@dataclass
class Subscription:
    id: str
    customer_id: str
    product_id: str
    price_id: str
    status: str
    amount: int
    currency: str
    recurring_interval: str
    created_at: datetime
    current_period_start: datetime
    current_period_end: datetime
    started_at: datetime | None
    modified_at: datetime | None = None
    trial_start: datetime | None = None
    trial_end: datetime | None = None
    cancel_at_period_end: bool = False
    canceled_at: datetime | None = None
    ends_at: datetime | None = None
    ended_at: datetime | None = None
    customer_cancellation_reason: str | None = None
    metadata: Metadata = field(default_factory=dict)
    meters: list[SubscriptionMeterUsage] = field(default_factory=list)


@dataclass
class BenefitGrant:
    id: str
    customer_id: str
    benefit_id: str
    created_at: datetime
    granted_at: datetime | None
    properties: Json
    subscription_id: str | None = None
    order_id: str | None = None
    modified_at: datetime | None = None
    revoked_at: datetime | None = None
    deleted_at: datetime | None = None

    @property
    def is_granted(self) -> bool:
        return self.granted_at is not None and self.revoked_at is None


@dataclass
class CustomerMeter:
    id: str
    customer_id: str
    meter_id: str
    created_at: datetime
    modified_at: datetime | None
    consumed_units: float
    credited_units: int

    @property
    def balance(self) -> float:
        return self.credited_units - self.consumed_units


@dataclass
class OrderItem:
    id: str
    created_at: datetime
    label: str
    amount: int
    tax_amount: int
    product_price_id: str | None


@dataclass
class Order:
    id: str
    customer_id: str
    product_id: str
    subscription_id: str | None
    created_at: datetime
    status: str
    billing_reason: str
    subtotal_amount: int
    tax_amount: int
    currency: str
    billing_name: str | None
    billing_address: dict[str, str | None] | None
    invoice_number: str | None
    items: list[OrderItem]
    modified_at: datetime | None = None
    discount_amount: int = 0
    refunded_amount: int = 0
    refunded_tax_amount: int = 0

    @property
    def net_amount(self) -> int:
        return self.subtotal_amount - self.discount_amount


@dataclass
class CustomerSession:
    id: str
    token: str
    customer_id: str
    created_at: datetime
    expires_at: datetime
    return_url: str | None


@dataclass
class WebhookEndpoint:
    """Where an organization's events go. ``deleted_at`` set: soft-deleted, as Polar's repository does."""

    id: str
    organization_id: str
    created_at: datetime
    url: str
    format: str
    secret: str
    events: list[str]
    api_version: str
    name: str | None = None
    enabled: bool = True
    modified_at: datetime | None = None
    deleted_at: datetime | None = None
