"""Fixtures of the cache tests: gateway processes kept for the whole package (one per configuration, started when
first asked for), on the session's Polar and Voucherify sandboxes (reset before each test) and the session's
Redis (emptied before each test).

- ``pair``: two instances sharing Redis, the cache on by the webhook secret, ``extensions.cache`` on, Voucherify's
  customers cached too; the sandbox's webhook endpoint delivers to instance A only, so that whatever B learns of a
  change it learns through Redis. ``quiet_pair``: the same two with no endpoint at all, so that only a write's own
  invalidation (or Redis's epoch) can explain what B shows.
- single instances in this process's memory: ``trusting`` (a token's acceptance lasts 1 s), ``short_lived``
  (entries live 1 s; no extensions; Voucherify not cached), ``uncached`` (neither a webhook secret nor a TTL),
  ``switched_off`` (a webhook secret, and ``cache=false``).

The single instances keep their entries from test to test (a reset of the sandbox does not reach them): each
test reads customers no other test of the same instance reads (``demo_ids``, indexed per test)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import pytest

from gateway.sandbox.deliveries import generate_secret
from tests.cache.harness import CURSOR_SECRET, Gateway, Polar, close_controls
from tests.conftest import MANY_NEW_DOCUMENTS
from tests.redis_server import RedisServer
from tests.servers import SandboxProcess, gateway_process

TRUST_S = 1.0  # cache_token_revalidate_s of ``trusting``
TTL_S = 1.0  # cache_ttl_s of ``short_lived``
VOUCHERIFY_TTL_S = 60.0
REDIS_TIMEOUT_S = 0.1  # the defaults, written out: the outage tests wait for the retry window to pass
REDIS_RETRY_S = 1.0


@dataclass
class Pair:
    """Instances A and B of one deployment (one Redis, one cursor secret, one webhook secret)."""

    a: Gateway
    b: Gateway
    polar: Polar
    secret: str
    redis: RedisServer
    endpoint_id: str | None = None

    def deliver_to_a(self) -> str:
        """The Demo organization's webhook endpoint, at A with the deployment's secret (a reset removed it)."""
        self.endpoint_id = self.polar.register_endpoint(self.a.webhook_url, self.secret)
        return self.endpoint_id


@pytest.fixture(scope="package", autouse=True)
def _sandbox_controls() -> Iterator[None]:
    """The connections ``harness.stats`` keeps to the sandboxes, closed with the package."""
    yield
    close_controls()


@pytest.fixture(scope="package")
def cluster(
    sandbox_server: SandboxProcess, voucherify_server: SandboxProcess, redis_server: RedisServer
) -> Iterator[Pair]:
    secret = generate_secret()
    env = {
        **MANY_NEW_DOCUMENTS,
        "GATEWAY_POLAR_WEBHOOK_SECRET": secret,
        "GATEWAY_REDIS_URL": redis_server.url,
        "GATEWAY_CURSOR_SECRET": CURSOR_SECRET,
        "GATEWAY_CACHE_EXTENSIONS": "true",
        "GATEWAY_VOUCHERIFY_CACHE_TTL_S": str(VOUCHERIFY_TTL_S),
        "GATEWAY_CACHE_REDIS_TIMEOUT_S": str(REDIS_TIMEOUT_S),
        "GATEWAY_CACHE_REDIS_RETRY_S": str(REDIS_RETRY_S),
    }
    with ExitStack() as stack:
        a, b = (
            Gateway(
                stack.enter_context(gateway_process(sandbox_server.url, env=env, voucherify_url=voucherify_server.url)),
                sandbox_server,
                voucherify_server,
            )
            for _ in range(2)
        )
        polar = Polar(sandbox_server)
        stack.callback(polar.close)
        stack.callback(a.close)
        stack.callback(b.close)
        yield Pair(a, b, polar, secret, redis_server)


@pytest.fixture
def quiet_pair(
    cluster: Pair, sandbox: SandboxProcess, voucherify: SandboxProcess, fresh_redis: RedisServer
) -> Iterator[Pair]:
    """Both instances, with both sandboxes reset, Redis empty and no webhook endpoint."""
    cluster.endpoint_id = None
    yield cluster
    sandbox.reset()  # no delivery of this test's (retried after a 503, say) outlives it


@pytest.fixture
def pair(quiet_pair: Pair) -> Pair:
    """Both instances, the Demo organization's webhooks delivered to A."""
    quiet_pair.deliver_to_a()
    return quiet_pair


@contextmanager
def _alone(polar: SandboxProcess, voucherify: SandboxProcess, env: dict[str, str]) -> Iterator[Gateway]:
    with gateway_process(polar.url, env={**MANY_NEW_DOCUMENTS, **env}, voucherify_url=voucherify.url) as process:
        gateway = Gateway(process, polar, voucherify)
        try:
            yield gateway
        finally:
            gateway.close()


@pytest.fixture(scope="package")
def trusting_instance(sandbox_server: SandboxProcess, voucherify_server: SandboxProcess) -> Iterator[Gateway]:
    env = {
        "GATEWAY_CACHE_TTL_S": "60",
        "GATEWAY_CACHE_TOKEN_REVALIDATE_S": str(TRUST_S),
        "GATEWAY_CACHE_EXTENSIONS": "true",
    }
    with _alone(sandbox_server, voucherify_server, env) as gateway:
        yield gateway


@pytest.fixture(scope="package")
def short_lived_instance(sandbox_server: SandboxProcess, voucherify_server: SandboxProcess) -> Iterator[Gateway]:
    with _alone(sandbox_server, voucherify_server, {"GATEWAY_CACHE_TTL_S": str(TTL_S)}) as gateway:
        yield gateway


@pytest.fixture(scope="package")
def uncached_instance(sandbox_server: SandboxProcess, voucherify_server: SandboxProcess) -> Iterator[Gateway]:
    with _alone(sandbox_server, voucherify_server, {"GATEWAY_CACHE_EXTENSIONS": "true"}) as gateway:
        yield gateway


@pytest.fixture(scope="package")
def switched_off_instance(sandbox_server: SandboxProcess, voucherify_server: SandboxProcess) -> Iterator[Gateway]:
    env = {"GATEWAY_POLAR_WEBHOOK_SECRET": generate_secret(), "GATEWAY_CACHE": "false"}
    with _alone(sandbox_server, voucherify_server, env) as gateway:
        yield gateway


@pytest.fixture
def trusting(trusting_instance: Gateway, sandbox: SandboxProcess, voucherify: SandboxProcess) -> Gateway:
    """Entries live 60 s, a token's acceptance 1 s (``TRUST_S``); in memory; with ``extensions.cache``."""
    return trusting_instance


@pytest.fixture
def short_lived(short_lived_instance: Gateway, sandbox: SandboxProcess, voucherify: SandboxProcess) -> Gateway:
    """Entries live 1 s (``TTL_S``), no webhook secret; in memory; no ``extensions.cache``; Voucherify uncached."""
    return short_lived_instance


@pytest.fixture
def uncached(uncached_instance: Gateway, sandbox: SandboxProcess, voucherify: SandboxProcess) -> Gateway:
    """Neither a webhook secret nor a TTL (every cache setting at its default); ``extensions.cache`` asked for."""
    return uncached_instance


@pytest.fixture
def switched_off(switched_off_instance: Gateway, sandbox: SandboxProcess, voucherify: SandboxProcess) -> Gateway:
    """A webhook secret, which turns the cache on by default, and ``cache=false``."""
    return switched_off_instance


@pytest.fixture
def polar(sandbox: SandboxProcess) -> Iterator[Polar]:
    """The freshly reset sandbox's Polar API, as the Demo organization."""
    client = Polar(sandbox)
    yield client
    client.close()


@pytest.fixture
def demo_ids(polar: Polar) -> list[str]:
    """The first 100 customers of the Demo organization (the seed's, newest first): the same in every test."""
    return polar.customer_ids()
