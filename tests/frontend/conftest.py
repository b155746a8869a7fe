"""The servers the frontend clients talk to, on the session's sandboxes and Redis (tests/conftest.py):

- gateway A, which takes the Polar sandbox's webhooks (subscriptions) and keeps APQ entries in Redis;
- gateway B, on the same Redis with the same settings: a second instance, for the APQ client that was never
  told the document;
- the trusted-documents gateway, started only for that test, on a manifest that Apollo's own tool
  (``@apollo/generate-persisted-query-manifest``) makes in this run from tests/node/clients/documents.

The sandboxes are reset before each test (the ``sandbox`` and ``voucherify`` fixtures); a reset deletes the
Demo organization's webhook endpoints, so gateway A's is made again, with the same secret, each time."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis

from gateway.sandbox.seed import DEMO_TOKEN, OTHER_TOKEN
from gateway.sandbox.voucherify.seed import DEMO_APP_ID, DEMO_APP_TOKEN
from tests.conftest import MANY_NEW_DOCUMENTS
from tests.live.gateways import LiveGateway
from tests.live_shared.harness import Endpoint
from tests.node_tools import NODE_DIR, require_node_for_routers
from tests.redis_server import RedisServer
from tests.servers import GatewayProcess, SandboxProcess, gateway_process

CLIENTS_DIR = NODE_DIR / "clients"
DOCUMENTS_GLOB = "clients/documents/*.graphql"  # relative to NODE_DIR, where the tool runs (as `npm run` would)
MANIFEST_TOOL = NODE_DIR / "node_modules" / "@apollo" / "generate-persisted-query-manifest" / "cli.js"
TOOL_TIMEOUT_S = 60
CURSOR_SECRET = "frontend-suite-cursor-secret-0123456789abcdef"


@dataclass(frozen=True)
class Gateways:
    """Gateways A and B (same Redis, same settings) and the webhook secret A's endpoint is made with."""

    a: GatewayProcess
    b: GatewayProcess
    webhook_secret: str


@pytest.fixture(scope="module")
def frontend_gateways(
    sandbox_server: SandboxProcess, voucherify_server: SandboxProcess, redis_server: RedisServer
) -> Iterator[Gateways]:
    """Gateways A and B for the module, on an empty Redis, with one cursor secret and the webhook secret of an
    endpoint that ``frontend`` makes again after each reset."""
    sandbox_server.reset()
    if not redis_server.running:
        redis_server.start()
    with redis.Redis.from_url(redis_server.url, socket_timeout=5) as client:
        client.flushall()
    secret = Endpoint.register(sandbox_server).secret  # an endpoint's secret as Polar makes them
    env = {
        **MANY_NEW_DOCUMENTS,
        "GATEWAY_POLAR_WEBHOOK_SECRET": secret,
        "GATEWAY_REDIS_URL": redis_server.url,
        "GATEWAY_CURSOR_SECRET": CURSOR_SECRET,  # one deployment: a cursor from one instance is good on the other
    }
    with ExitStack() as stack:
        a, b = (
            stack.enter_context(gateway_process(sandbox_server.url, env=env, voucherify_url=voucherify_server.url))
            for _ in range(2)
        )
        yield Gateways(a, b, secret)


@pytest.fixture
def frontend(frontend_gateways: Gateways, sandbox: SandboxProcess, voucherify: SandboxProcess) -> Gateways:
    """The module's gateways on freshly reset sandboxes, Polar's webhooks going to gateway A."""
    LiveGateway(sandbox, frontend_gateways.a, frontend_gateways.webhook_secret, None).register()
    return frontend_gateways


@pytest.fixture(scope="module")
def trusted_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The persisted-query manifest of the suite's documents, made now by Apollo's CLI into a temporary
    directory (never checked in): what an app's build makes before it deploys."""
    node = require_node_for_routers()
    directory = tmp_path_factory.mktemp("trusted-documents")
    manifest = directory / "persisted-query-manifest.json"
    config = directory / "persisted-query-manifest.config.json"
    config.write_text(json.dumps({"documents": [DOCUMENTS_GLOB], "output": str(manifest)}))
    done = subprocess.run(
        [node, str(MANIFEST_TOOL), "--config", str(config)],
        cwd=NODE_DIR, capture_output=True, text=True, timeout=TOOL_TIMEOUT_S,
    )  # fmt: skip
    assert done.returncode == 0, f"generate-persisted-query-manifest failed:\n{done.stdout}\n{done.stderr}"
    assert manifest.exists(), f"no manifest written:\n{done.stdout}\n{done.stderr}"
    return manifest


@pytest.fixture(scope="module")
def trusted_server(
    sandbox_server: SandboxProcess,
    voucherify_server: SandboxProcess,
    trusted_manifest: Path,
    frontend_gateways: Gateways,
) -> Iterator[GatewayProcess]:
    env = {
        **MANY_NEW_DOCUMENTS,
        "GATEWAY_TRUSTED_DOCUMENTS": str(trusted_manifest),
        "GATEWAY_TRUSTED_DOCUMENTS_ONLY": "true",
        "GATEWAY_POLAR_WEBHOOK_SECRET": frontend_gateways.webhook_secret,
    }
    with gateway_process(sandbox_server.url, env=env, voucherify_url=voucherify_server.url) as gateway:
        yield gateway


@pytest.fixture
def trusted_gateway(trusted_server: GatewayProcess, frontend: Gateways, sandbox: SandboxProcess) -> GatewayProcess:
    """A gateway that serves only the manifest's documents, taking Polar's webhooks (a second endpoint of the
    Demo organization, beside gateway A's, on the freshly reset sandbox)."""
    LiveGateway(sandbox, trusted_server, frontend.webhook_secret, None).register()
    return trusted_server


def customer_count(sandbox: SandboxProcess, token: str) -> int:
    """How many customers the token's organization has, asked of the Polar sandbox itself (not the gateway)."""
    response = httpx.get(
        f"{sandbox.url}/v1/customers/", params={"limit": 1}, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    response.raise_for_status()
    total: int = response.json()["pagination"]["total_count"]
    return total


@pytest.fixture
def client_env(frontend: Gateways, sandbox: SandboxProcess) -> dict[str, str]:
    """What the Node tests read (tests/node/clients/lib.mjs): the servers' URLs, the demo credentials, and
    the customer counts of the sandbox's seed."""
    return {
        "FRONTEND_GATEWAY_URL": frontend.a.graphql_url,
        "FRONTEND_GATEWAY_B_URL": frontend.b.graphql_url,
        "FRONTEND_POLAR_TOKEN": DEMO_TOKEN,
        "FRONTEND_OTHER_TOKEN": OTHER_TOKEN,
        "FRONTEND_DEMO_CUSTOMERS": str(customer_count(sandbox, DEMO_TOKEN)),
        "FRONTEND_OTHER_CUSTOMERS": str(customer_count(sandbox, OTHER_TOKEN)),
        "FRONTEND_VOUCHERIFY_APP_ID": DEMO_APP_ID,
        "FRONTEND_VOUCHERIFY_APP_TOKEN": DEMO_APP_TOKEN,
    }
