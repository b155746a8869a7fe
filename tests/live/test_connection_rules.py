"""The rules of a WebSocket connection to ``/graphql``: its token (connectionParams or the upgrade's header, else
4403 with a reason), connections per token and per process, subscriptions per connection, subscriptions only,
text frames only, bounded frames, a bounded wait for ``connection_init``, and no socket for another origin."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp
import httpx
import pytest
from aiohttp import WSMsgType

from gateway.sandbox.seed import DEMO_TOKEN, OTHER_TOKEN
from tests.live.gateways import LiveGateway
from tests.live.helpers import CUSTOMERS_CHANGED, change, customers, joined, live_subscribers, rename, subscribed
from tests.live.ws_client import LEGACY_WS, TRANSPORT_WS, Closed, GraphQLSocket

PROTOCOLS = [TRANSPORT_WS, LEGACY_WS]


async def _refused_at_init(socket: GraphQLSocket, payload: dict[str, Any] | None) -> Closed:
    message: dict[str, Any] = {"type": "connection_init"}
    if payload is not None:
        message["payload"] = payload
    await socket.send(message)
    return await socket.closed()


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (None, "Authorization"),
        ({}, "Authorization"),
        ({"Authorization": ""}, "Bearer <token>"),
        ({"Authorization": "Bearer two words"}, "Bearer <token>"),
        ({"Authorization": "Basic ZGVtbzpkZW1v"}, "Bearer <token>"),
        ({"Authorization": DEMO_TOKEN}, "Bearer <token>"),
        ({"Authorization": 7}, "Bearer <token>"),
        ({"Authorization": f"Bearer {DEMO_TOKEN}", "authorization": f"Bearer {DEMO_TOKEN}"}, "one Authorization"),
    ],
    ids=["no-payload", "empty", "blank", "space-in-token", "basic", "no-scheme", "not-a-string", "twice"],
)
async def test_no_usable_token_closes_4403_with_a_reason(
    live_gateway: LiveGateway, protocol: str, payload: dict[str, Any] | None, reason: str
) -> None:
    async with live_gateway.socket(protocol) as socket:
        closed = await _refused_at_init(socket, payload)
    assert closed.code == 4403
    assert reason in closed.reason, closed.reason
    assert DEMO_TOKEN not in closed.reason


async def test_a_malformed_upgrade_header_closes_4403(live_gateway: LiveGateway) -> None:
    async with live_gateway.socket(headers={"Authorization": "Bearer not a token"}) as socket:
        closed = await _refused_at_init(socket, None)
    assert (closed.code, "Bearer <token>" in closed.reason) == (4403, True)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_the_token_may_come_in_the_upgrade_header(
    live_gateway: LiveGateway, http: httpx.AsyncClient, api: httpx.AsyncClient, protocol: str
) -> None:
    customer = (await customers(api, 1))[0]
    async with live_gateway.socket(protocol, headers={"Authorization": f"Bearer {DEMO_TOKEN}"}) as socket:
        await socket.init(None)
        operation = await socket.subscribe(CUSTOMERS_CHANGED)
        await subscribed(http, live_gateway, socket, operation, customer)
        await rename(http, live_gateway, customer["id"], "Header Token")
        assert change(await socket.event(operation))["customer"]["name"] == "Header Token"


async def test_connection_params_come_before_the_upgrade_header(
    live_gateway: LiveGateway, http: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    customer = (await customers(api, 1))[0]
    async with live_gateway.socket(headers={"Authorization": f"Bearer {OTHER_TOKEN}"}) as socket:
        await socket.init(DEMO_TOKEN)
        operation = await socket.subscribe(CUSTOMERS_CHANGED)
        await subscribed(http, live_gateway, socket, operation, customer)  # a Demo customer: the Demo token's


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_token_polar_refuses_is_closed_4403_at_connection_init(
    live_gateway: LiveGateway, protocol: str
) -> None:
    async with live_gateway.socket(protocol) as socket:
        closed = await _refused_at_init(socket, {"Authorization": "Bearer polar_oat_not_a_token_polar_knows"})
    assert closed.code == 4403
    assert "Polar refused" in closed.reason, closed.reason


async def _both_accepted(gateway: LiveGateway, token: str, within: float = 5.0) -> None:
    """Waits until two connections with ``token`` are acknowledged at once (a closed connection's place is given
    back once the gateway has seen it close); fails when they never are."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        refused: Closed | None = None
        async with gateway.socket() as first, gateway.socket() as second:
            try:
                await first.init(token)
                await second.init(token)
            except Closed as closed:
                refused = closed
        if refused is None:
            return
        assert refused.code == 4403, refused
        assert asyncio.get_running_loop().time() < deadline, (
            f"two connections of the token are refused after {within} s"
        )
        await asyncio.sleep(0.05)


async def test_connections_per_token_are_bounded(live_gateway_with: Callable[..., LiveGateway]) -> None:
    gateway = live_gateway_with(GATEWAY_MAX_CONNECTIONS_PER_TOKEN="2")
    await _both_accepted(gateway, DEMO_TOKEN)
    async with gateway.socket() as first, gateway.socket(LEGACY_WS) as second:
        await first.init(DEMO_TOKEN)
        await second.init(DEMO_TOKEN)
        async with gateway.socket() as third:
            closed = await _refused_at_init(third, {"Authorization": f"Bearer {DEMO_TOKEN}"})
        assert closed.code == 4403
        assert "max_connections_per_token" in closed.reason, closed.reason
        async with gateway.socket() as another_token:
            await another_token.init(OTHER_TOKEN)  # the bound is per token
    await _both_accepted(gateway, DEMO_TOKEN)  # closed, their places are back


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_repeated_connection_init_closes_4429_and_gives_back_the_sockets_place(
    live_gateway_with: Callable[..., LiveGateway], protocol: str
) -> None:
    """One ``connection_init`` a socket (graphql-ws, the legacy protocol, would acknowledge another): a second
    closes it, and its place in max_connections_per_token comes back once, not twice or never."""
    gateway = live_gateway_with(GATEWAY_MAX_CONNECTIONS_PER_TOKEN="2")
    await _both_accepted(gateway, DEMO_TOKEN)
    async with gateway.socket(protocol) as socket:
        await socket.init(DEMO_TOKEN)
        await socket.send({"type": "connection_init", "payload": {"Authorization": f"Bearer {DEMO_TOKEN}"}})
        closed = await socket.closed()
    assert closed.code == 4429
    await _both_accepted(gateway, DEMO_TOKEN)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_subscriptions_per_connection_are_bounded(
    live_gateway: LiveGateway, http: httpx.AsyncClient, api: httpx.AsyncClient, protocol: str
) -> None:
    customer = (await customers(api, 1))[0]
    before = await live_subscribers(http, live_gateway)
    async with live_gateway.socket(protocol) as socket:
        await socket.init(DEMO_TOKEN)
        operations = [await socket.subscribe(CUSTOMERS_CHANGED) for _ in range(10)]  # max_subscriptions_per_connection
        await joined(http, live_gateway, before + 10)
        over = await socket.subscribe(CUSTOMERS_CHANGED)
        errors = await socket.errors(over)
        assert "limit" in errors[0]["message"], errors
        await socket.complete(operations[0])
        if socket.legacy:
            await socket.ended(operations[0])  # graphql-ws confirms a stop
        deadline = asyncio.get_running_loop().time() + 5
        while await live_subscribers(http, live_gateway) > before + 9:  # the completed one has left
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.02)
        replacement = await socket.subscribe(CUSTOMERS_CHANGED)
        await joined(http, live_gateway, before + 10)
        await rename(http, live_gateway, customer["id"], "Ten At Once")
        results = [await socket.message() for _ in range(2 * 10)]  # updated and state_changed, to each of ten
        assert {m["id"] for m in results} == {*operations[1:], replacement}
        assert all("errors" not in m["payload"] for m in results), results


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize(
    "document",
    [
        "{ customers(first: 1) { totalCount } }",
        'mutation { customerUpdate(id: "00000000-0000-4000-8000-000000000000", input: {name: "x"}) { userErrors { message } } }',
        "query { __typename }",
    ],
    ids=["query", "mutation", "typename"],
)
async def test_only_subscriptions_run_over_the_socket(
    live_gateway: LiveGateway, http: httpx.AsyncClient, api: httpx.AsyncClient, protocol: str, document: str
) -> None:
    before = (await api.get("/__sandbox/stats")).json()["total"]
    async with live_gateway.socket(protocol) as socket:
        await socket.init(DEMO_TOKEN)
        operation = await socket.subscribe(document)
        errors = await socket.errors(operation)
        message = errors[0]["message"]
        assert "HTTP" in message or "not allowed" in message, errors  # graphql-ws' still says "... not allowed"
        assert (await api.get("/__sandbox/stats")).json()["total"] == before  # not run: no call to Polar
        # the socket still serves subscriptions
        customer = (await customers(api, 1))[0]
        subscription = await socket.subscribe(CUSTOMERS_CHANGED)
        await subscribed(http, live_gateway, socket, subscription, customer)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_every_frame_the_server_sends_is_text(
    live_gateway: LiveGateway, http: httpx.AsyncClient, api: httpx.AsyncClient, protocol: str
) -> None:
    """An ack, results, an error, a completion and the keep-alives: text frames, each one JSON object with a type
    (what graphql-ws clients need: they refuse binary frames)."""
    customer = (await customers(api, 1))[0]
    async with live_gateway.socket(protocol) as socket:
        await socket.init(DEMO_TOKEN)
        operation = await socket.subscribe(CUSTOMERS_CHANGED)
        await subscribed(http, live_gateway, socket, operation, customer)
        await rename(http, live_gateway, customer["id"], "Text Only")
        [await socket.event(operation) for _ in range(2)]
        failing = await socket.subscribe("{ __typename }")
        await socket.errors(failing)
        await socket.complete(operation)
        if socket.legacy:
            await socket.ended(operation)
        await socket.silent(1.5)  # graphql-ws sends a keep-alive every second meanwhile
        assert socket.frames, "no frame came"
        assert set(socket.frames) == {WSMsgType.TEXT}, socket.frames
        assert all(isinstance(m.get("type"), str) for m in socket.received)


async def test_a_frame_over_the_limit_closes_the_connection(live_gateway: LiveGateway) -> None:
    async with live_gateway.socket() as socket:
        await socket.init(DEMO_TOKEN)
        await socket.subscribe("subscription { customersChanged { type } }" + " " * (64 * 1024))
        closed = await socket.closed()
    assert closed.code == 1009  # message too big (websocket_max_message_bytes)


async def test_a_connection_without_connection_init_is_closed(live_gateway_with: Callable[..., LiveGateway]) -> None:
    gateway = live_gateway_with(GATEWAY_WEBSOCKET_INIT_TIMEOUT_S="0.5")
    async with gateway.socket() as socket:
        closed = await socket.closed()
    assert closed.code == 4408  # connection initialisation timeout


async def test_websocket_connections_per_process_are_bounded(
    live_gateway_with: Callable[..., LiveGateway],
) -> None:
    gateway = live_gateway_with(GATEWAY_MAX_WEBSOCKET_CONNECTIONS="2")
    async with gateway.socket() as first, gateway.socket() as second:
        await first.init(DEMO_TOKEN)
        await second.init(OTHER_TOKEN)
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            async with gateway.socket():
                pass
        assert refused.value.status == 503
    async with httpx.AsyncClient(timeout=10) as http:  # and plain requests are still served
        assert (await http.get(gateway.url + "/healthz")).status_code == 200


async def test_a_page_of_another_origin_gets_no_socket(live_gateway: LiveGateway) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        async with live_gateway.socket(headers={"Origin": "https://elsewhere.example"}):
            pass
    assert refused.value.status in (400, 403)
