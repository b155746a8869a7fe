"""Records to Polar's JSON, key for key as the server serialises them (contract sections 4, 7, 8).

Fields the published OpenAPI lacks but the real server sends (``price_id`` on state subscriptions;
``price_id``, ``price``, ``user_id`` and ``user`` on subscriptions; ``seats`` and ``units`` on
subscriptions and orders; ``amount`` on orders; item timestamps) are included: no schema of the
document forbids extra properties. What polar-sdk 1.0.2 requires but the real server does not send
(``seats`` and ``units`` on state subscriptions, ``is_deletable`` on products) is left out, as
``polar-server-differences.md`` measured (rows 13, 14).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import quote

from .clock import iso
from .model import (
    ACTIVE_STATUSES,
    Benefit,
    BenefitGrant,
    Customer,
    CustomerMeter,
    CustomerSession,
    Json,
    Meter,
    Order,
    Organization,
    Price,
    Product,
    Subscription,
    SubscriptionMeterUsage,
)
from .ordering import sort_records
from .store import Store

V = TypeVar("V")


def avatar_url(customer: Customer) -> str | None:
    """The gravatar of the customer's own email; null without one (a team created with only an owner)."""
    if customer.email is None:
        return None
    digest = hashlib.sha256(customer.email.lower().encode()).hexdigest()
    return f"https://www.gravatar.com/avatar/{digest}?d=404"


def jsonb_order(metadata: Mapping[str, V]) -> dict[str, V]:
    """Metadata as PostgreSQL's ``jsonb`` gives it back: shorter keys first (length in bytes), then bytewise."""
    return dict(sorted(metadata.items(), key=lambda item: (len(item[0].encode()), item[0].encode())))


def customer(record: Customer) -> Json:
    return {
        "id": record.id,
        "created_at": iso(record.created_at),
        "modified_at": iso(record.modified_at),
        "metadata": jsonb_order(record.metadata),
        "external_id": record.external_id,
        "email": record.email,
        "email_verified": record.email_verified,
        "type": record.type,
        "name": record.name,
        "billing_name": record.billing_name if record.billing_name is not None else record.name,
        "billing_address": dict(record.billing_address) if record.billing_address else None,
        "tax_id": list(record.tax_id) if record.tax_id else None,
        "locale": record.locale,
        "organization_id": record.organization_id,
        "default_payment_method_id": None,
        "deleted_at": iso(record.deleted_at),
        "first_user_event_at": None,
        "avatar_url": avatar_url(record),
    }


def page(items: list[Json], total: int, limit: int) -> Json:
    max_page = -(-total // limit) if total else 0
    return {"items": items, "pagination": {"total_count": total, "max_page": max_page}}


# State --------------------------------------------------------------------------------------


def _usage(usage: SubscriptionMeterUsage) -> Json:
    """A subscription's meter usage; the full subscription adds the nested meter."""
    return {
        "created_at": iso(usage.created_at),
        "modified_at": None,
        "id": usage.id,
        "consumed_units": usage.consumed_units,
        "credited_units": usage.credited_units,
        "amount": usage.amount,
        "meter_id": usage.meter_id,
    }


def state_subscription(record: Subscription) -> Json:
    return {
        "id": record.id,
        "created_at": iso(record.created_at),
        "modified_at": iso(record.modified_at),
        "custom_field_data": {},
        "metadata": jsonb_order(record.metadata),
        "status": record.status,
        "amount": record.amount,
        "currency": record.currency,
        "recurring_interval": record.recurring_interval,
        "current_period_start": iso(record.current_period_start),
        "current_period_end": iso(record.current_period_end),
        "trial_start": iso(record.trial_start),
        "trial_end": iso(record.trial_end),
        "cancel_at_period_end": record.cancel_at_period_end,
        "canceled_at": iso(record.canceled_at),
        "started_at": iso(record.started_at),
        "ends_at": iso(record.ends_at),
        "product_id": record.product_id,
        "discount_id": None,
        "price_id": record.price_id,
        "meters": [_usage(usage) for usage in record.meters],
    }


def state_grant(record: BenefitGrant, benefit: Benefit) -> Json:
    return {
        "id": record.id,
        "created_at": iso(record.created_at),
        "modified_at": iso(record.modified_at),
        "granted_at": iso(record.granted_at),
        "benefit_id": record.benefit_id,
        "benefit_type": benefit.type,
        "benefit_metadata": jsonb_order(benefit.metadata),
        "properties": dict(record.properties),
    }


def state_meter(record: CustomerMeter) -> Json:
    return {
        "id": record.id,
        "created_at": iso(record.created_at),
        "modified_at": iso(record.modified_at),
        "meter_id": record.meter_id,
        "consumed_units": record.consumed_units,
        "credited_units": record.credited_units,
        "balance": record.balance,
    }


def customer_state(store: Store, record: Customer) -> Json:
    """The customer plus what ``/state`` lists, each array in its list endpoint's default order."""
    subscriptions = sort_records(
        [s for s in store.subscriptions_by_customer.get(record.id, ()) if s.status in ACTIVE_STATUSES],
        ["-started_at"],
        {"started_at": lambda s: s.started_at},
    )
    grants = sort_records(
        [g for g in store.grants_by_customer.get(record.id, ()) if g.is_granted and g.deleted_at is None],
        ["-created_at"],
        {"created_at": lambda g: g.created_at},
    )
    meters = sort_records(
        store.meters_by_customer.get(record.id, []), ["-modified_at"], {"modified_at": lambda m: m.modified_at}
    )
    return {
        **customer(record),
        "active_subscriptions": [state_subscription(s) for s in subscriptions],
        "granted_benefits": [state_grant(g, store.benefits[g.benefit_id]) for g in grants],
        "active_meters": [state_meter(m) for m in meters],
    }


# Catalog ------------------------------------------------------------------------------------


def meter(record: Meter) -> Json:
    return {
        "metadata": {},
        "created_at": iso(record.created_at),
        "modified_at": None,
        "id": record.id,
        "name": record.name,
        "unit": "scalar",
        "custom_label": None,
        "custom_multiplier": None,
        "filter": {
            "conjunction": "and",
            "clauses": [{"property": "name", "operator": "eq", "value": record.event_name}],
        },
        "aggregation": {"func": "count"},
        "organization_id": record.organization_id,
        "archived_at": None,
    }


def benefit_public(record: Benefit) -> Json:
    public: Json = {
        "id": record.id,
        "created_at": iso(record.created_at),
        "modified_at": None,
        "type": record.type,
        "description": record.description,
        "selectable": True,
        "deletable": True,
        "is_deleted": False,
        "organization_id": record.organization_id,
    }
    if record.type == "meter_credit":  # polar-sdk 1.0.2 requires these; the 2026-08 document lacks them
        public["properties"] = {"units": record.properties["units"], "meter_id": record.properties["meter_id"]}
    return public


def benefit(record: Benefit) -> Json:
    return {
        **{k: v for k, v in benefit_public(record).items() if k != "properties"},
        "metadata": jsonb_order(record.metadata),
        "visibility": "public",
        "properties": dict(record.properties),
        "visibility_configurable": True,
    }


def price(store: Store, record: Price) -> Json:
    """``ProductPrice`` of the OpenAPI: the common keys, then those of its ``amount_type``."""
    common = {
        "created_at": iso(record.created_at),
        "modified_at": None,
        "id": record.id,
        "source": "catalog",
        "amount_type": record.amount_type,
        "price_currency": record.currency,
        "tax_behavior": None,
        "is_archived": False,
        "product_id": record.product_id,
    }
    if record.amount_type == "custom":
        return {**common, "minimum_amount": record.minimum_amount, "maximum_amount": record.maximum_amount,
                "preset_amount": record.preset_amount}  # fmt: skip
    if record.amount_type == "seat_based":
        tiers = record.seat_tiers or []
        rendered = [{"min_seats": t.min_seats, "max_seats": t.max_seats, "price_per_seat": t.price_per_seat}
                    for t in tiers]  # fmt: skip
        return {**common, "seat_tiers": {"seat_tier_type": record.seat_tier_type, "tiers": rendered,
                "minimum_seats": tiers[0].min_seats, "maximum_seats": tiers[-1].max_seats}}  # fmt: skip
    if record.amount_type == "metered_unit":
        meter_record = store.meters[str(record.meter_id)]
        return {**common, "unit_amount": record.unit_amount, "cap_amount": record.cap_amount,
                "meter_id": meter_record.id, "meter": {"id": meter_record.id, "name": meter_record.name,
                "unit": "scalar", "custom_label": None, "custom_multiplier": None}}  # fmt: skip
    return {**common, "price_amount": record.amount}


def _product_base(store: Store, record: Product) -> Json:
    return {
        "id": record.id,
        "created_at": iso(record.created_at),
        "modified_at": None,
        "trial_interval": None,
        "trial_interval_count": None,
        "name": record.name,
        "description": record.description,
        "visibility": "public",
        "recurring_interval": record.recurring_interval,
        "recurring_interval_count": 1 if record.recurring_interval else None,
        "meter_interval": None,
        "meter_interval_count": None,
        "is_recurring": record.recurring_interval is not None,
        "is_archived": False,
        "organization_id": record.organization_id,
        "prices": [price(store, p) for p in record.prices],
        "medias": [],
    }


def product(store: Store, record: Product) -> Json:
    return {
        **_product_base(store, record),
        "metadata": {},
        "benefits": [benefit(store.benefits[b]) for b in record.benefit_ids],
        "attached_custom_fields": [],
    }


def organization(record: Organization) -> Json:
    return {
        "created_at": iso(record.created_at),
        "modified_at": None,
        "id": record.id,
        "name": record.name,
        "slug": record.slug,
        "avatar_url": None,
        "proration_behavior": "prorate",
        "allow_customer_updates": True,
        "customer_portal_settings": {
            "usage": {"show": True},
            "subscription": {"update_seats": True, "update_plan": True, "pause": False},
            "customer": {"allow_email_change": False},
        },
        "organization_features": {"member_model_enabled": False, "checkout_localization_enabled": False},
    }


# Subscriptions, grants, meters ----------------------------------------------------------------


def _subscription_core(record: Subscription) -> Json:
    return {
        "created_at": iso(record.created_at),
        "modified_at": iso(record.modified_at),
        "id": record.id,
        "amount": record.amount,
        "currency": record.currency,
        "recurring_interval": record.recurring_interval,
        "recurring_interval_count": 1,
        "status": record.status,
        "current_period_start": iso(record.current_period_start),
        "current_period_end": iso(record.current_period_end),
        "current_meter_period_start": None,
        "current_meter_period_end": None,
        "trial_start": iso(record.trial_start),
        "trial_end": iso(record.trial_end),
        "cancel_at_period_end": record.cancel_at_period_end,
        "canceled_at": iso(record.canceled_at),
        "started_at": iso(record.started_at),
        "ends_at": iso(record.ends_at),
        "ended_at": iso(record.ended_at),
        "past_due_at": iso(record.current_period_start) if record.status == "past_due" else None,
        "pause_at_period_end": False,
        "paused_at": iso(record.current_period_start) if record.status == "paused" else None,
        "resumes_at": None,
        "customer_id": record.customer_id,
        "product_id": record.product_id,
        "discount_id": None,
        "checkout_id": None,
        "seats": None,
        "units": None,
        "customer_cancellation_reason": record.customer_cancellation_reason,
        "customer_cancellation_comment": None,
    }


def subscription(store: Store, record: Subscription) -> Json:
    """With the deprecated ``price_id``, ``price``, ``user_id`` and ``user`` that the server still sends
    (``SkipJsonSchema``: absent from the published OpenAPI)."""
    owner = store.customers[record.customer_id]
    first_price = price(store, store.prices[record.price_id])
    return {
        **_subscription_core(record),
        "price_id": record.price_id,
        "metadata": jsonb_order(record.metadata),
        "custom_field_data": {},
        "customer": customer(owner),
        "user_id": owner.id,
        "user": _legacy_user(owner),
        "product": product(store, store.products[record.product_id]),
        "discount": None,
        "price": first_price,
        "prices": [first_price],
        "meters": [{**_usage(usage), "meter": meter(store.meters[usage.meter_id])} for usage in record.meters],
        "pending_update": None,
    }


def _legacy_user(record: Customer) -> Json:
    """``SubscriptionUser``: the customer as the user it was before Polar had customers (no legacy user here,
    so the customer's own id); the public name is the first letter of the name, else of the email."""
    public_name = (record.name or record.email or "?")[0]
    return {"id": record.id, "email": record.email, "public_name": public_name, "avatar_url": None,
            "github_username": None}  # fmt: skip


def grant(store: Store, record: BenefitGrant) -> Json:
    return {
        "created_at": iso(record.created_at),
        "modified_at": iso(record.modified_at),
        "id": record.id,
        "granted_at": iso(record.granted_at),
        "is_granted": record.is_granted,
        "revoked_at": iso(record.revoked_at),
        "is_revoked": record.revoked_at is not None,
        "subscription_id": record.subscription_id,
        "order_id": record.order_id,
        "customer_id": record.customer_id,
        "member_id": None,
        "benefit_id": record.benefit_id,
        "error": None,
        "customer": customer(store.customers[record.customer_id]),
        "member": None,
        "benefit": benefit(store.benefits[record.benefit_id]),
        "properties": dict(record.properties),
    }


def customer_meter(store: Store, record: CustomerMeter) -> Json:
    return {
        "id": record.id,
        "created_at": iso(record.created_at),
        "modified_at": iso(record.modified_at),
        "customer_id": record.customer_id,
        "meter_id": record.meter_id,
        "consumed_units": record.consumed_units,
        "credited_units": record.credited_units,
        "balance": record.balance,
        "customer": customer(store.customers[record.customer_id]),
        "meter": meter(store.meters[record.meter_id]),
    }


# Sessions and the portal --------------------------------------------------------------------


def customer_session(store: Store, record: CustomerSession) -> Json:
    owner = store.customers[record.customer_id]
    slug = store.organizations[owner.organization_id].slug
    url = f"https://polar.sh/{slug}/portal?customer_session_token={record.token}"
    if owner.email:
        url += f"&email={quote(owner.email, safe='')}"
    return {
        "created_at": iso(record.created_at),
        "modified_at": None,
        "id": record.id,
        "token": record.token,
        "expires_at": iso(record.expires_at),
        "return_url": record.return_url,
        "customer_portal_url": url,
        "customer_id": record.customer_id,
        "customer": customer(owner),
    }


def portal_customer(record: Customer) -> Json:
    """``CustomerPortalCustomer``: what the signed-in customer sees of themself."""
    return {
        "created_at": iso(record.created_at),
        "modified_at": iso(record.modified_at),
        "id": record.id,
        "email": record.email,
        "email_verified": record.email_verified,
        "name": record.name,
        "billing_name": record.billing_name if record.billing_name is not None else record.name,
        "billing_address": dict(record.billing_address) if record.billing_address else None,
        "tax_id": list(record.tax_id) if record.tax_id else None,
        "oauth_accounts": {},
        "default_payment_method_id": None,
        "type": record.type,
        "locale": record.locale,
    }


def order(store: Store, record: Order) -> Json:
    product_record = store.products[record.product_id]
    subscription_record = store.subscriptions.get(record.subscription_id or "")
    total = record.net_amount + record.tax_amount
    order_product: dict[str, Any] = {
        **_product_base(store, product_record),
        "benefits": [benefit_public(store.benefits[b]) for b in product_record.benefit_ids],
        "organization": organization(store.organization_of_product(product_record.id)),
    }
    return {
        "id": record.id,
        "created_at": iso(record.created_at),
        "modified_at": iso(record.modified_at),
        "status": record.status,
        "paid": record.status in {"paid", "refunded", "partially_refunded"},
        "subtotal_amount": record.subtotal_amount,
        "discount_amount": record.discount_amount,
        "net_amount": record.net_amount,
        "amount": record.net_amount,
        "tax_amount": record.tax_amount,
        "total_amount": total,
        "applied_balance_amount": 0,
        "from_balance_amount": 0,
        "due_amount": 0,
        "refunded_amount": record.refunded_amount,
        "refunded_tax_amount": record.refunded_tax_amount,
        "currency": record.currency,
        "billing_reason": record.billing_reason,
        "billing_name": record.billing_name,
        "billing_address": dict(record.billing_address) if record.billing_address else None,
        "invoice_number": record.invoice_number,
        "is_invoice_generated": False,
        "receipt_number": None,
        "seats": None,
        "units": None,
        "customer_id": record.customer_id,
        "product_id": record.product_id,
        "product_price_id": record.items[0].product_price_id if record.items else None,
        "discount_id": None,
        "subscription_id": record.subscription_id,
        "checkout_id": None,
        "next_payment_attempt_at": None,
        "product": order_product,
        "subscription": _subscription_core(subscription_record) if subscription_record else None,
        "items": [
            {
                "created_at": iso(item.created_at),
                "modified_at": None,
                "id": item.id,
                "label": item.label,
                "amount": item.amount,
                "tax_amount": item.tax_amount,
                "proration": False,
                "product_price_id": item.product_price_id,
                "start_timestamp": None,
                "end_timestamp": None,
            }
            for item in record.items
        ],
        "description": product_record.name,
        "refundable_amount": record.net_amount - record.refunded_amount,
        "refundable_tax_amount": record.tax_amount - record.refunded_tax_amount,
    }
