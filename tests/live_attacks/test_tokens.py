"""Made-up tokens at ``connection_init``: before the hardening, 1,000 sockets with tokens Polar would refuse took
every connection of a process in 3 s. Each is now proven with Polar (one call) and closed ``4403`` with the
reason, on both protocols and wherever the token is sent; a run of them leaves nothing open, neither a
connection nor a place among ``max_websocket_connections``."""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import Iterator

import pytest

from gateway.graphql.websocket import CLOSE_FORBIDDEN, REFUSED_TOKEN
from gateway.sandbox.seed import DEMO_TOKEN
from tests.live_attacks.attack import (
    assert_unharmed,
    holding,
    initialised,
    live_gateway,
    open_socket,
    polar_calls,
    send_init,
    until_no_connections,
    upgrade_status,
)
from tests.live_shared.harness import LEGACY_WS, TRANSPORT_WS
from tests.servers import GatewayProcess, SandboxProcess

SOCKETS = 5  # max_websocket_connections of this module's gateway
IN_A_ROW = 200


def _made_up(shape: int) -> str:
    """Well-formed tokens (RFC 6750 characters) that Polar does not know: its organization, personal and
    customer-session prefixes, a JWT's shape, bare symbols, and a known token with one more character."""
    random = secrets.token_urlsafe(32)
    return [
        f"polar_oat_{random}",
        f"polar_pat_{random}",
        f"polar_cst_{random}",
        f"eyJhbGciOiJIUzI1NiJ9.{random}.{secrets.token_urlsafe(16)}",
        f"{random}-._~+/==",
        f"{DEMO_TOKEN}{secrets.choice('abcdefgh')}",
    ][shape % 6]


SENT_AS = ("Authorization", "authorization", "header")  # connectionParams' two spellings, the upgrade's header


@pytest.fixture(scope="module")
def gateway(sandbox_server: SandboxProcess) -> Iterator[GatewayProcess]:
    with live_gateway(sandbox_server, max_websocket_connections=SOCKETS) as gateway:
        yield gateway


async def _refused(gateway: GatewayProcess, protocol: str, token: str, sent_as: str) -> None:
    headers = {"Authorization": f"Bearer {token}"} if sent_as == "header" else None
    subscriber = await open_socket(gateway, protocol, headers)
    try:
        await send_init(subscriber, None if sent_as == "header" else token, key=sent_as)
        closed, before = await subscriber.closed()
    finally:
        await subscriber.close()
    assert (closed.code, closed.reason) == (CLOSE_FORBIDDEN, REFUSED_TOKEN), (protocol, sent_as, token)
    assert not any(message.get("type") == "connection_ack" for message in before), before


async def test_made_up_tokens_in_a_row_are_each_refused_for_one_polar_call_and_leave_nothing_open(
    gateway: GatewayProcess, sandbox: SandboxProcess
) -> None:
    async with asyncio.timeout(120):
        ways = itertools.cycle(itertools.product((TRANSPORT_WS, LEGACY_WS), SENT_AS))
        for attempt, (protocol, sent_as) in zip(range(IN_A_ROW), ways, strict=False):
            await _refused(gateway, protocol, _made_up(attempt), sent_as)
        calls = polar_calls(sandbox)
        assert 0 < calls <= IN_A_ROW, sandbox.stats()

        await until_no_connections(gateway)
        async with holding(gateway, itertools.islice(itertools.cycle((TRANSPORT_WS, LEGACY_WS)), SOCKETS)):
            assert await upgrade_status(gateway) == 503  # the five places were free, and are taken now
        assert_unharmed(gateway)


async def test_made_up_tokens_at_once_are_all_refused(gateway: GatewayProcess, sandbox: SandboxProcess) -> None:
    """Five sockets at a time (the process's cap), the same made-up token on each of one round: each is asked of
    Polar (a refusal is not remembered as an acceptance is), and each is closed."""
    async with asyncio.timeout(60):
        for round_ in range(10):
            token = _made_up(round_)
            protocols = itertools.cycle((TRANSPORT_WS, LEGACY_WS))
            await asyncio.gather(*(_refused(gateway, next(protocols), token, SENT_AS[n % 3]) for n in range(SOCKETS)))
        assert polar_calls(sandbox) <= 10 * SOCKETS, sandbox.stats()
        await until_no_connections(gateway)
        assert_unharmed(gateway)


async def test_a_token_polar_accepted_lately_costs_no_call(gateway: GatewayProcess, sandbox: SandboxProcess) -> None:
    async with asyncio.timeout(60):
        first = await initialised(gateway)
        await first.close()
        before = polar_calls(sandbox)
        for protocol in (TRANSPORT_WS, LEGACY_WS) * 10:
            subscriber = await initialised(gateway, protocol)
            await subscriber.close()
        assert polar_calls(sandbox) == before, sandbox.stats()
        assert_unharmed(gateway)
