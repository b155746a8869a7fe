"""Long-lived connections: a token Polar stops accepting ends its connection (4403) at the next revalidation; a
subscriber that falls behind is closed (1008) with its queue bounded, and the gateway goes on serving the others;
SIGTERM closes subscribers (1001) within the drain period."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
import time
from collections.abc import Callable
from typing import Any

import httpx

from gateway.sandbox.seed import DEMO_TOKEN
from tests.live.deliveries import customer_event
from tests.live.gateways import LiveGateway
from tests.live.helpers import (
    CUSTOMERS_CHANGED,
    OWN_CUSTOMER_CHANGED,
    change,
    customers,
    joined,
    live_subscribers,
    post_delivery,
    rename,
    session_token,
    subscribed,
)
from tests.live.ws_client import LEGACY_WS, connect
from tests.servers import SandboxProcess, gateway_process

SESSION_TTL_S = 3600  # the sandbox's customer sessions, like Polar's, last an hour
REVALIDATE = {"GATEWAY_SUBSCRIPTION_TOKEN_REVALIDATE_S": "0.5"}


async def _left(http: httpx.AsyncClient, gateway: LiveGateway, count: int, within: float = 5.0) -> None:
    """Waits until the hub holds at most ``count`` subscribers (those of closed connections have left it)."""
    deadline = asyncio.get_running_loop().time() + within
    while (now := await live_subscribers(http, gateway)) > count:
        assert asyncio.get_running_loop().time() < deadline, f"{now} subscribers still joined after {within} s"
        await asyncio.sleep(0.02)


async def test_a_token_polar_no_longer_accepts_closes_its_connection_with_4403(
    live_gateway_with: Callable[..., LiveGateway], http: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    gateway = live_gateway_with(**REVALIDATE)
    own, other = await customers(api, 2)
    token = await session_token(http, gateway, own["id"])
    before = await live_subscribers(http, gateway)
    async with gateway.socket() as session, gateway.socket(LEGACY_WS) as organization:
        await session.init(token)
        await organization.init(DEMO_TOKEN)
        session_op = await session.subscribe(OWN_CUSTOMER_CHANGED)
        organization_op = await organization.subscribe(CUSTOMERS_CHANGED)
        await subscribed(http, gateway, session, session_op, own)
        await subscribed(http, gateway, organization, organization_op, other)
        await session.silent(1.2)  # revalidated twice meanwhile, and still accepted

        # The session expires in Polar (its clock moves past the hour): the token is refused from now on.
        response = await api.post("/__sandbox/clock", json={"advance_seconds": SESSION_TTL_S + 60})
        assert response.status_code == 200, response.text
        closed = await session.closed(within=5)
        assert closed.code == 4403
        assert "no longer accepts" in closed.reason, closed.reason

        # The organization token's connection is untouched and still gets events.
        await rename(http, gateway, other["id"], "Still Live")
        assert change(await organization.event(organization_op))["customer"]["name"] == "Still Live"
        await _left(http, gateway, before + 1)  # the closed subscription has left the hub

    async with gateway.socket() as again:  # and the expired token gets no new connection
        await again.send({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        assert (await again.closed()).code == 4403


def _flood(customer: dict[str, Any], count: int) -> list[dict[str, Any]]:
    return [
        customer_event("customer.updated", customer["id"], customer["organization_id"], f"flood-{n}")
        for n in range(count)
    ]


async def _too_slow_total(http: httpx.AsyncClient, gateway: LiveGateway) -> float:
    text = (await http.get(gateway.url + "/metrics")).text
    for line in text.splitlines():
        if line.startswith('gateway_live_subscriptions_ended_total{reason="too_slow"}'):
            return float(line.split()[1])
    return 0.0


async def test_a_subscriber_that_falls_behind_is_closed_1008_and_the_gateway_serves_on(
    live_gateway_with: Callable[..., LiveGateway], http: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    """With ``subscription_queue_size`` 3: the subscriber stops reading while every event takes Polar 300 ms to
    resolve (its customer's state), and ten events come at once. Its queue overflows, it is closed with 1008; a
    subscriber that keeps up on the same gateway is not."""
    gateway = live_gateway_with(GATEWAY_SUBSCRIPTION_QUEUE_SIZE="3")
    customer = (await customers(api, 1))[0]
    too_slow_before = await _too_slow_total(http, gateway)
    before = await live_subscribers(http, gateway)
    async with gateway.socket() as slow:
        await slow.init(DEMO_TOKEN)
        operation = await slow.subscribe(CUSTOMERS_CHANGED)
        await subscribed(http, gateway, slow, operation, customer)

        faults = await api.post("/__sandbox/faults", json={"latency_ms": 300})
        assert faults.status_code == 200, faults.text
        for event in _flood(customer, 10):  # answered at once: a delivery is published, not resolved
            await post_delivery(http, gateway, event)
        closed = await slow.closed(within=10)
        assert closed.code == 1008
        assert "subscription_queue_size" in closed.reason, closed.reason
        results = [change(m["payload"]["data"]) for m in slow.received if m["type"] == "next"]
        flood = [event for event in results if event["externalId"].startswith("flood-")]
        assert len(flood) <= 1, flood  # the one being resolved when the queue overflowed, at most
    assert await _too_slow_total(http, gateway) == too_slow_before + 1
    await _left(http, gateway, before)

    # The gateway serves on: health, and a subscriber that keeps up gets every event of the same burst.
    await api.post("/__sandbox/faults", json={"latency_ms": 0})
    assert (await http.get(gateway.url + "/healthz")).status_code == 200
    async with gateway.socket() as steady:
        await steady.init(DEMO_TOKEN)
        operation = await steady.subscribe("subscription { customersChanged { externalId } }")
        await subscribed(http, gateway, steady, operation, customer)
        for event in _flood(customer, 3):
            await post_delivery(http, gateway, event)
        assert [change(await steady.event(operation))["externalId"] for _ in range(3)] == [
            "flood-0",
            "flood-1",
            "flood-2",
        ]


async def test_sigterm_closes_subscribers_with_1001_within_the_drain(
    http: httpx.AsyncClient, sandbox: SandboxProcess
) -> None:
    with gateway_process(sandbox.url, env={"GATEWAY_POLAR_WEBHOOK_SECRET": "whsec_" + "A" * 43 + "="}) as process:
        async with connect(process.graphql_url) as socket, connect(process.graphql_url, LEGACY_WS) as legacy:
            await socket.init(DEMO_TOKEN)
            await legacy.init(DEMO_TOKEN)
            await socket.subscribe(CUSTOMERS_CHANGED)
            await legacy.subscribe(CUSTOMERS_CHANGED)
            gateway = LiveGateway(sandbox, process, None, None)
            await joined(http, gateway, 2)
            started = time.monotonic()
            process.process.terminate()
            for subscriber in (socket, legacy):
                closed = await subscriber.closed(within=10)
                assert closed.code == 1001, closed
                assert "reconnect" in closed.reason, closed.reason
            exit_code = await asyncio.to_thread(process.process.wait, 15)
            assert exit_code == 0
            assert time.monotonic() - started < 20  # shutdown_grace_s: the sockets did not hold the drain


def _ws_frame(text: str) -> bytes:
    """One masked text frame, as a client sends it."""
    data, mask = text.encode(), os.urandom(4)
    size = bytes([0x80 | len(data)]) if len(data) < 126 else bytes([0x80 | 126]) + struct.pack("!H", len(data))
    return bytes([0x81]) + size + mask + bytes(byte ^ mask[n % 4] for n, byte in enumerate(data))


async def test_a_subscriber_that_reads_nothing_is_cut_off_at_once(
    live_gateway_with: Callable[..., LiveGateway], http: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    """A client that stops reading altogether (a 4 KB receive buffer, never read): the gateway's write to it
    blocks, so its subscription never comes back to its queue to learn it is over. The hub ends it when the
    queue overflows and its connection is closed from there, cut if the close cannot be sent: the
    subscriber leaves within seconds (not when the heartbeat gives up), and the gateway serves on."""
    gateway = live_gateway_with(GATEWAY_SUBSCRIPTION_QUEUE_SIZE="20", GATEWAY_WEBSOCKET_HEARTBEAT_S="120")
    customer = (await customers(api, 1))[0]
    big = {f"k{n}": "x" * 500 for n in range(50)}  # each frame about 26 KB: the buffers fill after a few
    assert (await api.patch(f"/v1/customers/{customer['id']}", json={"metadata": big})).status_code == 200
    before = await live_subscribers(http, gateway)
    too_slow_before = await _too_slow_total(http, gateway)
    host, port = gateway.url.removeprefix("http://").split(":")
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        raw.settimeout(5)
        raw.connect((host, int(port)))
        key = base64.b64encode(os.urandom(16)).decode()
        raw.sendall(
            f"GET /graphql HTTP/1.1\r\nHost: gateway\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws"
            "\r\n\r\n".encode()
        )
        assert b" 101 " in raw.recv(1024)
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {DEMO_TOKEN}"}}
        raw.sendall(_ws_frame(json.dumps(init)))
        query = "subscription { customersChanged { customer { metadata } } }"
        raw.sendall(_ws_frame(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}})))
        deadline = time.monotonic() + 10
        while await live_subscribers(http, gateway) != before + 1:
            assert time.monotonic() < deadline, "the raw subscriber never joined"
            await asyncio.sleep(0.05)
        for event in _flood(customer, 200):
            await post_delivery(http, gateway, event)
            if await _too_slow_total(http, gateway) > too_slow_before:
                break
        assert await _too_slow_total(http, gateway) == too_slow_before + 1
        await _left(http, gateway, before, within=5)
        assert (await http.get(gateway.url + "/healthz")).status_code == 200
    finally:
        raw.close()
