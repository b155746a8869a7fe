"""Redis killed mid-test and brought back on the same port, under a gateway that shares live events through it.

While it is away: the open subscription ends with a GraphQL error (a ``next`` with the error, then
``complete``), queries and mutations answer, a new subscription is refused with an error, and a webhook is
answered 503 (the sandbox's Polar then retries it). Once it is back, the gateway's listener reconnects by
itself: within a few seconds a new subscription works and gets the next change, and the delivery refused
meanwhile is taken on a retry."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from gateway.graphql.live import BUS_DOWN, BUS_LOST
from tests.live_shared.harness import (
    ACTIVE_CUSTOMER,
    CUSTOMER,
    CUSTOMERS_CHANGED,
    READ_S,
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
    until_metric,
    wait_for_event,
)
from tests.redis_server import RedisServer
from tests.servers import GatewayProcess, SandboxProcess

BACK_WITHIN_S = 10.0  # the listener retries every 2 s at most; generous for a loaded machine
CUSTOMERS_ROUTE = "GET /v1/customers/"  # how the sandbox counts the subscription's check with Polar
CHECK_LATENCY_MS = 3000  # Polar's answers held this long: Redis is killed while the check waits
RETRY_SCALE = 0.25  # the sandbox's retry delays: 0.5-1 s, then 1-2 s, 2-4 s ... instead of Polar's 2-4 s, 4-8 s


def _two_customers(gateway: GatewayProcess) -> tuple[str, str]:
    nodes = data(gateway, ACTIVE_CUSTOMER.replace("first: 1", "first: 2"))["customers"]["nodes"]
    return nodes[0]["id"], nodes[1]["id"]


def _updated_to(name: str) -> Callable[[dict[str, Any]], bool]:
    """Whether a logged event is a ``customer.updated`` to ``name`` that has been attempted."""

    def matches(event: dict[str, Any]) -> bool:
        renamed = json.loads(event["payload"])["data"]["name"] == name
        return event["type"] == "customer.updated" and renamed and bool(event["attempts"])

    return matches


async def _subscribe_when_back(
    gateway: GatewayProcess, within_s: float
) -> tuple[Subscriber, list[dict[str, Any]], float, int]:
    """Subscribes every 0.1 s until a subscription is taken rather than refused with an error: the gateway counts
    it live, or it already got an event (a retried delivery). The subscriber, the events it got meanwhile, how
    long it took and how many subscriptions were refused. Fails after ``within_s`` seconds."""
    started = time.monotonic()
    refused = 0
    subscriber = await Subscriber.connect(gateway)
    try:
        while True:
            await subscriber.subscribe(CUSTOMERS_CHANGED)
            while (answer := await subscriber.poll(0.1)) is None:  # the subscription is being checked with Polar
                if metric(gateway, "gateway_live_subscribers") == 1:
                    return subscriber, [], time.monotonic() - started, refused
                assert time.monotonic() - started < within_s, f"no answer to a subscription within {within_s} s"
            if answer["type"] == "next":
                return subscriber, [answer["payload"]], time.monotonic() - started, refused
            assert answer["type"] == "error", answer
            assert answer["payload"][0]["message"] == BUS_DOWN, answer
            refused += 1
            assert time.monotonic() - started < within_s, f"subscriptions still refused after {within_s} s"
            await asyncio.sleep(0.1)
    except BaseException:
        await subscriber.close()
        raise


async def test_redis_killed_and_restarted_mid_test(
    sandbox: SandboxProcess, endpoint: Endpoint, fresh_redis: RedisServer
) -> None:
    with sandbox.control() as control:
        control.post("/__sandbox/webhooks", json={"backoff_scale": RETRY_SCALE}).raise_for_status()
    with gateways(1, sandbox, live_env(endpoint, fresh_redis.url)) as (gateway,):
        endpoint.point_at(gateway)
        first, second = await asyncio.to_thread(_two_customers, gateway)
        subscriber = await follow(gateway)
        try:
            await asyncio.to_thread(rename, gateway, first, "Before the loss")
            assert (await subscriber.event())["data"]["customersChanged"]["customer"]["name"] == "Before the loss"
            assert (await subscriber.event())["data"]["customersChanged"]["type"] == "STATE_CHANGED"

            fresh_redis.kill()
            # The open subscription ends with an error, and the connection stays open.
            ended = await subscriber.receive()
            assert (ended["type"], ended["id"]) == ("next", "1"), ended
            assert ended["payload"]["data"] is None
            assert [(e["message"], e["extensions"]["code"]) for e in ended["payload"]["errors"]] == [
                (BUS_LOST, "UPSTREAM_UNAVAILABLE")
            ]
            assert await subscriber.receive() == {"id": "1", "type": "complete"}
            assert metric(gateway, "gateway_live_bus_up") == 0
            assert metric(gateway, "gateway_live_subscribers") == 0

            # A new subscription, on a new connection or on the same one, is refused with an error.
            newcomer = await Subscriber.connect(gateway)
            try:
                await newcomer.subscribe(CUSTOMERS_CHANGED)
                refused = await newcomer.receive()
                assert refused["type"] == "error", refused
                assert [(e["message"], e["extensions"]["code"]) for e in refused["payload"]] == [
                    (BUS_DOWN, "UPSTREAM_UNAVAILABLE")
                ]
            finally:
                await newcomer.close()
            await subscriber.subscribe(CUSTOMERS_CHANGED)
            assert (await subscriber.receive())["type"] == "error"

            # Queries and mutations answer; the webhook the mutation causes is answered 503 (Polar retries).
            assert (await asyncio.to_thread(data, gateway, CUSTOMER, {"id": first}))["customer"]["id"] == first
            await asyncio.to_thread(rename, gateway, second, "During the loss")
            refused_event = await asyncio.to_thread(wait_for_event, endpoint, _updated_to("During the loss"))
            assert answered(refused_event)[0] == 503
            # And so is one posted directly (a delivery never seen: deduplication cannot be asked).
            body, headers = endpoint.signed(json.loads(refused_event["payload"]), f"msg_{uuid.uuid4().hex}")
            direct = await asyncio.to_thread(post_webhook, gateway, body, headers)
            assert direct.status_code == 503, direct.text
            assert metric(gateway, "gateway_webhooks_total", 'outcome="unavailable"') >= 2
        finally:
            await subscriber.close()

        url = fresh_redis.url
        fresh_redis.start()
        assert fresh_redis.url == url  # the same port: the gateway keeps its URL
        back, early, took_s, refused_meanwhile = await _subscribe_when_back(gateway, BACK_WITHIN_S)
        try:
            assert metric(gateway, "gateway_live_bus_up") == 1
            await asyncio.to_thread(rename, gateway, first, "After the return")
            while True:  # the refused delivery's retries may come first: it is about the other customer
                change = (early.pop(0) if early else await back.event())["data"]["customersChanged"]
                if change["customerId"] == first:
                    break
                assert change["customerId"] == second, change
            assert (change["type"], change["customer"]["name"]) == ("UPDATED", "After the return")
        finally:
            await back.close()
        after = await asyncio.to_thread(wait_for_event, endpoint, _updated_to("After the return"))
        assert answered(after) == [202]  # taken at once: the gateway's Redis commands reconnected too
        retried = await asyncio.to_thread(
            wait_for_event, endpoint, lambda event: event["id"] == refused_event["id"] and 202 in answered(event)
        )
        *refusals, taken = answered(retried)
        assert (set(refusals), taken) == ({503}, 202)
        print(f"subscriptions back {took_s:.2f} s after Redis restarted ({refused_meanwhile} refused meanwhile)")


async def test_a_subscription_being_checked_when_redis_goes_away_ends_with_the_error(
    sandbox: SandboxProcess, fresh_redis: RedisServer
) -> None:
    """The subscription was checked with Polar (slow here) while the listener lost Redis: it joins the
    subscribers after they were all ended, and must end too, not wait silently for Redis to come back."""
    with gateways(1, sandbox, {"GATEWAY_REDIS_URL": fresh_redis.url}) as (gateway,):
        asked = sandbox.stats().get(CUSTOMERS_ROUTE, 0)
        with sandbox.control() as control:
            control.post("/__sandbox/faults", json={"latency_ms": CHECK_LATENCY_MS, "jitter_ms": 0}).raise_for_status()
        subscriber = await Subscriber.connect(gateway)
        try:
            await subscriber.subscribe(CUSTOMERS_CHANGED)
            deadline = time.monotonic() + 10
            while sandbox.stats().get(CUSTOMERS_ROUTE, 0) == asked:  # the check reached Polar, which holds it
                assert time.monotonic() < deadline, "the subscription was never checked with Polar"
                await asyncio.sleep(0.02)
            fresh_redis.kill()
            await until_metric(gateway, "gateway_live_bus_up", lambda up: up == 0)
            ended = await subscriber.receive(CHECK_LATENCY_MS / 1000 + READ_S)
            assert (ended["type"], ended["id"]) == ("next", "1"), ended
            assert [(e["message"], e["extensions"]["code"]) for e in ended["payload"]["errors"]] == [
                (BUS_LOST, "UPSTREAM_UNAVAILABLE")
            ]
            assert await subscriber.receive() == {"id": "1", "type": "complete"}
            assert metric(gateway, "gateway_live_subscribers") == 0
        finally:
            await subscriber.close()
