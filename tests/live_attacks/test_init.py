"""``connection_init``, on the legacy ``graphql-ws`` protocol above all: it had no deadline (sockets that never
initialised held their place for ever) and could be repeated, each repetition starting a keep-alive task that
outlived the socket (300,000 of them kept 67% of a core busy with nobody connected). Now both protocols close a
socket with no ``connection_init`` within ``websocket_init_timeout_s`` (4408), whatever else it sends, and a
second one closes it (4429); a flood of them leaves the process idle once the sockets are gone."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from aiohttp import ClientConnectionResetError

from gateway.graphql.websocket import CLOSE_INIT_TIMEOUT, CLOSE_TOO_MANY_INITS, INIT_TIMEOUT
from gateway.sandbox.seed import DEMO_TOKEN
from tests.live_attacks.attack import (
    assert_unharmed,
    idle_cpu_seconds,
    live_gateway,
    open_socket,
    send_init,
    until_no_connections,
)
from tests.live_shared.harness import LEGACY_WS, TRANSPORT_WS, Subscriber
from tests.servers import GatewayProcess, SandboxProcess

INIT_TIMEOUT_S = 0.5
TOO_MANY_INITS = "Too many initialisation requests"
IDLE_CPU_S = 0.3  # over 2 s with nobody connected: a bound on a runaway loop, not a speed test


@pytest.fixture(scope="module")
def gateway(sandbox_server: SandboxProcess) -> Iterator[GatewayProcess]:
    """The message rate out of the way: each frame of these tests must reach the protocol's handler."""
    with live_gateway(
        sandbox_server, websocket_init_timeout_s=INIT_TIMEOUT_S, websocket_messages_per_s=1_000_000
    ) as gateway:
        yield gateway


def _chatter(protocol: str, kind: int) -> str | None:
    """What a socket that never initialises sends meanwhile (None: nothing at all)."""
    if kind == 0:
        return None
    if protocol == TRANSPORT_WS:
        return json.dumps({"type": "ping"})  # answered before connection_init, as the protocol says
    return [json.dumps({"type": "ka"}), json.dumps({"type": "stop", "id": "1"}), "not json"][kind % 3]


async def _never_initialising(gateway: GatewayProcess, protocol: str, kind: int) -> None:
    subscriber = await open_socket(gateway, protocol)
    chatter = _chatter(protocol, kind)
    try:

        async def talk() -> None:
            while chatter is not None:
                await subscriber.socket.send_str(chatter)
                await asyncio.sleep(0.05)

        talking = asyncio.create_task(talk())
        try:
            closed, _ = await subscriber.closed()
        finally:
            talking.cancel()
            await asyncio.gather(talking, return_exceptions=True)
    finally:
        await subscriber.close()
    assert (closed.code, closed.reason) == (CLOSE_INIT_TIMEOUT, INIT_TIMEOUT), (protocol, chatter)


async def _repeating_init(gateway: GatewayProcess, protocol: str, times: int) -> None:
    """``times`` connection_init, as fast as the socket takes them; the first is acknowledged, the socket is
    closed at the second and nothing else is answered."""
    subscriber = await open_socket(gateway, protocol)
    try:
        init = json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {DEMO_TOKEN}"}})
        for _ in range(times):
            try:
                await subscriber.socket.send_str(init)
            except (ClientConnectionResetError, ConnectionResetError):
                break  # the gateway closed it: the rest has nowhere to go
        closed, before = await subscriber.closed()
    finally:
        await subscriber.close()
    assert (closed.code, closed.reason) == (CLOSE_TOO_MANY_INITS, TOO_MANY_INITS), (protocol, times)
    assert [message["type"] for message in before] == ["connection_ack"], before


async def test_sockets_that_never_initialise_are_closed_4408(gateway: GatewayProcess) -> None:
    async with asyncio.timeout(60):
        await asyncio.gather(
            *(
                _never_initialising(gateway, protocol, kind)
                for protocol in (LEGACY_WS, TRANSPORT_WS)
                for kind in range(10)
            )
        )
        await until_no_connections(gateway)
        assert_unharmed(gateway)


async def test_a_second_connection_init_closes_the_socket_4429(gateway: GatewayProcess) -> None:
    async with asyncio.timeout(60):
        for protocol in (LEGACY_WS, TRANSPORT_WS):
            await asyncio.gather(*(_repeating_init(gateway, protocol, times) for times in range(2, 17)))
        await until_no_connections(gateway)
        assert_unharmed(gateway)


async def test_a_thousand_inits_leave_the_process_idle_once_closed(gateway: GatewayProcess) -> None:
    async with asyncio.timeout(60):
        await _repeating_init(gateway, LEGACY_WS, 1000)
        await asyncio.gather(*(_repeating_init(gateway, LEGACY_WS, 1000) for _ in range(10)))
        await until_no_connections(gateway)
        spent = await idle_cpu_seconds(gateway, 2.0)
        assert spent < IDLE_CPU_S, f"{spent:.2f} s of CPU in 2 s with nobody connected"
        assert_unharmed(gateway)


async def test_an_initialised_legacy_socket_is_not_closed_by_the_deadline(gateway: GatewayProcess) -> None:
    """The deadline applies to sockets that never initialised: one that did still takes a subscription after
    it (and is answered: a query is refused with an error, over an open socket)."""
    async with asyncio.timeout(30):
        subscriber = await open_socket(gateway, LEGACY_WS)
        try:
            await send_init(subscriber)
            assert (await subscriber.receive())["type"] == "connection_ack"
            assert await subscriber.poll(INIT_TIMEOUT_S * 4) is None  # keep-alives only, no close
            operation = await _start_query(subscriber)
            answer = await subscriber.receive()
            assert answer["id"] == operation, answer
            assert answer["type"] in {"error", "data"}, answer
        finally:
            await subscriber.close()
        assert_unharmed(gateway)


async def _start_query(subscriber: Subscriber) -> str:
    await subscriber.socket.send_str(json.dumps({"id": "q", "type": "start", "payload": {"query": "{ __typename }"}}))
    return "q"
