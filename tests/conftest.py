"""Fixtures shared by every test: one sandbox process for the session, reset before each test; one Redis."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import redis

from gateway.sandbox.seed import DEMO_READ_TOKEN, DEMO_TOKEN, OTHER_TOKEN
from tests.graphql_client import GraphQL
from tests.redis_server import RedisServer
from tests.servers import (
    GatewayProcess,
    SandboxProcess,
    gateway_process,
    sandbox_process,
    voucherify_sandbox_process,
)


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxProcess]:
    with sandbox_process() as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: SandboxProcess) -> SandboxProcess:
    """The session's sandbox, back at its seed data with no faults and zeroed stats."""
    sandbox_server.reset()
    return sandbox_server


def _client(server: SandboxProcess, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=server.url, headers=headers, timeout=10)


@pytest.fixture
def demo(sandbox: SandboxProcess) -> Iterator[httpx.Client]:
    with _client(sandbox, DEMO_TOKEN) as client:
        yield client


@pytest.fixture
def demo_read(sandbox: SandboxProcess) -> Iterator[httpx.Client]:
    with _client(sandbox, DEMO_READ_TOKEN) as client:
        yield client


@pytest.fixture
def other(sandbox: SandboxProcess) -> Iterator[httpx.Client]:
    with _client(sandbox, OTHER_TOKEN) as client:
        yield client


@pytest.fixture
def anonymous(sandbox: SandboxProcess) -> Iterator[httpx.Client]:
    with _client(sandbox, None) as client:
        yield client


MANY_NEW_DOCUMENTS = {"GATEWAY_NEW_DOCUMENT_BYTES_PER_S": str(2**30), "GATEWAY_NEW_DOCUMENT_BURST_BYTES": str(2**30)}


@pytest.fixture(scope="session")
def voucherify_server() -> Iterator[SandboxProcess]:
    with voucherify_sandbox_process() as server:
        yield server


@pytest.fixture
def voucherify(voucherify_server: SandboxProcess) -> SandboxProcess:
    """The session's Voucherify sandbox, back at its seed data with no faults and zeroed stats."""
    voucherify_server.reset()
    return voucherify_server


@pytest.fixture(scope="session")
def gateway_server(sandbox_server: SandboxProcess, voucherify_server: SandboxProcess) -> Iterator[GatewayProcess]:
    """One gateway for the session, on the session's sandboxes. The tests send thousands of distinct
    documents in minutes, far more than a deployment's budget for new ones (``test_limits`` tests it)."""
    with gateway_process(sandbox_server.url, env=MANY_NEW_DOCUMENTS, voucherify_url=voucherify_server.url) as server:
        yield server


@pytest.fixture
def gql(gateway_server: GatewayProcess, sandbox: SandboxProcess) -> Iterator[GraphQL]:
    """GraphQL as the Demo organization (every scope), on a freshly reset sandbox."""
    client = GraphQL(gateway_server.graphql_url, DEMO_TOKEN, sandbox)
    yield client
    client.close()


@pytest.fixture
def gql_read(gateway_server: GatewayProcess, sandbox: SandboxProcess) -> Iterator[GraphQL]:
    """GraphQL with the customers:read-only token."""
    client = GraphQL(gateway_server.graphql_url, DEMO_READ_TOKEN, sandbox)
    yield client
    client.close()


@pytest.fixture
def gql_other(gateway_server: GatewayProcess, sandbox: SandboxProcess) -> Iterator[GraphQL]:
    client = GraphQL(gateway_server.graphql_url, OTHER_TOKEN, sandbox)
    yield client
    client.close()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One real Redis for the session (Debian's ``redis-server``, ``make redis``), on a free port."""
    with RedisServer() as server:
        yield server


@pytest.fixture
def fresh_redis(redis_server: RedisServer) -> RedisServer:
    """The session's Redis, empty, and running again if a test killed or stopped it and failed to restart it."""
    if not redis_server.running:
        redis_server.start()
    with redis.Redis.from_url(redis_server.url, socket_timeout=5) as client:
        client.flushall()
    return redis_server
