"""Both sandboxes freshly reset for each test, the session gateway on them, and a gateway of short, bounded
settings for the faults (its breakers practically never open, so one test's failures cannot leak into the
next)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from gateway.sandbox.seed import DEMO_TOKEN
from gateway.sandbox.voucherify.seed import DEMO_APP_ID, DEMO_APP_TOKEN
from tests.conftest import MANY_NEW_DOCUMENTS
from tests.join.client import BothGraphQL, polar_client
from tests.servers import GatewayProcess, SandboxProcess, gateway_process
from tests.voucherify.client import vf_client

RETRIES = 3
DEADLINE_S = 2
FAST_RETRIES = {
    **MANY_NEW_DOCUMENTS,
    "GATEWAY_RETRY_ATTEMPTS": str(RETRIES),
    "GATEWAY_RETRY_BACKOFF_S": "0.01",
    "GATEWAY_RETRY_BACKOFF_MAX_S": "0.05",
    "GATEWAY_REQUEST_DEADLINE_S": str(DEADLINE_S),
    "GATEWAY_BREAKER_FAILURE_THRESHOLD": "10000",
}


@pytest.fixture
def both(gateway_server: GatewayProcess, sandbox: SandboxProcess, voucherify: SandboxProcess) -> Iterator[BothGraphQL]:
    """The session gateway with the Polar demo token and Voucherify's demo server keys."""
    client = BothGraphQL(gateway_server.graphql_url, DEMO_TOKEN, sandbox, voucherify)
    yield client
    client.close()


@pytest.fixture(scope="package")
def hasty_url(sandbox_server: SandboxProcess, voucherify_server: SandboxProcess) -> Iterator[str]:
    """A gateway with a 2 s deadline, three attempts a call and breakers that practically never open."""
    with gateway_process(sandbox_server.url, env=FAST_RETRIES, voucherify_url=voucherify_server.url) as gateway:
        yield gateway.graphql_url


@pytest.fixture
def hasty(hasty_url: str, sandbox: SandboxProcess, voucherify: SandboxProcess) -> Iterator[BothGraphQL]:
    client = BothGraphQL(hasty_url, DEMO_TOKEN, sandbox, voucherify)
    yield client
    client.close()


@pytest.fixture
def polar(sandbox: SandboxProcess) -> Iterator[httpx.Client]:
    """The Polar sandbox itself, as the Demo organization."""
    with polar_client(sandbox) as client:
        yield client


@pytest.fixture
def vf_demo(voucherify: SandboxProcess) -> Iterator[httpx.Client]:
    """The Voucherify sandbox itself, as the Demo project."""
    with vf_client(voucherify, DEMO_APP_ID, DEMO_APP_TOKEN) as client:
        yield client
