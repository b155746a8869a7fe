"""A change made in Polar itself (the sandbox's API, not the gateway) reaches the gateway only as the webhook the
sandbox delivers to instance A; B, which served the customer from the cache until then, reads the new data within
a second of the delivery (polled for at most 1.5 s), under every caller's token. The invalidation is counted
by A's metrics; B was sent nothing."""

from __future__ import annotations

import time
from typing import Any

from gateway.sandbox.seed import DEMO_READ_TOKEN, DEMO_TOKEN
from tests.cache.conftest import Pair
from tests.cache.harness import BY_EXTERNAL_ID, COLD_CUSTOMER, PERSON, Answer, Gateway, until

WITHIN_S = 1.5  # a webhook invalidates within 1 s of its arrival; it is delivered within milliseconds


def _served_from_cache(gateway: Gateway, customer_id: str, token: str = DEMO_TOKEN) -> dict[str, Any]:
    """Read once (cold), then again from the cache: the customer as it is now."""
    cold = gateway.customer(customer_id, token=token)
    assert cold.cost > 0
    warm = gateway.customer(customer_id, token=token)
    assert warm.polar == {}
    found: dict[str, Any] = warm.data["customer"]
    return found


def _until_read(gateway: Gateway, customer_id: str, wanted: Any, token: str = DEMO_TOKEN) -> Answer:
    """Reads the customer until it is ``wanted`` (polled for at most ``WITHIN_S``); that first answer."""

    def probe() -> Answer | None:
        answer = gateway.customer(customer_id, token=token)
        return answer if answer.data["customer"] == wanted else None

    return until(probe, WITHIN_S, f"{customer_id} read as {wanted} on {gateway.url}")


def _accepted(pair: Pair, event_type: str) -> list[int | None]:
    """The HTTP answers of A to the deliveries of ``event_type`` so far."""
    assert pair.endpoint_id is not None
    return [
        attempt["http_code"]
        for event in pair.polar.deliveries(pair.endpoint_id)
        if event["type"] == event_type
        for attempt in event["attempts"]
    ]


def test_a_change_in_polar_reaches_the_other_instance_within_a_second(pair: Pair) -> None:
    customer_id = pair.polar.by_external_id(PERSON)["id"]
    before = _served_from_cache(pair.b, customer_id)
    invalidations = pair.a.metric("gateway_cache_invalidations_total", 'cause="webhook"')

    pair.polar.rename(customer_id, "Renamed in Polar")
    started = time.monotonic()
    fresh = _until_read(pair.b, customer_id, {**before, "name": "Renamed in Polar"})
    print(f"B read the change {time.monotonic() - started:.3f} s after Polar made it")
    assert fresh.polar == COLD_CUSTOMER  # the first fresh read: the customer and its state, both invalidated

    assert _accepted(pair, "customer.updated") == [202]
    assert pair.a.metric("gateway_cache_invalidations_total", 'cause="webhook"') > invalidations
    assert pair.b.metric("gateway_webhooks_total", 'outcome="accepted"') == 0  # B heard of it through Redis only


def test_a_webhook_invalidates_under_every_token_in_every_instance(pair: Pair) -> None:
    customer_id = pair.polar.by_external_id(PERSON)["id"]
    before = {token: _served_from_cache(pair.a, customer_id, token) for token in (DEMO_TOKEN, DEMO_READ_TOKEN)}
    readers = [(gateway, token) for gateway in (pair.a, pair.b) for token in (DEMO_TOKEN, DEMO_READ_TOKEN)]
    for gateway, token in readers:  # each token's entries, one per token, served by both instances
        assert gateway.customer(customer_id, token=token).polar == {}

    pair.polar.rename(customer_id, "Renamed for everyone")
    first_fresh_cost: dict[str, int] = {}
    for gateway, token in readers:
        fresh = _until_read(gateway, customer_id, {**before[token], "name": "Renamed for everyone"}, token)
        first_fresh_cost.setdefault(token, fresh.cost)  # B may then find what A has just read afresh
    assert all(cost > 0 for cost in first_fresh_cost.values()), first_fresh_cost


def test_a_subscription_revoked_in_polar_shows_in_the_cached_state(pair: Pair) -> None:
    """Subscription and benefit-grant events carry the customer's id: its cached state ends with them."""
    customer_id = pair.polar.by_external_id(PERSON)["id"]
    before = _served_from_cache(pair.b, customer_id)
    active = pair.polar.active_subscriptions(customer_id)
    assert sorted(s["id"] for s in before["state"]["activeSubscriptions"]) == sorted(active)
    assert len(active) == 2

    pair.polar.revoke_subscription(active[0])
    remaining = [s for s in before["state"]["activeSubscriptions"] if s["id"] != active[0]]
    fresh = _until_read(pair.b, customer_id, {**before, "state": {"activeSubscriptions": remaining}})
    assert fresh.cost > 0


def test_a_customer_deleted_in_polar_is_gone_from_the_other_instance(pair: Pair) -> None:
    customer_id = pair.polar.by_external_id(PERSON)["id"]
    _served_from_cache(pair.b, customer_id)
    by_external = pair.b.ask(BY_EXTERNAL_ID, {"externalId": PERSON})
    assert by_external.data["customer"]["id"] == customer_id
    assert pair.b.ask(BY_EXTERNAL_ID, {"externalId": PERSON}).polar == {}

    response = pair.polar.http.delete(f"/v1/customers/{customer_id}")
    assert response.status_code == 204, response.text
    _until_read(pair.b, customer_id, None)
    assert pair.b.ask(BY_EXTERNAL_ID, {"externalId": PERSON}).data == {"customer": None}
