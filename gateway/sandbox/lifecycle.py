"""Test controls that change a customer's billing as Polar's own flows would, with the webhooks those flows send
(``server/polar/subscription/service.py``, ``server/polar/benefit/grant/service.py``):

- ``POST /__sandbox/checkout {customer_id, product_id, price_id?}``: a paid checkout. A recurring product starts
  an active subscription (``subscription.created``, ``subscription.active``) with its order; a one-time product
  makes an order. Then every benefit of the product is granted (``benefit_grant.created`` each).
- ``POST /__sandbox/cancel {subscription_id, immediately?, reason?}``: Polar's ``cancel`` (at the period's end:
  ``subscription.updated``, ``subscription.canceled``) or, with ``immediately``, its ``revoke`` (the subscription
  ends now: ``updated``, ``canceled``, ``revoked``, then ``benefit_grant.revoked`` for its grants).
- ``POST /__sandbox/grants {customer_id, benefit_id, granted, properties?}``: a benefit granted by hand
  (``benefit_grant.created``; ``benefit_grant.updated`` when already granted and ``properties`` change) or
  revoked (``benefit_grant.revoked`` for every grant of it the customer holds, whatever gave it).

Each ends with one ``customer.state_changed``, and answers with the records it changed and the event types
in the order they were sent. The writes show in ``/v1/customers/{id}/state``, the lists and the portal.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from . import render
from .billing import CANCELLATION_REASONS
from .controls import bad_request, json_object
from .events import Events
from .http import json_response
from .model import (
    LIST_ACTIVE_STATUSES,
    Benefit,
    BenefitGrant,
    Customer,
    Json,
    Order,
    OrderItem,
    Product,
    Subscription,
)
from .state import SandboxState, sandbox

_ALREADY_CANCELED = "This subscription is already canceled or will be at the end of the period."


def _not_found(what: str) -> web.Response:
    return web.json_response({"detail": f"{what} not found"}, status=404)


def _text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    return value if isinstance(value, str) else None


def _live_customer(state: SandboxState, customer_id: str | None) -> Customer | None:
    customer = state.store.customers.get(customer_id or "")
    return customer if customer is not None and customer.deleted_at is None else None


def _new_id() -> str:
    return str(uuid.uuid4())


def _grant_properties(benefit: Benefit) -> Json:
    """What a grant of the benefit holds: a license key's id and masked key, nothing for the other kinds."""
    if benefit.type == "license_keys":
        return {"license_key_id": _new_id(), "display_key": "****-" + _new_id()[:6]}
    return {}


# Checkout ------------------------------------------------------------------------------------


async def checkout(request: web.Request) -> web.Response:
    body = await json_object(request)
    if isinstance(body, str):
        return bad_request(body)
    state = sandbox(request)
    store = state.store
    customer = _live_customer(state, _text(body, "customer_id"))
    if customer is None:
        return _not_found("customer")
    product = store.products.get(_text(body, "product_id") or "")
    if product is None or product.organization_id != customer.organization_id:
        return _not_found("product of the customer's organization")
    price_id = _text(body, "price_id")
    price = next((p for p in product.prices if p.id == price_id), None) if price_id else product.prices[0]
    if price is None:
        return _not_found("price of the product")

    now = state.clock.now()
    events = Events(state, customer)
    subscription = None
    if product.recurring_interval is not None:
        period = timedelta(days=365 if product.recurring_interval == "year" else 30)
        subscription = Subscription(
            id=_new_id(),
            customer_id=customer.id,
            product_id=product.id,
            price_id=price.id,
            status="active",
            amount=price.amount,
            currency=price.currency,
            recurring_interval=product.recurring_interval,
            created_at=now,
            current_period_start=now,
            current_period_end=now + period,
            started_at=now,
        )
        store.add_subscription(subscription)
        order = _order(state, customer, product, price.id, price.amount, subscription.id, now)
        events.subscription("subscription.created", subscription)
        events.subscription("subscription.active", subscription)  # active from the start: both, in this order
    else:
        order = _order(state, customer, product, price.id, price.amount, None, now)
    grants = []
    for benefit_id in product.benefit_ids:
        grant = BenefitGrant(
            _new_id(),
            customer.id,
            benefit_id,
            now,
            now,
            _grant_properties(store.benefits[benefit_id]),
            subscription_id=subscription.id if subscription else None,
            order_id=None if subscription else order.id,
        )
        store.add_grant(grant)
        grants.append(grant)
        events.grant("benefit_grant.created", grant, {})
    events.state_changed()
    return json_response(
        {
            "subscription": render.subscription(store, subscription) if subscription else None,
            "order_id": order.id,
            "benefit_grants": [render.grant(store, grant) for grant in grants],
            "events": events.types,
        },
        status=201,
    )


def _order(
    state: SandboxState,
    customer: Customer,
    product: Product,
    price_id: str,
    amount: int,
    subscription_id: str | None,
    at: datetime,
) -> Order:
    """The paid order of a checkout, taxed as the seed's are (a fifth, with a billing address)."""
    tax = amount // 5 if customer.billing_address else 0
    number = len(state.store.orders) + 1
    order = Order(
        id=_new_id(),
        customer_id=customer.id,
        product_id=product.id,
        subscription_id=subscription_id,
        created_at=at,
        status="paid",
        billing_reason="subscription_create" if subscription_id else "purchase",
        subtotal_amount=amount,
        tax_amount=tax,
        currency="usd",
        billing_name=customer.billing_name or customer.name,
        billing_address=dict(customer.billing_address) if customer.billing_address else None,
        invoice_number=f"{customer.organization_id[:4].upper()}-{number:05d}",
        items=[OrderItem(_new_id(), at, product.name, amount, tax, price_id)],
    )
    state.store.add_order(order)
    return order


# Cancel --------------------------------------------------------------------------------------


def can_cancel(subscription: Subscription, immediately: bool) -> bool:
    """``Subscription.can_cancel``: a billable subscription not ended, not already set to end (unless ended now);
    a paused one can only be revoked."""
    if immediately and subscription.status == "paused":
        return subscription.ended_at is None
    if subscription.status not in LIST_ACTIVE_STATUSES or subscription.ended_at is not None:
        return False
    return immediately or not (subscription.cancel_at_period_end or subscription.ends_at)


async def cancel(request: web.Request) -> web.Response:
    body = await json_object(request)
    if isinstance(body, str):
        return bad_request(body)
    immediately = body.get("immediately", False)
    reason = body.get("reason")
    if not isinstance(immediately, bool):
        return bad_request("immediately must be true or false")
    if reason is not None and reason not in CANCELLATION_REASONS:
        return bad_request(f"reason must be null or one of {', '.join(CANCELLATION_REASONS)}")
    state = sandbox(request)
    subscription = state.store.subscriptions.get(_text(body, "subscription_id") or "")
    if subscription is None:
        return _not_found("subscription")
    if not can_cancel(subscription, immediately):
        return web.json_response({"detail": _ALREADY_CANCELED}, status=409)

    now = state.clock.now()
    subscription.canceled_at = subscription.modified_at = now
    if reason is not None:
        subscription.customer_cancellation_reason = reason
    revoked: list[BenefitGrant] = []
    if immediately:
        subscription.status = "canceled"
        subscription.ends_at = subscription.ended_at = now
        revoked = [
            grant
            for grant in state.store.grants_by_customer.get(subscription.customer_id, ())
            if grant.subscription_id == subscription.id and grant.is_granted
        ]
        for grant in revoked:
            grant.revoked_at = grant.modified_at = now
    else:
        subscription.cancel_at_period_end = True
        subscription.ends_at = subscription.current_period_end
    events = Events(state, state.store.customers[subscription.customer_id])
    events.subscription("subscription.updated", subscription)
    events.subscription("subscription.canceled", subscription)  # sent again when a canceled one is revoked
    if immediately:
        events.subscription("subscription.revoked", subscription)
    for grant in revoked:
        events.grant("benefit_grant.revoked", grant, grant.properties)
    events.state_changed()
    return json_response(
        {
            "subscription": render.subscription(state.store, subscription),
            "benefit_grants": [render.grant(state.store, grant) for grant in revoked],
            "events": events.types,
        }
    )


# Grants --------------------------------------------------------------------------------------


async def grants(request: web.Request) -> web.Response:
    body = await json_object(request)
    if isinstance(body, str):
        return bad_request(body)
    granted = body.get("granted")
    properties = body.get("properties")
    if not isinstance(granted, bool):
        return bad_request("granted must be true or false")
    if properties is not None and not isinstance(properties, dict):
        return bad_request("properties must be null or an object")
    state = sandbox(request)
    customer = _live_customer(state, _text(body, "customer_id"))
    if customer is None:
        return _not_found("customer")
    benefit = state.store.benefits.get(_text(body, "benefit_id") or "")
    if benefit is None or benefit.organization_id != customer.organization_id:
        return _not_found("benefit of the customer's organization")

    now = state.clock.now()
    events = Events(state, customer)
    held = [g for g in state.store.grants_by_customer.get(customer.id, ()) if g.benefit_id == benefit.id]
    changed: list[BenefitGrant] = []
    if granted:
        # A grant by hand has neither subscription nor order; Polar grants again the grant of the same scope.
        grant = next((g for g in held if g.subscription_id is None and g.order_id is None), None)
        if grant is None:
            grant = BenefitGrant(_new_id(), customer.id, benefit.id, now, now, properties or _grant_properties(benefit))
            state.store.add_grant(grant)
            events.grant("benefit_grant.created", grant, {})
            changed.append(grant)
        elif not grant.is_granted:
            previous = grant.properties
            grant.granted_at = grant.modified_at = now
            grant.revoked_at = None
            grant.properties = properties if properties is not None else previous
            events.grant("benefit_grant.created", grant, previous)
            changed.append(grant)
        elif properties is not None:
            previous = grant.properties
            grant.properties = properties
            grant.modified_at = now
            events.grant("benefit_grant.updated", grant, previous)
            changed.append(grant)
    else:
        for grant in held:
            if grant.is_granted and grant.deleted_at is None:
                grant.revoked_at = grant.modified_at = now
                events.grant("benefit_grant.revoked", grant, grant.properties)
                changed.append(grant)
    if changed:  # Polar returns early, sending nothing, for a grant already in the state asked for
        events.state_changed()
    return json_response(
        {"benefit_grants": [render.grant(state.store, grant) for grant in changed], "events": events.types}
    )


# Webhook settings and the delivery log -----------------------------------------------------------


async def get_webhook_settings(request: web.Request) -> web.Response:
    return json_response(sandbox(request).deliveries.settings.as_json())


async def set_webhook_settings(request: web.Request) -> web.Response:
    """``backoff_scale`` (retry delays times this), ``timeout_seconds`` (per attempt) and ``legacy_secrets``
    (generate Polar's older secrets); a reset puts back the values the sandbox started with."""
    body = await json_object(request)
    if isinstance(body, str):
        return bad_request(body)
    deliveries = sandbox(request).deliveries
    try:
        deliveries.settings = deliveries.settings.updated(body)
    except ValueError as error:
        return bad_request(str(error))
    return json_response(deliveries.settings.as_json())


async def delivery_log(request: web.Request) -> web.Response:
    """Every event sent or pending, oldest first, with its attempts; ``endpoint_id`` and ``type`` filter
    (repeatable). ``pending`` counts the events still waiting for an attempt or a retry."""
    query = request.query
    log = sandbox(request).deliveries.log(query.getall("endpoint_id", []), query.getall("type", []))
    return json_response(log)


def routes() -> list[web.RouteDef]:
    return [
        web.post("/__sandbox/checkout", checkout),
        web.post("/__sandbox/cancel", cancel),
        web.post("/__sandbox/grants", grants),
        web.get("/__sandbox/webhooks", get_webhook_settings),
        web.post("/__sandbox/webhooks", set_webhook_settings),
        web.get("/__sandbox/deliveries", delivery_log),
    ]
