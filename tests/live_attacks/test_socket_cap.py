"""Sockets per process: at most ``max_websocket_connections``, and never over half of ``max_connections``, so
that HTTP keeps room. Over it, the upgrade is answered ``503`` (with the setting named and ``Retry-After``)
while queries over HTTP go on; at once or in a row, with a token or without, on either protocol."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator

import aiohttp
import pytest

from gateway.graphql.view import TOO_MANY_SOCKETS
from gateway.sandbox.seed import DEMO_TOKEN
from tests.live_attacks.attack import assert_unharmed, holding, live_gateway, until_no_connections, upgrade_status
from tests.live_shared.harness import LEGACY_WS, TRANSPORT_WS, data
from tests.raw_http import connect, read_response, request
from tests.servers import GatewayProcess, SandboxProcess

CAP = 5
HALF_OF = 8  # max_connections of the second gateway: its cap is 4 whatever max_websocket_connections says
PROTOCOLS = (TRANSPORT_WS, LEGACY_WS)
UPGRADE_HEAD = [
    ("Upgrade", b"websocket"),
    ("Connection", b"Upgrade"),
    ("Sec-WebSocket-Version", b"13"),
    ("Sec-WebSocket-Key", b"dGhlIHNhbXBsZSBub25jZQ=="),
    ("Sec-WebSocket-Protocol", TRANSPORT_WS.encode()),
]


@pytest.fixture(scope="module")
def capped(sandbox_server: SandboxProcess) -> Iterator[GatewayProcess]:
    with live_gateway(sandbox_server, max_websocket_connections=CAP) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def halved(sandbox_server: SandboxProcess) -> Iterator[GatewayProcess]:
    with live_gateway(sandbox_server, max_connections=HALF_OF, max_websocket_connections=100) as gateway:
        yield gateway


def _cycle(count: int) -> list[str]:
    return list(itertools.islice(itertools.cycle(PROTOCOLS), count))


async def _query(gateway: GatewayProcess) -> None:
    found = await asyncio.to_thread(data, gateway, "{ customers(first: 2) { nodes { id } } }")
    assert len(found["customers"]["nodes"]) == 2


async def test_over_the_cap_upgrades_are_503_while_http_answers(capped: GatewayProcess) -> None:
    async with asyncio.timeout(60):
        async with holding(capped, _cycle(CAP)):
            for attempt in range(30):
                token = DEMO_TOKEN if attempt % 2 else None
                assert await upgrade_status(capped, PROTOCOLS[attempt % 2], token) == 503, attempt
                await _query(capped)
            refusals = await asyncio.gather(*(upgrade_status(capped, protocol) for protocol in _cycle(30)))
            assert set(refusals) == {503}
            await asyncio.gather(*(_query(capped) for _ in range(10)))
        await until_no_connections(capped)
        async with holding(capped, _cycle(CAP)):  # the places were given back
            assert await upgrade_status(capped) == 503
        assert_unharmed(capped)


async def test_the_refusal_names_the_setting(capped: GatewayProcess) -> None:
    """Read over a bare socket: a WebSocket client shows only the status."""
    async with asyncio.timeout(30):
        async with holding(capped, _cycle(CAP)):
            with connect(capped.url, 10) as connection:
                connection.sendall(request("GET", "/graphql", UPGRADE_HEAD))
                response = await asyncio.to_thread(read_response, connection, 10)
        assert response.status == 503
        assert response.headers.get("retry-after") == "5"
        assert TOO_MANY_SOCKETS in response.body.decode()
        assert_unharmed(capped)


async def test_upgrades_at_once_get_no_more_than_the_cap(capped: GatewayProcess) -> None:
    """Fifty upgrades sent together (none initialises): the count is taken before any of them is served."""
    async with asyncio.timeout(60):
        for _ in range(3):
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

                async def upgrade(protocol: str) -> aiohttp.ClientWebSocketResponse | int:
                    try:
                        return await session.ws_connect(capped.graphql_url, protocols=(protocol,))
                    except aiohttp.WSServerHandshakeError as refused:
                        return refused.status

                answers = await asyncio.gather(*(upgrade(protocol) for protocol in _cycle(50)))
                sockets = [answer for answer in answers if not isinstance(answer, int)]
                try:
                    assert len(sockets) == CAP, answers
                    assert {answer for answer in answers if isinstance(answer, int)} == {503}
                    await _query(capped)
                finally:
                    for socket_ in sockets:
                        await socket_.close()
            await until_no_connections(capped)
        assert_unharmed(capped)


async def test_sockets_are_at_most_half_of_max_connections(halved: GatewayProcess) -> None:
    async with asyncio.timeout(60):
        async with holding(halved, _cycle(HALF_OF // 2)):
            for attempt in range(20):
                assert await upgrade_status(halved, PROTOCOLS[attempt % 2]) == 503, attempt
                await _query(halved)
        await until_no_connections(halved)
        async with holding(halved, _cycle(HALF_OF // 2)):
            assert await upgrade_status(halved) == 503
            await _query(halved)
        assert_unharmed(halved)
