"""The webhook events a write emits, with their ``data`` as Polar's webhook schemas render it.

Polar sends each from a background job (``customer.webhook``, ``SubscriptionService._send_webhook``,
``BenefitGrantService._send_webhook``) and debounces ``customer.state_changed`` per customer, so the several
enqueued by one checkout reach an endpoint as one. The sandbox renders each event when the write happens, sends
them in the order the write produced them, and ends every write with a single ``customer.state_changed``
carrying the state after the whole write.
"""

from __future__ import annotations

from collections.abc import Callable

from . import render
from .model import BenefitGrant, Customer, Json, Subscription
from .state import SandboxState

CUSTOMER_EVENTS = ("customer.created", "customer.updated", "customer.deleted")
SUBSCRIPTION_EVENTS = (
    "subscription.created",
    "subscription.active",
    "subscription.updated",
    "subscription.canceled",
    "subscription.revoked",
)
GRANT_EVENTS = ("benefit_grant.created", "benefit_grant.updated", "benefit_grant.revoked")
STATE_CHANGED = "customer.state_changed"


class Events:
    """The events of one write about one customer, sent as they are added."""

    def __init__(self, state: SandboxState, customer: Customer) -> None:
        self.state = state
        self.customer = customer
        self.types: list[str] = []

    def customer_event(self, event_type: str) -> None:
        assert event_type in CUSTOMER_EVENTS
        self._send(event_type, lambda: render.customer(self.customer))

    def subscription(self, event_type: str, subscription: Subscription) -> None:
        assert event_type in SUBSCRIPTION_EVENTS
        self._send(event_type, lambda: render.subscription(self.state.store, subscription))

    def grant(self, event_type: str, grant: BenefitGrant, previous_properties: Json) -> None:
        """``BenefitGrantWebhook``: the grant as the list gives it, and its properties before this change."""
        assert event_type in GRANT_EVENTS
        self._send(
            event_type,
            lambda: {**render.grant(self.state.store, grant), "previous_properties": dict(previous_properties)},
        )

    def state_changed(self) -> None:
        self._send(STATE_CHANGED, lambda: render.customer_state(self.state.store, self.customer))

    def _send(self, event_type: str, data: Callable[[], Json]) -> None:
        self.types.append(event_type)
        self.state.deliveries.emit(
            self.state.store, self.state.clock.now(), self.customer.organization_id, event_type, data
        )
