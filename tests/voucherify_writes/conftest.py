"""Fixtures of the Voucherify write tests: the session gateway (tests/conftest.py) with the Voucherify key
headers, the sandbox read directly, and after every test a check that no answer and no gateway log line
held a Voucherify secret or client token."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers import GatewayProcess, SandboxProcess
from tests.voucherify_writes.client import CLIENT_KEYS, NO_KEYS, Transcript, Upstream, VoucherifyGraphQL


@pytest.fixture(scope="session")
def transcript() -> Transcript:
    return Transcript()


@pytest.fixture(autouse=True)
def no_secret_leaks(transcript: Transcript) -> Iterator[None]:
    """Whatever the test sent, no answer it saw and no line of a gateway it used holds a secret."""
    transcript.answers.clear()
    yield
    assert transcript.leaks() == []


@pytest.fixture
def gateway(gateway_server: GatewayProcess, transcript: Transcript) -> GatewayProcess:
    if gateway_server not in transcript.gateways:
        transcript.gateways.append(gateway_server)
    return gateway_server


@pytest.fixture
def vf(gateway: GatewayProcess, voucherify: SandboxProcess, transcript: Transcript) -> Iterator[VoucherifyGraphQL]:
    """GraphQL with the Demo project's server keys, on a freshly reset Voucherify sandbox."""
    client = VoucherifyGraphQL(gateway.graphql_url, voucherify, transcript)
    yield client
    client.close()


@pytest.fixture
def vf_client_keys(gateway: GatewayProcess, voucherify: SandboxProcess,
                   transcript: Transcript) -> Iterator[VoucherifyGraphQL]:  # fmt: skip
    """GraphQL with the Demo project's client keys and an allowed Origin."""
    client = VoucherifyGraphQL(gateway.graphql_url, voucherify, transcript, CLIENT_KEYS)
    yield client
    client.close()


@pytest.fixture
def vf_no_keys(gateway: GatewayProcess, voucherify: SandboxProcess,
               transcript: Transcript) -> Iterator[VoucherifyGraphQL]:  # fmt: skip
    client = VoucherifyGraphQL(gateway.graphql_url, voucherify, transcript, NO_KEYS)
    yield client
    client.close()


@pytest.fixture
def upstream(voucherify: SandboxProcess) -> Iterator[Upstream]:
    """The sandbox itself, with server keys: where the tests read back what a write did."""
    client = Upstream(voucherify)
    yield client
    client.close()
