"""The session gateway with the Voucherify demo project's server keys, and the sandbox read directly."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from gateway.sandbox.seed import DEMO_TOKEN
from gateway.sandbox.voucherify.seed import DEMO_APP_ID, DEMO_APP_TOKEN, OTHER_APP_ID, OTHER_APP_TOKEN
from tests.servers import GatewayProcess, SandboxProcess
from tests.voucherify.client import VoucherifyGraphQL, vf_client


@pytest.fixture
def vf(
    gateway_server: GatewayProcess, voucherify: SandboxProcess, sandbox: SandboxProcess
) -> Iterator[VoucherifyGraphQL]:
    """GraphQL with the Polar demo token and Voucherify's demo server keys; both sandboxes freshly reset."""
    client = VoucherifyGraphQL(gateway_server.graphql_url, DEMO_TOKEN, voucherify)
    yield client
    client.close()


@pytest.fixture
def vf_demo(voucherify: SandboxProcess) -> Iterator[httpx.Client]:
    """The Voucherify sandbox itself, as the demo project."""
    with vf_client(voucherify, DEMO_APP_ID, DEMO_APP_TOKEN) as client:
        yield client


@pytest.fixture
def vf_other(voucherify: SandboxProcess) -> Iterator[httpx.Client]:
    with vf_client(voucherify, OTHER_APP_ID, OTHER_APP_TOKEN) as client:
        yield client
