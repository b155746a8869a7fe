"""The GraphQL types of the customer portal: the signed-in customer, sessions, and orders with their
product, subscription and items, built from the upstream layer's records."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.scalars import JSON

from ..upstream import polar_orders as orders
from ..upstream import polar_records as records
from .prices import ProductPrice, product_price
from .types import Address, BenefitType, Customer, CustomerType, RecurringInterval, TaxId, fields_of


@strawberry.enum
class OrderStatus(Enum):
    DRAFT = "draft"
    PENDING = "pending"
    PAID = "paid"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"
    VOID = "void"


@strawberry.enum
class OrderBillingReason(Enum):
    PURCHASE = "purchase"
    SUBSCRIPTION_CREATE = "subscription_create"
    SUBSCRIPTION_CYCLE = "subscription_cycle"
    SUBSCRIPTION_UPDATE = "subscription_update"
    SUBSCRIPTION_METER_CYCLE = "subscription_meter_cycle"


@strawberry.enum
class OrderSubscriptionStatus(Enum):
    INCOMPLETE = "incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired"
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"
    UNPAID = "unpaid"
    PAUSED = "paused"


@strawberry.type(description="The customer a session token belongs to, as the portal shows them.")
class PortalCustomer:
    id: strawberry.ID
    type: CustomerType | None
    email: str | None
    email_verified: bool
    name: str | None
    billing_name: str | None
    billing_address: Address | None
    tax_id: TaxId | None
    locale: str | None
    default_payment_method_id: strawberry.ID | None
    oauth_accounts: JSON
    created_at: datetime
    modified_at: datetime | None

    @classmethod
    def of(cls, record: records.PortalCustomer) -> PortalCustomer:
        return cls(**fields_of(
            record,
            type=CustomerType(record.type) if record.type else None,
            billing_address=Address.of(record.billing_address),
            tax_id=TaxId.of(record.tax_id),
        ))  # fmt: skip


@strawberry.type(description="A short-lived token acting as one customer, for frontend apps and the portal.")
class CustomerSession:
    id: strawberry.ID
    token: str = strawberry.field(description="polar_cst_...: send it as a bearer token to customerPortal.")
    expires_at: datetime
    return_url: str | None
    customer_portal_url: str
    customer: Customer
    created_at: datetime


@strawberry.type
class OrderItem:
    id: strawberry.ID
    created_at: datetime
    modified_at: datetime | None
    label: str
    amount: int
    tax_amount: int
    proration: bool
    product_price_id: strawberry.ID | None


@strawberry.type
class OrderOrganization:
    id: strawberry.ID
    name: str
    slug: str
    avatar_url: str | None
    created_at: datetime
    modified_at: datetime | None
    proration_behavior: str
    allow_customer_updates: bool
    customer_portal_settings: JSON


@strawberry.type
class OrderBenefit:
    id: strawberry.ID
    type: BenefitType
    description: str
    selectable: bool
    deletable: bool
    is_deleted: bool
    organization_id: strawberry.ID
    properties: JSON | None
    created_at: datetime
    modified_at: datetime | None


@strawberry.type
class OrderProduct:
    id: strawberry.ID
    name: str
    description: str | None
    visibility: str
    recurring_interval: RecurringInterval | None
    recurring_interval_count: int | None
    trial_interval: str | None
    trial_interval_count: int | None
    meter_interval: str | None
    meter_interval_count: int | None
    is_recurring: bool
    is_archived: bool
    organization_id: strawberry.ID
    prices: list[ProductPrice] = strawberry.field(description="Fixed, pay-what-you-want, seat-based or metered.")
    medias: JSON
    benefits: list[OrderBenefit]
    organization: OrderOrganization
    created_at: datetime
    modified_at: datetime | None


@strawberry.type
class OrderSubscription:
    id: strawberry.ID
    status: OrderSubscriptionStatus
    amount: int
    currency: str
    recurring_interval: RecurringInterval
    recurring_interval_count: int
    current_period_start: datetime
    current_period_end: datetime
    current_meter_period_start: datetime | None
    current_meter_period_end: datetime | None
    trial_start: datetime | None
    trial_end: datetime | None
    cancel_at_period_end: bool
    canceled_at: datetime | None
    started_at: datetime | None
    ends_at: datetime | None
    ended_at: datetime | None
    past_due_at: datetime | None
    pause_at_period_end: bool
    paused_at: datetime | None
    resumes_at: datetime | None
    customer_id: strawberry.ID
    product_id: strawberry.ID
    discount_id: strawberry.ID | None
    checkout_id: strawberry.ID | None
    seats: int | None
    customer_cancellation_reason: str | None
    customer_cancellation_comment: str | None
    created_at: datetime
    modified_at: datetime | None


@strawberry.type(description="An order of the signed-in customer.")
class Order:
    id: strawberry.ID
    status: OrderStatus
    paid: bool
    subtotal_amount: int
    discount_amount: int
    net_amount: int
    tax_amount: int
    total_amount: int
    applied_balance_amount: int
    due_amount: int
    refunded_amount: int
    refunded_tax_amount: int
    refundable_amount: int
    refundable_tax_amount: int
    currency: str
    billing_reason: OrderBillingReason
    billing_name: str | None
    billing_address: Address | None
    invoice_number: str | None
    is_invoice_generated: bool
    receipt_number: str | None
    seats: int | None
    description: str
    customer_id: strawberry.ID
    product_id: strawberry.ID | None
    discount_id: strawberry.ID | None
    subscription_id: strawberry.ID | None
    checkout_id: strawberry.ID | None
    next_payment_attempt_at: datetime | None
    product: OrderProduct | None
    subscription: OrderSubscription | None
    items: list[OrderItem]
    created_at: datetime
    modified_at: datetime | None

    @classmethod
    def of(cls, record: orders.Order) -> Order:
        product, subscription = record.product, record.subscription
        return cls(**fields_of(
            record,
            status=OrderStatus(record.status),
            billing_reason=OrderBillingReason(record.billing_reason),
            billing_address=Address.of(record.billing_address),
            product=_product(product) if product else None,
            subscription=_subscription(subscription) if subscription else None,
            items=[OrderItem(**fields_of(item)) for item in record.items],
        ))  # fmt: skip


def _product(record: orders.OrderProduct) -> OrderProduct:
    interval = record.recurring_interval
    return OrderProduct(**fields_of(
        record,
        recurring_interval=RecurringInterval(interval) if interval else None,
        prices=[product_price(price) for price in record.prices],
        benefits=[OrderBenefit(**fields_of(b, type=BenefitType(b.type))) for b in record.benefits],
        organization=OrderOrganization(**fields_of(record.organization)),
    ))  # fmt: skip


def _subscription(record: orders.OrderSubscription) -> OrderSubscription:
    return OrderSubscription(**fields_of(
        record,
        status=OrderSubscriptionStatus(record.status),
        recurring_interval=RecurringInterval(record.recurring_interval),
    ))  # fmt: skip
