"""Frames that are not the protocol's envelope. Strawberry indexes what it is sent (``message["type"]``,
``message["payload"]["query"]``): a list, a number or a subscribe without its payload wrote a traceback and
ended the socket abnormally. Each now closes the socket with ``4400`` (binary frames: ``4400`` on
graphql-transport-ws, ``1002`` on graphql-ws; a frame over ``websocket_max_message_bytes``: ``1009``), before
``connection_init`` and after it, and the log stays clean."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator, Sequence

import pytest

from gateway.graphql.websocket import BAD_MESSAGE, CLOSE_BAD_MESSAGE
from tests.live_attacks.attack import (
    ABNORMAL,
    CUSTOMERS_CHANGED,
    assert_unharmed,
    initialised,
    live_gateway,
    open_socket,
    send_init,
    start_message,
    until_no_connections,
)
from tests.live_shared.harness import LEGACY_WS, TRANSPORT_WS, Closed
from tests.raw_http import connect, request
from tests.servers import GatewayProcess, SandboxProcess

MAX_MESSAGE_BYTES = 4096


def _operations(kind: str) -> list[object]:
    """Operation messages (``subscribe`` or ``start``) wrong in one way each."""
    good = {"query": CUSTOMERS_CHANGED}
    return [
        {"type": kind, "id": [1], "payload": good},
        {"type": kind, "id": 1, "payload": good},
        {"type": kind, "id": None, "payload": good},
        {"type": kind, "id": {"a": "1"}, "payload": good},
        {"type": kind, "id": "1"},
        {"type": kind, "id": "1", "payload": None},
        {"type": kind, "id": "1", "payload": "x"},
        {"type": kind, "id": "1", "payload": [good]},
        {"type": kind, "id": "1", "payload": {}},
        {"type": kind, "id": "1", "payload": {"query": 1}},
        {"type": kind, "id": "1", "payload": {"query": None}},
        {"type": kind, "id": "1", "payload": {"query": ["subscription { customersChanged { type } }"]}},
        {"type": kind, "id": "1", "payload": {"query": {"a": 1}}},
        {"type": kind, "payload": good},  # no id at all
    ]


ENVELOPES: list[object] = [
    {},
    [],
    "x",
    "",
    1,
    1.5,
    None,
    True,
    {"type": 1},
    {"type": None},
    {"type": ["subscribe"]},
    {"type": {"a": "b"}},
    {"id": "1"},
    {"payload": {"query": CUSTOMERS_CHANGED}},
]

# The closing of an operation without its id (Strawberry reads message["id"]).
STOPS = {
    TRANSPORT_WS: [{"type": "complete"}, {"type": "complete", "id": 5}],
    LEGACY_WS: [{"type": "stop"}, {"type": "stop", "id": 5}],
}
KINDS = {TRANSPORT_WS: "subscribe", LEGACY_WS: "start"}
BINARY_CLOSE = {TRANSPORT_WS: 4400, LEGACY_WS: 1002}
BAD_ANSWER = (CLOSE_BAD_MESSAGE, BAD_MESSAGE)


def _malformed(protocol: str) -> list[str]:
    messages = [*ENVELOPES, *_operations(KINDS[protocol]), *STOPS[protocol]]
    return [json.dumps(message) for message in messages]


@pytest.fixture(scope="module")
def gateway(sandbox_server: SandboxProcess) -> Iterator[GatewayProcess]:
    with live_gateway(sandbox_server, websocket_max_message_bytes=MAX_MESSAGE_BYTES) as gateway:
        yield gateway


async def _closed_by(gateway: GatewayProcess, protocol: str, frame: str | bytes, initialise: bool) -> tuple[int, str]:
    subscriber = await (initialised(gateway, protocol) if initialise else open_socket(gateway, protocol))
    try:
        if isinstance(frame, bytes):
            await subscriber.socket.send_bytes(frame)
        else:
            await subscriber.socket.send_str(frame)
        closed, _ = await subscriber.closed()
    finally:
        await subscriber.close()
    assert closed.code is not None
    return closed.code, closed.reason


async def _at_once(
    gateway: GatewayProcess, protocol: str, frames: Sequence[str | bytes], initialise: bool
) -> list[tuple[int, str]]:
    """Each frame on a socket of its own, ten sockets at a time (``max_connections_per_token`` is 20)."""
    slots = asyncio.Semaphore(10)

    async def one(frame: str | bytes) -> tuple[int, str]:
        async with slots:
            return await _closed_by(gateway, protocol, frame, initialise)

    return list(await asyncio.gather(*(one(frame) for frame in frames)))


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
@pytest.mark.parametrize("initialise", [True, False], ids=["after-init", "before-init"])
async def test_messages_that_are_not_the_envelope_close_4400(
    gateway: GatewayProcess, protocol: str, initialise: bool
) -> None:
    async with asyncio.timeout(120):
        frames = _malformed(protocol)
        answers = await _at_once(gateway, protocol, frames, initialise)
        wrong = {frame: answer for frame, answer in zip(frames, answers, strict=True) if answer != BAD_ANSWER}
        assert not wrong, wrong
        await until_no_connections(gateway)
        assert_unharmed(gateway)


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_binary_frames_close_the_socket(gateway: GatewayProcess, protocol: str) -> None:
    async with asyncio.timeout(60):
        frames = [
            b"",
            b"\x00",
            b"{}",
            json.dumps({"type": "connection_init", "payload": {}}).encode(),
            secrets.token_bytes(1000),
        ]
        for initialise in (False, True):
            answers = await _at_once(gateway, protocol, frames, initialise)
            assert {code for code, _ in answers} == {BINARY_CLOSE[protocol]}, answers
        await until_no_connections(gateway)
        assert_unharmed(gateway)


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_frame_over_the_limit_closes_1009(gateway: GatewayProcess, protocol: str) -> None:
    async with asyncio.timeout(60):
        query = "subscription { customersChanged { type } }" + " " * MAX_MESSAGE_BYTES
        frames: list[str | bytes] = [
            "x" * (MAX_MESSAGE_BYTES + 1),
            json.dumps({"type": KINDS[protocol], "id": "1", "payload": {"query": query}}),
            b"\x00" * (MAX_MESSAGE_BYTES * 16),
        ]
        answers = await _at_once(gateway, protocol, frames, True)
        assert {code for code, _ in answers} == {1009}, answers
        await until_no_connections(gateway)
        assert_unharmed(gateway)


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_compressed_frame_that_inflates_past_the_limit_closes_1009(
    gateway: GatewayProcess, protocol: str
) -> None:
    """permessage-deflate (aiohttp's server accepts it): 50 MB of spaces weigh about 50 KB on the wire. The
    limit holds for the inflated message, and the process never holds the 50 MB."""
    async with asyncio.timeout(60):
        peak_before = gateway.peak_rss_bytes()
        for _ in range(3):
            subscriber = await open_socket(gateway, protocol, compress=15)
            try:
                assert subscriber.socket.compress == 15  # negotiated: the frame below goes compressed
                await send_init(subscriber)
                assert (await subscriber.receive())["type"] == "connection_ack"
                await subscriber.socket.send_str(" " * 50_000_000 + "{}", compress=15)
                closed, _ = await subscriber.closed()
            finally:
                await subscriber.close()
            assert closed.code == 1009, closed
        assert gateway.peak_rss_bytes() - peak_before < 32 * 2**20
        assert_unharmed(gateway)


async def test_an_upgrade_with_no_protocol_of_ours_is_closed_4406(gateway: GatewayProcess) -> None:
    async with asyncio.timeout(60):
        for protocols in ((), ("graphql-wss",), ("foo", "bar"), ("GRAPHQL-WS",)):
            subscriber = await open_socket(gateway, offered=protocols)
            try:
                closed, _ = await subscriber.closed()
            finally:
                await subscriber.close()
            assert closed.code == 4406, (protocols, closed)
        assert_unharmed(gateway)


async def test_an_unknown_protocol_the_caller_writes_is_not_logged(gateway: GatewayProcess) -> None:
    async with asyncio.timeout(30):
        marker = f"caller-wrote-{secrets.token_hex(8)}"
        head = [
            ("Upgrade", b"websocket"),
            ("Connection", b"Upgrade"),
            ("Sec-WebSocket-Version", b"13"),
            ("Sec-WebSocket-Key", b"dGhlIHNhbXBsZSBub25jZQ=="),
            ("Sec-WebSocket-Protocol", (marker + "-" + "A" * 4000).encode()),
        ]
        for _ in range(5):
            with connect(gateway.url, 10) as connection:
                connection.sendall(request("GET", "/graphql", head))
                await asyncio.to_thread(connection.recv, 1024)
        assert_unharmed(gateway)  # the mark's access line: whatever was logged before it is in the output
        logged = "".join(gateway.output)
        assert marker not in logged, f"{logged.count(marker)} lines quote the caller's protocol header"


def _odd(protocol: str) -> list[str]:
    """Envelopes right, contents odd: each may be refused any way the protocol has (an error, a close with a
    code), never with a traceback or a connection dropped without a close frame."""
    kind = KINDS[protocol]
    query = CUSTOMERS_CHANGED
    odd: list[object] = [
        {"type": kind, "id": "v", "payload": {"query": query, "variables": [1]}},
        {"type": kind, "id": "v", "payload": {"query": query, "variables": "x"}},
        {"type": kind, "id": "v", "payload": {"query": query, "variables": {"a": {"b": [None] * 100}}}},
        {"type": kind, "id": "o", "payload": {"query": query, "operationName": 5}},
        {"type": kind, "id": "o", "payload": {"query": query, "operationName": ["x"]}},
        {"type": kind, "id": "e", "payload": {"query": query, "extensions": "x"}},
        {"type": kind, "id": "e", "payload": {"query": query, "extensions": {"persistedQuery": 1}}},
        {"type": kind, "id": "q", "payload": {"query": ""}},
        {"type": kind, "id": "q", "payload": {"query": "subscription { nothingHere }"}},
        {"type": kind, "id": "q", "payload": {"query": "mutation { __typename }"}},
        {"type": kind, "id": "x" * 2000, "payload": {"query": query}},
        {"type": kind, "id": "\u0000\ud7ff", "payload": {"query": query}},
        {"type": "connection_init", "payload": []},
        {"type": "connection_init", "payload": "x"},
        {"type": "connection_init", "payload": {"Authorization": ["Bearer x"]}},
        {"type": "connection_terminate"},
        {"type": "ping", "payload": [1, 2]},
        {"type": "pong", "payload": "x"},
        {"type": "next", "id": "1", "payload": {}},
        {"type": "error", "id": "1", "payload": []},
        {"type": "complete", "id": "never-started"},
        {"type": "stop", "id": "never-started"},
        {"type": "x" * 10_000},
    ]
    return [json.dumps(message) for message in odd] + ["[" * 5000 + "]" * 5000, '{"type": "ping"' + " " * 3000]


async def _no_failure(gateway: GatewayProcess, protocol: str, frame: str) -> str:
    """Sends ``frame`` on an initialised socket, then an operation the gateway answers whatever came before it
    (the socket's messages are handled in order): what the socket's state is once that answer or a close came."""
    subscriber = await initialised(gateway, protocol)
    try:
        await subscriber.socket.send_str(frame)
        await subscriber.socket.send_str(json.dumps(start_message(protocol, "probe", "{ __typename }")))
        while True:
            try:
                message = await subscriber.receive()
            except Closed as closed:
                code = closed.code
                break
            if message.get("id") == "probe":
                return "open"
    finally:
        await subscriber.close()
    assert code != ABNORMAL, frame[:200]
    return f"closed {code}"


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_odd_contents_are_refused_without_a_traceback(gateway: GatewayProcess, protocol: str) -> None:
    async with asyncio.timeout(120):
        slots = asyncio.Semaphore(10)

        async def one(frame: str) -> str:
            async with slots:
                return await _no_failure(gateway, protocol, frame)

        outcomes = await asyncio.gather(*(one(frame) for frame in _odd(protocol)))
        assert "open" in outcomes  # the probe is answered: the test sees more than closes
        await until_no_connections(gateway)
        assert_unharmed(gateway)


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_document_that_does_not_parse_is_answered_with_its_error(
    gateway: GatewayProcess, protocol: str
) -> None:
    """The legacy protocol answers an ``error`` for the operation; graphql-transport-ws closes the socket with
    4400 and the syntax error, as its reference server (graphql-ws) does for a subscribe it cannot parse."""
    async with asyncio.timeout(60):
        for number, document in enumerate(("{", "subscription {", "subscription { customersChanged { type }")):
            subscriber = await initialised(gateway, protocol)
            try:
                operation = f"broken-{number}"
                await subscriber.socket.send_str(json.dumps(start_message(protocol, operation, document)))
                if protocol == TRANSPORT_WS:
                    closed, _ = await subscriber.closed()
                    assert closed.code == 4400, closed
                    assert "Syntax Error" in closed.reason, closed
                    continue
                answer = await subscriber.receive(within_s=5)
                assert answer["id"] == operation, answer
                assert answer["type"] == "error", answer
                assert "Syntax Error" in json.dumps(answer["payload"]), answer
            finally:
                await subscriber.close()
        await asyncio.sleep(0.5)  # an unretrieved task's exception is logged when the task is collected
        assert_unharmed(gateway)
