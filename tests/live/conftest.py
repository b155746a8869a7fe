"""Fixtures of the live tests: gateway processes on the session's Polar sandbox that take its webhooks
(``gateways.py``), HTTP clients for the sandbox and the gateway; ``ws_client.py`` speaks WebSocket to them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack

import httpx
import pytest

from gateway.sandbox.seed import DEMO_TOKEN
from tests.live.gateways import Gateways, LiveGateway
from tests.servers import SandboxProcess


@pytest.fixture(scope="module")
def gateways(sandbox_server: SandboxProcess) -> Iterator[Gateways]:
    with ExitStack() as stack:
        yield Gateways(sandbox_server, stack)


@pytest.fixture
def live_gateway(sandbox: SandboxProcess, gateways: Gateways) -> LiveGateway:
    """The default gateway (every live setting at its default) on a freshly reset sandbox whose Demo
    organization's webhook endpoint delivers to it."""
    return gateways.live({})


@pytest.fixture
def live_gateway_with(sandbox: SandboxProcess, gateways: Gateways) -> Callable[..., LiveGateway]:
    """``live_gateway_with(GATEWAY_SOMETHING="1")``: a gateway with those settings, registered the same way;
    ``with_secret=False``: one that has no webhook secret."""

    def start(*, with_secret: bool = True, **env: str) -> LiveGateway:
        return gateways.live(env, with_secret=with_secret)

    return start


@pytest.fixture
async def api(sandbox: SandboxProcess) -> AsyncIterator[httpx.AsyncClient]:
    """The sandbox's Polar API as the Demo organization, and its ``/__sandbox`` controls."""
    async with httpx.AsyncClient(
        base_url=sandbox.url, headers={"Authorization": f"Bearer {DEMO_TOKEN}"}, timeout=10
    ) as client:
        yield client


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """A plain HTTP client for the gateway (GraphQL over HTTP, webhooks)."""
    async with httpx.AsyncClient(timeout=10) as client:
        yield client
