"""The orders of the customer portal as typed records, with their product (and its prices), subscription,
benefits and items, read from Polar's ``CustomerOrder`` JSON here. Enumerated values stay Polar's strings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .polar_records import Address, Json, maybe_moment, moment, read_address
from .prices import Price, prices_from_json


@dataclass(frozen=True, slots=True)
class OrderItem:
    id: str
    created_at: datetime
    modified_at: datetime | None
    label: str
    amount: int
    tax_amount: int
    proration: bool
    product_price_id: str | None


@dataclass(frozen=True, slots=True)
class OrderOrganization:
    id: str
    name: str
    slug: str
    avatar_url: str | None
    created_at: datetime
    modified_at: datetime | None
    proration_behavior: str
    allow_customer_updates: bool
    customer_portal_settings: Any


@dataclass(frozen=True, slots=True)
class OrderBenefit:
    id: str
    type: str
    description: str
    selectable: bool
    deletable: bool
    is_deleted: bool
    organization_id: str
    properties: Any
    created_at: datetime
    modified_at: datetime | None


@dataclass(frozen=True, slots=True)
class OrderProduct:
    id: str
    name: str
    description: str | None
    visibility: str
    recurring_interval: str | None
    recurring_interval_count: int | None
    trial_interval: str | None
    trial_interval_count: int | None
    meter_interval: str | None
    meter_interval_count: int | None
    is_recurring: bool
    is_archived: bool
    organization_id: str
    prices: list[Price]
    medias: Any
    benefits: list[OrderBenefit]
    organization: OrderOrganization
    created_at: datetime
    modified_at: datetime | None


@dataclass(frozen=True, slots=True)
class OrderSubscription:
    id: str
    status: str
    amount: int
    currency: str
    recurring_interval: str
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
    customer_id: str
    product_id: str
    discount_id: str | None
    checkout_id: str | None
    seats: int | None
    customer_cancellation_reason: str | None
    customer_cancellation_comment: str | None
    created_at: datetime
    modified_at: datetime | None


@dataclass(frozen=True, slots=True)
class Order:
    id: str
    status: str
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
    billing_reason: str
    billing_name: str | None
    billing_address: Address | None
    invoice_number: str | None
    is_invoice_generated: bool
    receipt_number: str | None
    seats: int | None
    description: str
    customer_id: str
    product_id: str | None
    discount_id: str | None
    subscription_id: str | None
    checkout_id: str | None
    next_payment_attempt_at: datetime | None
    product: OrderProduct | None
    subscription: OrderSubscription | None
    items: list[OrderItem]
    created_at: datetime
    modified_at: datetime | None


def read_order(data: Json) -> Order:
    product, subscription = data.get("product"), data.get("subscription")
    return Order(
        id=data["id"],
        status=data["status"],
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
        billing_reason=data["billing_reason"],
        billing_name=data.get("billing_name"),
        billing_address=read_address(data.get("billing_address")),
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
        next_payment_attempt_at=maybe_moment(data.get("next_payment_attempt_at")),
        product=_product(product) if product else None,
        subscription=_subscription(subscription) if subscription else None,
        items=[
            OrderItem(
                id=i["id"],
                created_at=moment(i["created_at"]),
                modified_at=maybe_moment(i.get("modified_at")),
                label=i["label"],
                amount=i["amount"],
                tax_amount=i["tax_amount"],
                proration=i["proration"],
                product_price_id=i.get("product_price_id"),
            )
            for i in data.get("items", [])
        ],
        created_at=moment(data["created_at"]),
        modified_at=maybe_moment(data.get("modified_at")),
    )


def _product(data: Json) -> OrderProduct:
    organization = data["organization"]
    return OrderProduct(
        id=data["id"],
        name=data["name"],
        description=data.get("description"),
        visibility=data["visibility"],
        recurring_interval=data.get("recurring_interval") or None,
        recurring_interval_count=data.get("recurring_interval_count"),
        trial_interval=data.get("trial_interval"),
        trial_interval_count=data.get("trial_interval_count"),
        meter_interval=data.get("meter_interval"),
        meter_interval_count=data.get("meter_interval_count"),
        is_recurring=data["is_recurring"],
        is_archived=data["is_archived"],
        organization_id=data["organization_id"],
        prices=prices_from_json(data.get("prices", [])),
        medias=data.get("medias", []),
        benefits=[
            OrderBenefit(
                id=b["id"],
                type=b["type"],
                description=b["description"],
                selectable=b["selectable"],
                deletable=b["deletable"],
                is_deleted=b["is_deleted"],
                organization_id=b["organization_id"],
                properties=b.get("properties"),
                created_at=moment(b["created_at"]),
                modified_at=maybe_moment(b.get("modified_at")),
            )
            for b in data.get("benefits", [])
        ],
        organization=OrderOrganization(
            id=organization["id"],
            name=organization["name"],
            slug=organization["slug"],
            avatar_url=organization.get("avatar_url"),
            created_at=moment(organization["created_at"]),
            modified_at=maybe_moment(organization.get("modified_at")),
            proration_behavior=organization["proration_behavior"],
            allow_customer_updates=organization["allow_customer_updates"],
            customer_portal_settings=organization.get("customer_portal_settings", {}),
        ),
        created_at=moment(data["created_at"]),
        modified_at=maybe_moment(data.get("modified_at")),
    )


def _subscription(data: Json) -> OrderSubscription:
    return OrderSubscription(
        id=data["id"],
        status=data["status"],
        amount=data["amount"],
        currency=data["currency"],
        recurring_interval=data["recurring_interval"],
        recurring_interval_count=data["recurring_interval_count"],
        current_period_start=moment(data["current_period_start"]),
        current_period_end=moment(data["current_period_end"]),
        current_meter_period_start=maybe_moment(data.get("current_meter_period_start")),
        current_meter_period_end=maybe_moment(data.get("current_meter_period_end")),
        trial_start=maybe_moment(data.get("trial_start")),
        trial_end=maybe_moment(data.get("trial_end")),
        cancel_at_period_end=data["cancel_at_period_end"],
        canceled_at=maybe_moment(data.get("canceled_at")),
        started_at=maybe_moment(data.get("started_at")),
        ends_at=maybe_moment(data.get("ends_at")),
        ended_at=maybe_moment(data.get("ended_at")),
        past_due_at=maybe_moment(data.get("past_due_at")),
        pause_at_period_end=data["pause_at_period_end"],
        paused_at=maybe_moment(data.get("paused_at")),
        resumes_at=maybe_moment(data.get("resumes_at")),
        customer_id=data["customer_id"],
        product_id=data["product_id"],
        discount_id=data.get("discount_id"),
        checkout_id=data.get("checkout_id"),
        seats=data.get("seats"),
        customer_cancellation_reason=data.get("customer_cancellation_reason"),
        customer_cancellation_comment=data.get("customer_cancellation_comment"),
        created_at=moment(data["created_at"]),
        modified_at=maybe_moment(data.get("modified_at")),
    )
