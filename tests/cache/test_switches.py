"""When the cache is on: by default only where entries can be invalidated (a webhook secret), or where an operator
chose how stale they may be (cache_ttl_s); never with cache=false; and not at all, with a warning, in
``serve --workers N`` without Redis (each worker would keep its own entries). cache=true with neither a webhook
secret nor a TTL is refused before the gateway starts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.cache.harness import COLD_CUSTOMER, Gateway, Polar, until
from tests.servers import SandboxProcess, gateway_process

REFUSED = (
    "cache is on but nothing can invalidate it: set polar_webhook_secret (Polar's webhooks invalidate entries), "
    "or cache_ttl_s (how stale an entry may be)"
)
WORKERS_WARNING = "the cache of upstream reads is off, since each worker would keep its own"
EMBEDDED = re.compile(r"upstream: embedded Polar sandbox at (http://127\.0\.0\.1:\d+)")


def _read_twice(gateway: Gateway, customer_id: str) -> tuple[dict[str, int], dict[str, int]]:
    first, second = gateway.customer(customer_id), gateway.customer(customer_id)
    assert first.data == second.data
    return first.polar, second.polar


def test_without_a_webhook_secret_or_a_ttl_nothing_is_cached(uncached: Gateway, demo_ids: list[str]) -> None:
    assert _read_twice(uncached, demo_ids[50]) == (COLD_CUSTOMER, COLD_CUSTOMER)


def test_cache_false_turns_it_off_even_with_a_webhook_secret(switched_off: Gateway, demo_ids: list[str]) -> None:
    assert _read_twice(switched_off, demo_ids[51]) == (COLD_CUSTOMER, COLD_CUSTOMER)


def test_cache_true_with_nothing_to_invalidate_it_refuses_to_start(sandbox: SandboxProcess) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith("GATEWAY_")}
    command = [sys.executable, "-m", "gateway", "serve", "--port", "0", "--upstream-url", sandbox.url]
    ended = subprocess.run(
        command, env={**env, "GATEWAY_CACHE": "true"}, capture_output=True, text=True, timeout=60, check=False
    )
    assert ended.returncode != 0
    assert "listening" not in ended.stdout
    assert REFUSED in ended.stderr, ended.stderr


@pytest.fixture
def workers(sandbox: SandboxProcess) -> Iterator[Gateway]:
    """``serve --workers 2`` without Redis, asked for a cache with a TTL."""
    env = {"GATEWAY_WORKERS": "2", "GATEWAY_CACHE_TTL_S": "60", "GATEWAY_CACHE_EXTENSIONS": "true"}
    with gateway_process(sandbox.url, env=env) as process:
        gateway = Gateway(process, sandbox)
        yield gateway
        gateway.close()


def test_workers_without_redis_turn_the_cache_off_with_a_warning(workers: Gateway, demo_ids: list[str]) -> None:
    assert WORKERS_WARNING in workers.log()
    # One kept-alive connection: every request goes to the worker that accepted it, which would have the entries.
    first, second = _read_twice(workers, demo_ids[52])
    assert (first, second) == (COLD_CUSTOMER, COLD_CUSTOMER)
    assert workers.customer(demo_ids[52]).polar == COLD_CUSTOMER


@pytest.fixture
def embedded() -> Iterator[Gateway]:
    """``serve`` with no upstream: its own sandbox, whose webhooks it registers for and verifies with the secret
    the sandbox gave it (the subscriptions are fed by them)."""
    with gateway_process(None) as process:
        found = until(lambda: EMBEDDED.search("".join(process.output)), 10, "the embedded sandbox's address")
        gateway = Gateway(process, SandboxProcess(found.group(1), process.process))
        yield gateway
        gateway.close()


def test_the_embedded_sandbox_default_caches(embedded: Gateway) -> None:
    """``settings.cache``: "None: on wherever entries can be invalidated, that is with polar_webhook_secret (the
    embedded default has one)". It has one, taken at start-up, and webhooks reach it; so its reads are cached."""
    polar = Polar(embedded.polar)
    try:
        customer_id = polar.customer_ids()[0]
    finally:
        polar.close()
    assert _read_twice(embedded, customer_id) == (COLD_CUSTOMER, {})
