"""What one socket and one token may ask for: messages per second (``websocket_messages_per_s``, a burst of five
seconds' worth, then ``1008``), subscriptions started per minute on one socket
(``websocket_subscribes_per_minute``: an ``error`` for the operation, the socket stays, and no Polar call for
it), and subscriptions held at once over every socket of a token (``max_subscriptions_per_token``:
``LIMIT_EXCEEDED``; other tokens are not affected)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp import ClientConnectionResetError

from gateway.graphql.websocket import CLOSE_POLICY, TOO_MANY_MESSAGES
from gateway.sandbox.seed import OTHER_TOKEN
from tests.live_attacks.attack import (
    CLOSE_WITHIN_S,
    assert_unharmed,
    holding,
    initialised,
    live_gateway,
    polar_calls,
    send_json,
    start_message,
    stop_message,
    until_no_connections,
)
from tests.live_shared.harness import LEGACY_WS, TRANSPORT_WS, Subscriber, data, metric, until_metric
from tests.servers import GatewayProcess, SandboxProcess

MESSAGES_PER_S = 5
BURST = MESSAGES_PER_S * 5
FLOOD = 300
SUBSCRIBES_PER_MINUTE = 3
PER_TOKEN = 3
SUBSCRIBERS = "gateway_live_subscribers"


@pytest.fixture(scope="module")
def chatty(sandbox_server: SandboxProcess) -> Iterator[GatewayProcess]:
    with live_gateway(sandbox_server, websocket_messages_per_s=MESSAGES_PER_S) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def churning(sandbox_server: SandboxProcess) -> Iterator[GatewayProcess]:
    """The message rate out of the way, so that the churn is refused by the subscribe rate alone."""
    with live_gateway(
        sandbox_server, websocket_subscribes_per_minute=SUBSCRIBES_PER_MINUTE, websocket_messages_per_s=10_000
    ) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def per_token(sandbox_server: SandboxProcess) -> Iterator[GatewayProcess]:
    with live_gateway(sandbox_server, max_subscriptions_per_token=PER_TOKEN) as gateway:
        yield gateway


# Messages per second ---------------------------------------------------------------------------


async def _flood(
    subscriber: Subscriber, frame: str, count: int = FLOOD, within_s: float = CLOSE_WITHIN_S
) -> tuple[int | None, str, int]:
    """Sends ``frame`` ``count`` times as fast as the socket takes them, without reading; then reads until the
    close: its code and reason, and how many answers (``pong``) came before it."""
    for _ in range(count):
        try:
            await subscriber.socket.send_str(frame)
        except (ClientConnectionResetError, ConnectionResetError):
            break  # closed by the gateway: the rest has nowhere to go
    answers = 0
    deadline = time.monotonic() + within_s
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"not closed within {within_s} s of the flood"
        try:
            message = await subscriber.socket.receive(timeout=left)
        except TimeoutError:
            continue
        if message.type is aiohttp.WSMsgType.TEXT:
            answers += json.loads(message.data).get("type") == "pong"
            continue
        assert message.type in {aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED}, message
        return subscriber.socket.close_code, str(message.extra or ""), answers


async def test_pings_as_fast_as_possible_are_closed_1008_after_the_burst(chatty: GatewayProcess) -> None:
    async with asyncio.timeout(60):
        for _ in range(5):
            subscriber = await initialised(chatty, TRANSPORT_WS)
            try:
                code, reason, pongs = await _flood(subscriber, json.dumps({"type": "ping"}))
            finally:
                await subscriber.close()
            assert (code, reason) == (CLOSE_POLICY, TOO_MANY_MESSAGES)
            # The burst (less connection_init) is answered; 300 at line rate are not: a bound on the refill
            # during the flood, not a speed test (100 would take 15 s of it).
            assert BURST - 5 <= pongs < 100, pongs
        assert_unharmed(chatty)


async def test_floods_on_many_sockets_are_each_closed_while_http_answers(chatty: GatewayProcess) -> None:
    frames = {TRANSPORT_WS: json.dumps({"type": "ping"}), LEGACY_WS: json.dumps({"type": "stop", "id": "x"})}

    async def flooding(protocol: str) -> tuple[int | None, str]:
        subscriber = await initialised(chatty, protocol)
        try:
            code, reason, _ = await _flood(subscriber, frames[protocol])
        finally:
            await subscriber.close()
        return code, reason

    async with asyncio.timeout(60):
        for _ in range(3):
            floods = asyncio.gather(*(flooding(protocol) for protocol in (TRANSPORT_WS, LEGACY_WS) * 5))
            queries = asyncio.gather(
                *(asyncio.to_thread(data, chatty, "{ customers(first: 1) { nodes { id } } }") for _ in range(5))
            )
            closes, _ = await asyncio.gather(floods, queries)
            assert set(closes) == {(CLOSE_POLICY, TOO_MANY_MESSAGES)}, closes
        await until_no_connections(chatty)
        assert_unharmed(chatty)


async def test_legacy_frames_that_are_not_json_count_against_the_rate(chatty: GatewayProcess) -> None:
    async with asyncio.timeout(60):
        subscriber = await initialised(chatty, LEGACY_WS)
        try:
            code, reason, _ = await _flood(subscriber, "not json " * 100, within_s=3)
        finally:
            await subscriber.close()
        assert (code, reason) == (CLOSE_POLICY, TOO_MANY_MESSAGES)
        assert_unharmed(chatty)


# Subscriptions started per minute --------------------------------------------------------------


async def _churn(subscriber: Subscriber, rounds: int) -> list[dict[str, Any]]:
    """Starts and at once stops an operation ``rounds`` times; what the gateway answered to each start, in order
    (None where nothing came for it before the next start was answered)."""
    protocol = subscriber.protocol
    for number in range(rounds):
        await send_json(subscriber, start_message(protocol, f"churn-{number}"))
        await send_json(subscriber, stop_message(protocol, f"churn-{number}"))
    await send_json(subscriber, start_message(protocol, "last"))  # refused too: its error ends the reading
    errors: list[dict[str, Any]] = []
    while True:
        message = await subscriber.receive()
        if message["type"] == "error":
            errors.append(message)
            if message["id"] == "last":
                return errors


def _names_the_setting(message: dict[str, Any]) -> bool:
    payload = message["payload"]
    text = json.dumps(payload)
    return "websocket_subscribes_per_minute" in text


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_subscribe_churn_is_refused_from_the_fourth_with_no_polar_call(
    churning: GatewayProcess, sandbox: SandboxProcess, protocol: str
) -> None:
    async with asyncio.timeout(60):
        sockets = 3
        async with holding(churning, [protocol] * sockets) as held:
            before = polar_calls(sandbox)
            refusals = await asyncio.gather(*(_churn(subscriber, 40) for subscriber in held))
            calls = polar_calls(sandbox) - before
        for errors in refusals:
            refused = [error["id"] for error in errors]
            assert refused == [f"churn-{n}" for n in range(SUBSCRIBES_PER_MINUTE, 40)] + ["last"], refused
            assert all(_names_the_setting(error) for error in errors), errors[0]
        # At most each socket's three subscriptions checked with Polar (none for the 114 refused), and a
        # revalidation each at most.
        assert calls <= sockets * SUBSCRIBES_PER_MINUTE * 2, sandbox.stats()
        await until_no_connections(churning)
        assert_unharmed(churning)


# Subscriptions per token -----------------------------------------------------------------------


async def _limited(subscriber: Subscriber, operation: str) -> dict[str, Any]:
    """Starts ``operation``, expecting it to be ended at once with ``LIMIT_EXCEEDED``; the error."""
    await send_json(subscriber, start_message(subscriber.protocol, operation))
    message = await subscriber.receive()
    assert message["id"] == operation, message
    assert message["type"] in {"next", "data"}, message
    errors = message["payload"]["errors"]
    assert [error["extensions"]["code"] for error in errors] == ["LIMIT_EXCEEDED"], message
    assert "max_subscriptions_per_token" in errors[0]["message"]
    ended = await subscriber.receive()
    assert (ended["id"], ended["type"]) == (operation, "complete"), ended
    return message


async def _running(gateway: GatewayProcess, count: int) -> None:
    await until_metric(gateway, SUBSCRIBERS, lambda now: now == count)


async def test_a_token_holds_at_most_its_subscriptions_over_all_its_sockets(per_token: GatewayProcess) -> None:
    async with asyncio.timeout(90):
        base = await asyncio.to_thread(metric, per_token, SUBSCRIBERS)
        assert base == 0
        async with holding(per_token, [TRANSPORT_WS, LEGACY_WS]) as (first, second):
            await send_json(first, start_message(TRANSPORT_WS, "a1"))
            await send_json(first, start_message(TRANSPORT_WS, "a2"))
            await send_json(second, start_message(LEGACY_WS, "b1"))
            await _running(per_token, PER_TOKEN)
            for attempt in range(10):  # over both sockets, both protocols
                await _limited((first, second)[attempt % 2], f"over-{attempt}")
            await _running(per_token, PER_TOKEN)

            async with holding(per_token, [LEGACY_WS, TRANSPORT_WS], token=OTHER_TOKEN) as (third, fourth):
                await send_json(third, start_message(LEGACY_WS, "c1"))
                await send_json(third, start_message(LEGACY_WS, "c2"))
                await send_json(fourth, start_message(TRANSPORT_WS, "d1"))
                await _running(per_token, 2 * PER_TOKEN)  # the other token's three all run
                await _limited(fourth, "d2")
                await _limited(second, "b2")

            await _running(per_token, PER_TOKEN)
            await send_json(first, stop_message(TRANSPORT_WS, "a1"))
            await _running(per_token, PER_TOKEN - 1)
            await send_json(second, start_message(LEGACY_WS, "b3"))  # the place given back is taken again
            await _running(per_token, PER_TOKEN)
            await _limited(second, "b4")
        await _running(per_token, 0)  # sockets closed with subscriptions running give their places back
        async with holding(per_token, [TRANSPORT_WS]) as (again,):
            for number in range(PER_TOKEN):
                await send_json(again, start_message(TRANSPORT_WS, f"e{number}"))
            await _running(per_token, PER_TOKEN)
            await _limited(again, "e-over")
        await _running(per_token, 0)
        assert_unharmed(per_token)
