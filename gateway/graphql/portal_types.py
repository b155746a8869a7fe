"""The GraphQL types of the customer portal: the signed-in customer, sessions, and orders with their
product, subscription and items, built straight from Polar's JSON."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from ..upstream.prices import prices_from_json
from .prices import ProductPrice, product_price
from .types import (
    Address,
    BenefitType,
    Customer,
    CustomerType,
    RecurringInterval,
    TaxId,
    optional_time,
    required_time,
)

Json = dict[str, Any]


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
    def from_json(cls, data: Json) -> PortalCustomer:
        kind = data.get("type")
        return cls(
            id=data["id"],
            type=CustomerType(kind) if kind else None,
            email=data.get("email"),
            email_verified=data["email_verified"],
            name=data.get("name"),
            billing_name=data.get("billing_name"),
            billing_address=Address.from_json(data.get("billing_address")),
            tax_id=TaxId.from_json(data.get("tax_id")),
            locale=data.get("locale"),
            default_payment_method_id=data.get("default_payment_method_id"),
            oauth_accounts=data.get("oauth_accounts", {}),
            created_at=required_time(data["created_at"]),
            modified_at=optional_time(data.get("modified_at")),
        )


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
    def from_json(cls, data: Json) -> Order:
        product, subscription = data.get("product"), data.get("subscription")
        return cls(
            id=data["id"],
            status=OrderStatus(data["status"]),
            paid=data["paid"],
            subtotal_amount=data["subtotal_amount"],
            discount_amount=data["discount_amount"],
            net_amount=data["net_amount"],
            tax_amount=data["tax_amount"],
            total_amount=data["total_amount"],
            applied_balance_amount=data["applied_balance_amount"],
            due_amount=data["due_amount"],
            refunded_amount=data["refunded_amount"],
            refunded_tax_amount=data["refunded_tax_amount"],
            refundable_amount=data["refundable_amount"],
            refundable_tax_amount=data["refundable_tax_amount"],
            currency=data["currency"],
            billing_reason=OrderBillingReason(data["billing_reason"]),
            billing_name=data.get("billing_name"),
            billing_address=Address.from_json(data.get("billing_address")),
            invoice_number=data.get("invoice_number"),
            is_invoice_generated=data["is_invoice_generated"],
            receipt_number=data.get("receipt_number"),
            seats=data.get("seats"),
            description=data["description"],
            customer_id=data["customer_id"],
            product_id=data.get("product_id"),
            discount_id=data.get("discount_id"),
            subscription_id=data.get("subscription_id"),
            checkout_id=data.get("checkout_id"),
            next_payment_attempt_at=optional_time(data.get("next_payment_attempt_at")),
            product=_product(product) if product else None,
            subscription=_subscription(subscription) if subscription else None,
            items=[
                OrderItem(
                    id=i["id"],
                    created_at=required_time(i["created_at"]),
                    modified_at=optional_time(i.get("modified_at")),
                    label=i["label"],
                    amount=i["amount"],
                    tax_amount=i["tax_amount"],
                    proration=i["proration"],
                    product_price_id=i.get("product_price_id"),
                )
                for i in data.get("items", [])
            ],
            created_at=required_time(data["created_at"]),
            modified_at=optional_time(data.get("modified_at")),
        )


def _product(data: Json) -> OrderProduct:
    organization = data["organization"]
    interval = data.get("recurring_interval")
    return OrderProduct(
        id=data["id"],
        name=data["name"],
        description=data.get("description"),
        visibility=data["visibility"],
        recurring_interval=RecurringInterval(interval) if interval else None,
        recurring_interval_count=data.get("recurring_interval_count"),
        trial_interval=data.get("trial_interval"),
        trial_interval_count=data.get("trial_interval_count"),
        meter_interval=data.get("meter_interval"),
        meter_interval_count=data.get("meter_interval_count"),
        is_recurring=data["is_recurring"],
        is_archived=data["is_archived"],
        organization_id=data["organization_id"],
        prices=[product_price(price) for price in prices_from_json(data.get("prices", []))],
        medias=data.get("medias", []),
        benefits=[
            OrderBenefit(
                id=b["id"],
                type=BenefitType(b["type"]),
                description=b["description"],
                selectable=b["selectable"],
                deletable=b["deletable"],
                is_deleted=b["is_deleted"],
                organization_id=b["organization_id"],
                properties=b.get("properties"),
                created_at=required_time(b["created_at"]),
                modified_at=optional_time(b.get("modified_at")),
            )
            for b in data.get("benefits", [])
        ],
        organization=OrderOrganization(
            id=organization["id"],
            name=organization["name"],
            slug=organization["slug"],
            avatar_url=organization.get("avatar_url"),
            created_at=required_time(organization["created_at"]),
            modified_at=optional_time(organization.get("modified_at")),
            proration_behavior=organization["proration_behavior"],
            allow_customer_updates=organization["allow_customer_updates"],
            customer_portal_settings=organization.get("customer_portal_settings", {}),
        ),
        created_at=required_time(data["created_at"]),
        modified_at=optional_time(data.get("modified_at")),
    )


def _subscription(data: Json) -> OrderSubscription:
    return OrderSubscription(
        id=data["id"],
        status=OrderSubscriptionStatus(data["status"]),
        amount=data["amount"],
        currency=data["currency"],
        recurring_interval=RecurringInterval(data["recurring_interval"]),
        recurring_interval_count=data["recurring_interval_count"],
        current_period_start=required_time(data["current_period_start"]),
        current_period_end=required_time(data["current_period_end"]),
        current_meter_period_start=optional_time(data.get("current_meter_period_start")),
        current_meter_period_end=optional_time(data.get("current_meter_period_end")),
        trial_start=optional_time(data.get("trial_start")),
        trial_end=optional_time(data.get("trial_end")),
        cancel_at_period_end=data["cancel_at_period_end"],
        canceled_at=optional_time(data.get("canceled_at")),
        started_at=optional_time(data.get("started_at")),
        ends_at=optional_time(data.get("ends_at")),
        ended_at=optional_time(data.get("ended_at")),
        past_due_at=optional_time(data.get("past_due_at")),
        pause_at_period_end=data["pause_at_period_end"],
        paused_at=optional_time(data.get("paused_at")),
        resumes_at=optional_time(data.get("resumes_at")),
        customer_id=data["customer_id"],
        product_id=data["product_id"],
        discount_id=data.get("discount_id"),
        checkout_id=data.get("checkout_id"),
        seats=data.get("seats"),
        customer_cancellation_reason=data.get("customer_cancellation_reason"),
        customer_cancellation_comment=data.get("customer_cancellation_comment"),
        created_at=required_time(data["created_at"]),
        modified_at=optional_time(data.get("modified_at")),
    )
