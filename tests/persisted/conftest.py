"""Gateway processes of the persisted-documents tests, kept for the whole package (one per configuration, started
when first asked for), on the session's Polar and Voucherify sandboxes (reset before each test that counts
their calls) and the session's Redis (emptied before each test that uses it):

- ``apq_gateway``: automatic persisted queries in this process, beside a manifest (Relay's format) whose
  documents run by id for anyone, ad-hoc documents still allowed;
- ``redis_pair``: two instances sharing the session's Redis (its timeout generous, as on a loaded test machine;
  its retry window short, so that a test of an outage sees Redis used again soon after it is back).

Each test sends documents no other test sends (``harness.unique``), so a kept gateway's store and document
cache carry nothing one test could see of another."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import MANY_NEW_DOCUMENTS
from tests.persisted.harness import TRUST_ENV, proven, write_relay_manifest
from tests.redis_server import RedisServer
from tests.servers import GatewayProcess, SandboxProcess, gateway_process

REDIS_TIMEOUT_S = 5.0
REDIS_RETRY_S = 0.3
# Documents of the manifest beside automatic persisted queries (``apq_gateway``).
PUBLIC_TYPENAME = "query PublicTypename { __typename }"
PUBLIC_CUSTOMERS = "query PublicCustomers { customers(first: 1) { totalCount } }"


@dataclass
class Pair:
    """Instances A and B of one deployment, sharing one Redis."""

    a: GatewayProcess
    b: GatewayProcess
    redis: RedisServer


@pytest.fixture(scope="package")
def manifest_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("persisted-manifests")


@pytest.fixture(scope="package")
def apq_gateway(
    sandbox_server: SandboxProcess, voucherify_server: SandboxProcess, manifest_dir: Path
) -> Iterator[GatewayProcess]:
    manifest = write_relay_manifest(manifest_dir / "public.json", [PUBLIC_TYPENAME, PUBLIC_CUSTOMERS])
    env = {**MANY_NEW_DOCUMENTS, **TRUST_ENV, "GATEWAY_TRUSTED_DOCUMENTS": str(manifest)}
    with gateway_process(sandbox_server.url, env=env, voucherify_url=voucherify_server.url) as server:
        yield proven(server, sandbox_server, voucherify_server)


@pytest.fixture(scope="package")
def _pair(
    sandbox_server: SandboxProcess, voucherify_server: SandboxProcess, redis_server: RedisServer
) -> Iterator[Pair]:
    env = {
        **MANY_NEW_DOCUMENTS,
        **TRUST_ENV,
        "GATEWAY_REDIS_URL": redis_server.url,
        "GATEWAY_CACHE_REDIS_TIMEOUT_S": str(REDIS_TIMEOUT_S),
        "GATEWAY_CACHE_REDIS_RETRY_S": str(REDIS_RETRY_S),
    }
    with ExitStack() as stack:
        a, b = (
            stack.enter_context(gateway_process(sandbox_server.url, env=env, voucherify_url=voucherify_server.url))
            for _ in range(2)
        )
        yield Pair(proven(a, sandbox_server, voucherify_server), proven(b, sandbox_server, voucherify_server), redis_server)


@pytest.fixture
def redis_pair(_pair: Pair, fresh_redis: RedisServer, sandbox: SandboxProcess) -> Pair:
    """Both instances, on an emptied Redis (running again if an earlier test stopped it) and a reset sandbox."""
    return _pair
