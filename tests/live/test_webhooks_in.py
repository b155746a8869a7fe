"""``POST /webhooks/polar`` on a real gateway process: deliveries signed as Polar signs them are accepted and reach
subscribers; refused ones (signature, timestamp, headers, body, size) get 403, 400 or 413 and nothing of them
reaches a subscriber; a repeated ``webhook-id`` is accepted once; an event about something else is ignored.

Nothing reaching a subscriber is shown by order, not by waiting: refused deliveries go first, then an accepted
one (the sentinel), and the subscriber's next message must be the sentinel."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from gateway.sandbox.seed import DEMO_TOKEN
from tests import raw_http
from tests.live.deliveries import Delivery, customer_event, envelope, subscription_event
from tests.live.gateways import WEBHOOK_ROUTE, LiveGateway
from tests.live.helpers import CUSTOMERS_CHANGED, change, customers, post_delivery, subscribed
from tests.live.ws_client import GraphQLSocket

MAX_BYTES = 1_000_000  # webhook_max_bytes' default


@pytest.fixture
async def customer(api: httpx.AsyncClient) -> dict[str, Any]:
    """A customer of the Demo organization (whose endpoint delivers to the gateway)."""
    return (await customers(api, 1))[0]


@pytest.fixture
async def watcher(
    live_gateway: LiveGateway, http: httpx.AsyncClient, customer: dict[str, Any]
) -> AsyncIterator[tuple[GraphQLSocket, str]]:
    """A live ``customersChanged`` subscriber of the Demo organization, and its operation id."""
    async with live_gateway.socket() as socket:
        await socket.init(DEMO_TOKEN)
        operation = await socket.subscribe(CUSTOMERS_CHANGED)
        await subscribed(http, live_gateway, socket, operation, customer)
        yield socket, operation


async def _next_is_sentinel(
    http: httpx.AsyncClient, gateway: LiveGateway, watcher: tuple[GraphQLSocket, str], customer: dict[str, Any]
) -> None:
    """Delivers a sentinel; the subscriber's next message is it (so nothing before it reached the subscriber)."""
    socket, operation = watcher
    marker = f"sentinel-{uuid.uuid4().hex[:8]}"
    await post_delivery(
        http, gateway, customer_event("customer.updated", customer["id"], customer["organization_id"], marker)
    )
    event = change(await socket.event(operation))
    assert event["externalId"] == marker, event


async def test_a_signed_delivery_is_accepted_and_reaches_the_subscriber(
    live_gateway: LiveGateway, http: httpx.AsyncClient, watcher: tuple[GraphQLSocket, str], customer: dict[str, Any]
) -> None:
    socket, operation = watcher
    at = datetime(2026, 11, 30, 12, 0, 1, tzinfo=UTC)
    event = envelope(
        "customer.updated",
        {"id": customer["id"], "organization_id": customer["organization_id"], "external_id": "ext-accepted"},
        at=at,
    )
    body, headers = live_gateway.delivery().signed(event)
    response = await http.post(live_gateway.webhook_url, content=body, headers=headers)
    assert response.status_code == 202
    assert response.json() == {"outcome": "accepted"}
    assert response.elapsed < timedelta(seconds=1)  # Polar's expectation
    received = change(await socket.event(operation))
    assert received["type"] == "UPDATED"
    assert received["customerId"] == customer["id"]
    assert received["externalId"] == "ext-accepted"  # as the event carries it
    assert datetime.fromisoformat(received["occurredAt"]) == at
    assert received["customer"]["id"] == customer["id"]  # read from Polar when sent


def _other_secret() -> str:
    return "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="  # 32 bytes, not the endpoint's


def _refusals() -> Iterator[Any]:
    """(name, expected status, how to make the request from (delivery, event))."""

    def wrong_secret(delivery: Delivery, event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        return Delivery(_other_secret()).signed(event)

    def tampered_body(delivery: Delivery, event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        body, headers = delivery.signed(event)
        return body.replace(b"someone", b"SOMEONE"), headers

    def other_id(delivery: Delivery, event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        body, headers = delivery.signed(event)
        return body, {**headers, "webhook-id": "msg_" + uuid.uuid4().hex}

    def garbage_signature(delivery: Delivery, event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        body, headers = delivery.signed(event)
        return body, {**headers, "webhook-signature": "v1,not*base64"}

    def stale(delivery: Delivery, event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        return delivery.signed(event, at=datetime.now(UTC) - timedelta(minutes=6))

    def future(delivery: Delivery, event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        return delivery.signed(event, at=datetime.now(UTC) + timedelta(minutes=6))

    def unreadable_timestamp(delivery: Delivery, event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        body, headers = delivery.signed(event)
        return body, {**headers, "webhook-timestamp": "yesterday"}

    def without(name: str) -> Callable[[Delivery, dict[str, Any]], tuple[bytes, dict[str, str]]]:
        def make(delivery: Delivery, event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
            body, headers = delivery.signed(event)
            return body, {k: v for k, v in headers.items() if k != name}

        return make

    def not_json(delivery: Delivery, event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        return delivery.signed(b"customer.updated, but not JSON")

    def not_utf8(delivery: Delivery, event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        body = b'{"type": "customer.updated", "data": "\xff"}'
        headers = delivery.headers(b"")  # a signature of something else: bytes that are not text never verify
        return body, headers

    def without_customer(delivery: Delivery, event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        return delivery.signed({"type": "customer.updated", "timestamp": event["timestamp"], "data": {"name": "x"}})

    def without_data(delivery: Delivery, event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        return delivery.signed({"type": "subscription.active", "timestamp": event["timestamp"]})

    def subscription_without_customer(delivery: Delivery, event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        data = {"id": str(uuid.uuid4()), "customer_id": event["data"]["id"]}
        return delivery.signed({"type": "subscription.active", "timestamp": event["timestamp"], "data": data})

    def type_not_text(delivery: Delivery, event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        return delivery.signed({**event, "type": 7})

    def a_list(delivery: Delivery, event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        return delivery.signed(json.dumps([event]).encode())

    yield pytest.param(403, wrong_secret, id="signed-with-another-secret")
    yield pytest.param(403, tampered_body, id="body-changed-after-signing")
    yield pytest.param(403, other_id, id="webhook-id-changed-after-signing")
    yield pytest.param(403, garbage_signature, id="signature-not-base64")
    yield pytest.param(403, stale, id="timestamp-6-minutes-old")
    yield pytest.param(403, future, id="timestamp-6-minutes-ahead")
    yield pytest.param(403, unreadable_timestamp, id="timestamp-not-a-number")
    for header in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        yield pytest.param(403, without(header), id=f"without-{header}")
    yield pytest.param(403, not_utf8, id="body-not-utf8")
    yield pytest.param(400, not_json, id="signed-not-json")
    yield pytest.param(400, without_customer, id="signed-customer-event-without-customer")
    yield pytest.param(400, without_data, id="signed-subscription-event-without-data")
    yield pytest.param(400, subscription_without_customer, id="signed-subscription-event-without-customer")
    yield pytest.param(400, type_not_text, id="signed-type-not-a-string")
    yield pytest.param(400, a_list, id="signed-json-list")


@pytest.mark.parametrize(("status", "make"), list(_refusals()))
async def test_a_refused_delivery_reaches_no_subscriber(
    live_gateway: LiveGateway,
    http: httpx.AsyncClient,
    watcher: tuple[GraphQLSocket, str],
    customer: dict[str, Any],
    status: int,
    make: Callable[[Delivery, dict[str, Any]], tuple[bytes, dict[str, str]]],
) -> None:
    event = customer_event("customer.updated", customer["id"], customer["organization_id"], "xq7-echo")
    body, headers = make(live_gateway.delivery(), event)
    response = await http.post(live_gateway.webhook_url, content=body, headers=headers)
    assert response.status_code == status, response.text
    assert "xq7-echo" not in response.text  # nothing of the delivery is echoed
    await _next_is_sentinel(http, live_gateway, watcher, customer)
    assert "xq7-echo" not in live_gateway.log()  # nor logged


async def test_a_refused_delivery_is_not_remembered(
    live_gateway: LiveGateway, http: httpx.AsyncClient, watcher: tuple[GraphQLSocket, str], customer: dict[str, Any]
) -> None:
    """A forged delivery that reuses a webhook-id does not make Polar's real one a duplicate."""
    socket, operation = watcher
    event = customer_event("customer.updated", customer["id"], customer["organization_id"], "real")
    body, headers = live_gateway.delivery().signed(event)
    forged = await http.post(
        live_gateway.webhook_url,
        content=body,
        headers={**headers, "webhook-signature": Delivery(_other_secret()).signed(event)[1]["webhook-signature"]},
    )
    assert forged.status_code == 403
    real = await http.post(live_gateway.webhook_url, content=body, headers=headers)
    assert (real.status_code, real.json()) == (202, {"outcome": "accepted"})
    assert change(await socket.event(operation))["externalId"] == "real"


def _post_oversize(url: str, body: bytes, headers: dict[str, str], chunked: bool) -> raw_http.RawResponse:
    """Sends ``body`` until the gateway answers (it answers 413 and closes without reading it all: an HTTP client
    library fails writing the rest, so a bare socket sends it)."""
    fields = [(name, value.encode()) for name, value in headers.items()]
    if chunked:
        fields.append(("Transfer-Encoding", b"chunked"))
    else:
        fields.append(("Content-Length", str(len(body)).encode()))
    with raw_http.connect(url) as connection:
        connection.sendall(raw_http.request("POST", WEBHOOK_ROUTE, fields))
        with contextlib.suppress(OSError):  # the gateway may close once it has seen enough
            for start in range(0, len(body), 64 * 1024):
                piece = body[start : start + 64 * 1024]
                connection.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            if chunked:
                connection.sendall(b"0\r\n\r\n")
        return raw_http.read_response(connection)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_an_oversize_delivery_is_413(
    live_gateway: LiveGateway,
    http: httpx.AsyncClient,
    watcher: tuple[GraphQLSocket, str],
    customer: dict[str, Any],
    chunked: bool,
) -> None:
    event = customer_event("customer.updated", customer["id"], customer["organization_id"], "oversize")
    event["data"]["metadata"] = {"padding": "x" * MAX_BYTES}
    body, headers = live_gateway.delivery().signed(event)
    assert len(body) > MAX_BYTES
    response = await asyncio.to_thread(_post_oversize, live_gateway.url, body, headers, chunked)
    assert response.status == 413
    assert b"webhook_max_bytes" in response.body or str(MAX_BYTES).encode() in response.body
    await _next_is_sentinel(http, live_gateway, watcher, customer)


async def test_a_repeated_webhook_id_is_accepted_once(
    live_gateway: LiveGateway, http: httpx.AsyncClient, watcher: tuple[GraphQLSocket, str], customer: dict[str, Any]
) -> None:
    socket, operation = watcher
    event = customer_event("customer.updated", customer["id"], customer["organization_id"], "once")
    body, headers = live_gateway.delivery().signed(event)
    first = await http.post(live_gateway.webhook_url, content=body, headers=headers)
    assert (first.status_code, first.json()) == (202, {"outcome": "accepted"})
    # Polar's retry: the same id, signed again at a later second
    again_body, again_headers = live_gateway.delivery().signed(event, webhook_id=headers["webhook-id"])
    for repeat in ((body, headers), (again_body, again_headers)):
        response = await http.post(live_gateway.webhook_url, content=repeat[0], headers=repeat[1])
        assert (response.status_code, response.json()) == (202, {"outcome": "duplicate"})
    assert change(await socket.event(operation))["externalId"] == "once"
    await _next_is_sentinel(http, live_gateway, watcher, customer)


@pytest.mark.parametrize("event_type", ["order.paid", "checkout.created", "benefit.updated", "organization.updated"])
async def test_an_event_not_about_a_customer_is_ignored(
    live_gateway: LiveGateway,
    http: httpx.AsyncClient,
    watcher: tuple[GraphQLSocket, str],
    customer: dict[str, Any],
    event_type: str,
) -> None:
    event = subscription_event(event_type, customer["id"], customer["organization_id"], "ignored")
    body, headers = live_gateway.delivery().signed(event)
    response = await http.post(live_gateway.webhook_url, content=body, headers=headers)
    assert (response.status_code, response.json()) == (202, {"outcome": "ignored"})
    await _next_is_sentinel(http, live_gateway, watcher, customer)


@pytest.mark.parametrize(
    ("event_type", "kind"),
    [
        ("customer.created", "CREATED"),
        ("customer.state_changed", "STATE_CHANGED"),
        ("subscription.active", "STATE_CHANGED"),
        ("subscription.revoked", "STATE_CHANGED"),
        ("benefit_grant.created", "STATE_CHANGED"),
        ("benefit_grant.revoked", "STATE_CHANGED"),
    ],
)
async def test_each_event_family_reaches_the_subscriber(
    live_gateway: LiveGateway,
    http: httpx.AsyncClient,
    watcher: tuple[GraphQLSocket, str],
    customer: dict[str, Any],
    event_type: str,
    kind: str,
) -> None:
    socket, operation = watcher
    make = customer_event if event_type.startswith("customer.") else subscription_event
    await post_delivery(http, live_gateway, make(event_type, customer["id"], customer["organization_id"], "family"))
    received = change(await socket.event(operation))
    assert (received["type"], received["customerId"], received["externalId"]) == (kind, customer["id"], "family")
    assert received["customer"]["id"] == customer["id"]


async def test_a_deleted_customer_event_has_no_customer(
    live_gateway: LiveGateway, http: httpx.AsyncClient, watcher: tuple[GraphQLSocket, str], customer: dict[str, Any]
) -> None:
    socket, operation = watcher
    await post_delivery(
        http, live_gateway, customer_event("customer.deleted", customer["id"], customer["organization_id"])
    )
    received = change(await socket.event(operation))
    assert (received["type"], received["customerId"], received["customer"]) == ("DELETED", customer["id"], None)


async def test_a_gateway_without_a_secret_answers_503(
    live_gateway_with: Callable[..., LiveGateway], http: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    gateway = live_gateway_with(with_secret=False)
    customer = (await customers(api, 1))[0]
    body, headers = Delivery(_other_secret()).signed(
        customer_event("customer.updated", customer["id"], customer["organization_id"])
    )
    response = await http.post(gateway.webhook_url, content=body, headers=headers)
    assert response.status_code == 503
    assert "polar_webhook_secret" in response.text
