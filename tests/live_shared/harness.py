"""What the shared-live tests drive: the sandbox's webhook endpoint for the gateway, gateways that share a
Redis, a GraphQL-over-WebSocket subscriber (both protocols) on aiohttp's client, and the gateway's metrics.

Every wait is bounded: a subscriber's read, a metric awaited, a process's exit. Nothing is slept for a fixed
time to let something happen; the tests wait for what they can observe (a metric, a frame, a log entry).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
import httpx

from gateway.sandbox.deliveries import signer
from gateway.sandbox.seed import DEMO_TOKEN
from gateway.upstream.polar_webhooks import HANDLED_EVENTS
from tests.servers import GatewayProcess, SandboxProcess, gateway_process

WEBHOOK_ROUTE = "/webhooks/polar"
PLACEHOLDER_URL = "http://127.0.0.1:9/webhooks/polar"  # discard: nothing listens; replaced once the gateway runs
TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
EVENT_FIELDS = "type customerId externalId occurredAt customer { id name state { activeSubscriptions { id } } }"
CUSTOMERS_CHANGED = f"subscription {{ customersChanged {{ {EVENT_FIELDS} }} }}"
CUSTOMER_CHANGED = f"subscription Follow($id: ID!) {{ customerChanged(id: $id) {{ {EVENT_FIELDS} }} }}"
UPDATE_NAME = """mutation Rename($id: ID!, $name: String!) {
  customerUpdate(id: $id, input: {name: $name}) { customer { id name } userErrors { field message code } }
}"""
CUSTOMER = "query One($id: ID!) { customer(id: $id) { id name state { activeSubscriptions { id } } } }"
ACTIVE_CUSTOMER = "{ customers(filter: {active: true}, first: 1) { nodes { id externalId name } } }"
READ_S = 10.0  # the longest a subscriber waits for its next frame (a webhook arrives within a second)


# The sandbox's webhook endpoint ----------------------------------------------------------------


@dataclass
class Endpoint:
    """One endpoint of the Demo organization on the sandbox, for every event the gateway handles: made with a
    placeholder URL (the gateway needs its secret before it starts, the endpoint needs the gateway's port),
    then pointed at a running gateway."""

    sandbox: SandboxProcess
    id: str
    secret: str

    @classmethod
    def register(cls, sandbox: SandboxProcess) -> Endpoint:
        body = {"url": PLACEHOLDER_URL, "format": "raw", "events": list(HANDLED_EVENTS)}
        with _demo(sandbox) as client:
            response = client.post("/v1/webhooks/endpoints", json=body)
        assert response.status_code == 201, response.text
        made = response.json()
        return cls(sandbox, made["id"], made["secret"])

    def point_at(self, gateway: GatewayProcess) -> None:
        url = gateway.url + WEBHOOK_ROUTE
        with _demo(self.sandbox) as client:
            response = client.patch(f"/v1/webhooks/endpoints/{self.id}", json={"url": url})
        assert response.status_code == 200, response.text
        assert response.json()["url"] == url

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """The sandbox's delivery log for this endpoint, oldest first, with each event's attempts."""
        params: dict[str, str] = {"endpoint_id": self.id}
        if event_type is not None:
            params["type"] = event_type
        with self.sandbox.control() as control:
            response = control.get("/__sandbox/deliveries", params=params)
        response.raise_for_status()
        found: list[dict[str, Any]] = response.json()["events"]
        return found

    def first_attempt(self, event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        """The body and signature headers of ``event``'s first attempt, byte for byte: the body is logged as
        sent, and the signature is a function of the id, the attempt's second and the body (Standard
        Webhooks), made here with the sandbox's own signer."""
        sent_at = datetime.fromisoformat(event["attempts"][0]["at"].replace("Z", "+00:00"))
        headers = {
            "content-type": "application/json",
            "webhook-id": event["id"],
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": signer(self.secret).sign(event["id"], sent_at, event["payload"]),
        }
        return event["payload"].encode(), headers

    def signed(self, payload: dict[str, Any], webhook_id: str) -> tuple[bytes, dict[str, str]]:
        """A delivery of ``payload`` signed now with the endpoint's secret, as Polar would send it."""
        body = json.dumps(payload, separators=(",", ":"))
        now = datetime.now().astimezone()
        headers = {
            "content-type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signer(self.secret).sign(webhook_id, now, body),
        }
        return body.encode(), headers


def _demo(sandbox: SandboxProcess) -> httpx.Client:
    return httpx.Client(base_url=sandbox.url, headers={"Authorization": f"Bearer {DEMO_TOKEN}"}, timeout=10)


def wait_for_event(
    endpoint: Endpoint, predicate: Callable[[dict[str, Any]], bool], timeout: float = 15
) -> dict[str, Any]:
    """The first logged event of the endpoint for which ``predicate`` holds, polled until ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        events = endpoint.events()
        for event in events:
            if predicate(event):
                return event
        assert time.monotonic() < deadline, f"no such delivery within {timeout} s: {events}"
        time.sleep(0.05)


def answered(event: dict[str, Any]) -> list[int | None]:
    """The HTTP status of each attempt of a logged event (None: no answer)."""
    return [attempt["http_code"] for attempt in event["attempts"]]


# Gateways --------------------------------------------------------------------------------------


def live_env(endpoint: Endpoint, redis_url: str | None, **more: str) -> dict[str, str]:
    env = {"GATEWAY_POLAR_WEBHOOK_SECRET": endpoint.secret, **more}
    if redis_url is not None:
        env["GATEWAY_REDIS_URL"] = redis_url
    return env


@contextmanager
def gateways(count: int, sandbox: SandboxProcess, env: dict[str, str]) -> Iterator[list[GatewayProcess]]:
    """``count`` gateway processes on the sandbox, each with ``env``; stopped when the block ends."""
    with ExitStack() as stack:
        yield [stack.enter_context(gateway_process(sandbox.url, env=env)) for _ in range(count)]


def metric(gateway: GatewayProcess, name: str, labels: str = "") -> float:
    """One sample of the gateway's ``/metrics`` (0 when absent), such as ``gateway_live_subscribers``."""
    text = httpx.get(f"{gateway.url}/metrics", timeout=10).text
    selector = re.escape(name + (f"{{{labels}}}" if labels else ""))
    found = re.search(rf"^{selector} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def until_metric(
    gateway: GatewayProcess, name: str, wanted: Callable[[float], bool], labels: str = "", within_s: float = 10
) -> float:
    """Polls a metric until ``wanted`` holds, within ``within_s`` seconds."""
    deadline = time.monotonic() + within_s
    while True:
        value = await asyncio.to_thread(metric, gateway, name, labels)
        if wanted(value):
            return value
        assert time.monotonic() < deadline, f"{name}{{{labels}}} stayed at {value} for {within_s} s"
        await asyncio.sleep(0.05)


def graphql(gateway: GatewayProcess, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """One GraphQL request over HTTP with the demo token; the whole body (``data``, maybe ``errors``)."""
    response = httpx.post(
        gateway.graphql_url,
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {DEMO_TOKEN}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def data(gateway: GatewayProcess, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    body = graphql(gateway, query, variables)
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]
    return found


def rename(gateway: GatewayProcess, customer_id: str, name: str) -> None:
    """``customerUpdate`` through ``gateway``: the sandbox then sends ``customer.updated`` and
    ``customer.state_changed`` to the endpoint's URL."""
    payload = data(gateway, UPDATE_NAME, {"id": customer_id, "name": name})["customerUpdate"]
    assert payload["userErrors"] == [], payload
    assert payload["customer"]["name"] == name


def post_webhook(gateway: GatewayProcess, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(gateway.url + WEBHOOK_ROUTE, content=body, headers=headers, timeout=10)


# A subscriber ----------------------------------------------------------------------------------


class Closed(Exception):
    """The gateway closed the socket (``code`` and ``reason`` as it sent them)."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"socket closed: {code} {reason}")
        self.code = code
        self.reason = reason


class Subscriber:
    """One WebSocket connection to ``/graphql`` speaking ``graphql-transport-ws`` (or the legacy
    ``graphql-ws``), its token in ``connection_init``'s payload as graphql-ws and Apollo Client send it."""

    def __init__(self, session: aiohttp.ClientSession, socket: aiohttp.ClientWebSocketResponse, protocol: str) -> None:
        self.session = session
        self.socket = socket
        self.protocol = protocol
        self._ids = itertools.count(1)

    @classmethod
    async def connect(
        cls, gateway: GatewayProcess, token: str | None = DEMO_TOKEN, protocol: str = TRANSPORT_WS
    ) -> Subscriber:
        """Connected and acknowledged (``connection_ack``), within ``READ_S``."""
        session = aiohttp.ClientSession()
        try:
            socket = await session.ws_connect(
                gateway.graphql_url, protocols=(protocol,), timeout=aiohttp.ClientWSTimeout(ws_close=5)
            )
            assert socket.protocol == protocol
            subscriber = cls(session, socket, protocol)
            payload = {"Authorization": f"Bearer {token}"} if token is not None else {}
            await socket.send_str(json.dumps({"type": "connection_init", "payload": payload}))
            ack = await subscriber.receive()
            assert ack["type"] == "connection_ack", ack
        except BaseException:
            await session.close()
            raise
        return subscriber

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        """Starts an operation; its id. Nothing comes back until an event, an error or the end."""
        operation = str(next(self._ids))
        kind = "subscribe" if self.protocol == TRANSPORT_WS else "start"
        payload = {"query": query, "variables": variables or {}}
        await self.socket.send_str(json.dumps({"id": operation, "type": kind, "payload": payload}))
        return operation

    async def receive(self, within_s: float = READ_S) -> dict[str, Any]:
        """The next message; ``Closed`` when the gateway closes the socket; a failed test when nothing comes
        within ``within_s`` seconds."""
        message = await self.poll(within_s)
        assert message is not None, f"nothing from the gateway within {within_s} s"
        return message

    async def poll(self, within_s: float) -> dict[str, Any] | None:
        """The next message (pings answered, the legacy protocol's keep-alives skipped), or None when nothing
        comes within ``within_s`` seconds; ``Closed`` when the gateway closes the socket."""
        deadline = time.monotonic() + within_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                message = await self.socket.receive(timeout=left)
            except TimeoutError:
                return None
            if message.type is aiohttp.WSMsgType.TEXT:
                decoded: dict[str, Any] = json.loads(message.data)
                if decoded.get("type") == "ping":
                    await self.socket.send_str(json.dumps({"type": "pong"}))
                elif decoded.get("type") not in {"pong", "ka"}:
                    return decoded
            elif message.type in {aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED}:
                raise Closed(self.socket.close_code, str(message.extra or ""))
            else:
                raise AssertionError(f"unexpected frame {message.type!r}: {message.data!r}")

    async def event(self, within_s: float = READ_S) -> dict[str, Any]:
        """The next event's payload (``next``/``data``), failing on anything else."""
        message = await self.receive(within_s)
        assert message["type"] in {"next", "data"}, message
        payload: dict[str, Any] = message["payload"]
        assert "errors" not in payload, payload
        return payload

    async def closed(self, within_s: float = READ_S) -> tuple[Closed, list[dict[str, Any]]]:
        """Reads until the gateway closes the socket: what it said, and the messages that came before."""
        deadline = time.monotonic() + within_s
        seen: list[dict[str, Any]] = []
        while True:
            try:
                message = await self.poll(deadline - time.monotonic())
            except Closed as closed:
                return closed, seen
            assert message is not None, f"not closed within {within_s} s; received {seen}"
            seen.append(message)

    async def close(self) -> None:
        await self.socket.close()
        await self.session.close()


async def follow(gateway: GatewayProcess, query: str = CUSTOMERS_CHANGED, **variables: Any) -> Subscriber:
    """A subscriber of ``query`` on ``gateway``, returned once the gateway counts one more live subscription
    (events published from then on reach it)."""
    before = await asyncio.to_thread(metric, gateway, "gateway_live_subscribers")
    subscriber = await Subscriber.connect(gateway)
    await subscriber.subscribe(query, variables)
    await until_metric(gateway, "gateway_live_subscribers", lambda now: now >= before + 1)
    return subscriber
