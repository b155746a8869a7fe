"""Gateway processes with the cache on, over the session's sandbox: one on the session's Redis (emptied before
each test), one with the in-process store; each reports ``extensions.cache { hits misses }`` and takes
webhooks signed with ``WEBHOOK_SECRET``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import MANY_NEW_DOCUMENTS
from tests.redis_server import RedisServer
from tests.servers import GatewayProcess, SandboxProcess, gateway_process

WEBHOOK_SECRET = "cache-attack-tests-webhook-secret"
CACHE_ENV = {
    **MANY_NEW_DOCUMENTS,
    "GATEWAY_POLAR_WEBHOOK_SECRET": WEBHOOK_SECRET,  # the cache is on by default where webhooks invalidate it
    "GATEWAY_CURSOR_SECRET": "cache-attack-tests-cursor-secret-0123456789",
    "GATEWAY_CACHE_EXTENSIONS": "true",
}


@pytest.fixture
def redis_gateway(sandbox: SandboxProcess, fresh_redis: RedisServer) -> Iterator[GatewayProcess]:
    # A command of a healthy Redis on a loaded test machine may take over the default 0.1 s: a miss then, and
    # no cache for retry_s, which the tests would read as a finding. A stall is still a stall at 5 s.
    env = {**CACHE_ENV, "GATEWAY_REDIS_URL": fresh_redis.url, "GATEWAY_CACHE_REDIS_TIMEOUT_S": "5"}
    with gateway_process(sandbox.url, env=env) as server:
        yield server


@pytest.fixture
def memory_gateway(sandbox: SandboxProcess) -> Iterator[GatewayProcess]:
    with gateway_process(sandbox.url, env=CACHE_ENV) as server:
        yield server


def graphql(gateway: GatewayProcess, token: str, query: str, variables: dict[str, Any] | None = None) -> Any:
    """The whole body of one GraphQL request over HTTP with ``token``."""
    response = httpx.post(
        gateway.graphql_url,
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code in (200, 401), response.text
    return response.json()
