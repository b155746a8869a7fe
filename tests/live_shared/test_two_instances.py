"""Two gateway processes share one real Redis, as instances behind a load balancer do: the sandbox's Polar sends
its webhooks to gateway A only, and a subscriber of gateway B still gets every change, with the customer read
fresh when the event is sent; a delivery repeated to B after A took it is a duplicate (deduplication is in
Redis, not in either process) and reaches nobody twice."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import redis

from gateway.live.dedupe import KEY_PREFIX
from tests.live_shared.harness import (
    CUSTOMER,
    CUSTOMER_CHANGED,
    Endpoint,
    Subscriber,
    answered,
    data,
    follow,
    gateways,
    live_env,
    metric,
    post_webhook,
    rename,
    wait_for_event,
)
from tests.redis_server import RedisServer
from tests.servers import GatewayProcess, SandboxProcess

CANDIDATES = (
    "{ customers(filter: {active: true}, first: 50) { nodes { id externalId state { activeSubscriptions { id } } } } }"
)


def _active_customer_with_external_id(gateway: GatewayProcess) -> dict[str, Any]:
    """A customer with an external id and an active subscription in its state (so that neither is trivially
    empty in the events). Past-due subscriptions pass the list's ``active`` filter but are not in the state."""
    nodes = data(gateway, CANDIDATES)["customers"]["nodes"]
    found: dict[str, Any] = next(n for n in nodes if n["externalId"] and n["state"]["activeSubscriptions"])
    return found


async def _change(subscriber: Subscriber, field: str = "customersChanged") -> dict[str, Any]:
    change: dict[str, Any] = (await subscriber.event())["data"][field]
    return change


def _fresh(gateway: GatewayProcess, customer_id: str) -> dict[str, Any]:
    """The customer as a query reads it now."""
    found: dict[str, Any] = data(gateway, CUSTOMER, {"id": customer_id})["customer"]
    return found


async def test_a_webhook_taken_by_one_instance_reaches_subscribers_of_both(
    sandbox: SandboxProcess, endpoint: Endpoint, fresh_redis: RedisServer
) -> None:
    with gateways(2, sandbox, live_env(endpoint, fresh_redis.url)) as (a, b):
        endpoint.point_at(a)
        customer = await asyncio.to_thread(_active_customer_with_external_id, a)
        on_b = await follow(b)
        one_on_b = await follow(b, CUSTOMER_CHANGED, id=customer["id"])
        on_a = await follow(a)
        try:
            before = datetime.now().astimezone() - timedelta(seconds=1)
            await asyncio.to_thread(rename, a, customer["id"], "Renamed through A")
            now = await asyncio.to_thread(_fresh, a, customer["id"])
            assert now["name"] == "Renamed through A"
            assert now["state"]["activeSubscriptions"]
            for subscriber, field in (
                (on_b, "customersChanged"),
                (one_on_b, "customerChanged"),
                (on_a, "customersChanged"),
            ):
                updated = await _change(subscriber, field)
                assert updated["type"] == "UPDATED"
                assert updated["customerId"] == customer["id"]
                assert updated["externalId"] == customer["externalId"]
                assert datetime.fromisoformat(updated["occurredAt"]) >= before
                assert updated["customer"] == now  # read when sent: the new name, the state as it is
                state_changed = await _change(subscriber, field)
                assert (state_changed["type"], state_changed["customer"]) == ("STATE_CHANGED", now)
        finally:
            for subscriber in (on_b, one_on_b, on_a):
                await subscriber.close()
        # Only A was sent the webhooks; B's subscribers were fed through Redis.
        assert metric(a, "gateway_webhooks_total", 'outcome="accepted"') == 2
        assert metric(b, "gateway_webhooks_total", 'outcome="accepted"') == 0
        assert metric(b, "gateway_live_events_total") == metric(a, "gateway_live_events_total") == 2


async def test_a_delivery_repeated_to_the_other_instance_is_a_duplicate_delivered_once(
    sandbox: SandboxProcess, endpoint: Endpoint, fresh_redis: RedisServer
) -> None:
    with gateways(2, sandbox, live_env(endpoint, fresh_redis.url)) as (a, b):
        endpoint.point_at(a)
        customer = await asyncio.to_thread(_active_customer_with_external_id, a)
        on_b = await follow(b)
        try:
            await asyncio.to_thread(rename, a, customer["id"], "First name")
            assert (await _change(on_b))["customer"]["name"] == "First name"
            assert (await _change(on_b))["type"] == "STATE_CHANGED"
            taken = wait_for_event(endpoint, lambda event: event["type"] == "customer.updated" and event["attempts"])
            assert answered(taken) == [202]  # A took it, at the first attempt

            # The same signed delivery again, byte for byte, to the instance that never saw it.
            body, headers = endpoint.first_attempt(taken)
            repeated = await asyncio.to_thread(post_webhook, b, body, headers)
            assert (repeated.status_code, repeated.json()) == (202, {"outcome": "duplicate"})
            assert metric(b, "gateway_webhooks_total", 'outcome="duplicate"') == 1
            with redis.Redis.from_url(fresh_redis.url) as client:
                assert client.get(KEY_PREFIX + taken["id"])  # marked (with the instance's own mark)
                assert client.ttl(KEY_PREFIX + taken["id"]) > 0

            # Had B published it, it would be on the channel before the next change: the next event is that
            # change, not the first one again.
            await asyncio.to_thread(rename, a, customer["id"], "Second name")
            again = await _change(on_b)
            assert (again["type"], again["customer"]["name"]) == ("UPDATED", "Second name")
            assert (await _change(on_b))["type"] == "STATE_CHANGED"
        finally:
            await on_b.close()
        assert metric(b, "gateway_live_events_total") == 4  # two changes of two events each, none twice
        assert metric(b, "gateway_webhooks_total", 'outcome="accepted"') == 0
