"""Voucherify failing beside a healthy Polar: 429s, 5xx, dropped connections, a stall past the deadline, an
open breaker and a Voucherify that is not there. Every gateway here has short, bounded settings; assertions
are on codes and exact request counts, never on timings."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gateway.sandbox.seed import DEMO_TOKEN
from tests.conftest import MANY_NEW_DOCUMENTS
from tests.graphql_client import error_codes
from tests.servers import SandboxProcess, gateway_process
from tests.voucherify.client import CUSTOMER_ROUTE, LIST_ROUTE, VoucherifyGraphQL, sandbox_ids

RETRIES = 3
POLAR_SEED = 250
FAST_RETRIES = {
    **MANY_NEW_DOCUMENTS,
    "GATEWAY_RETRY_ATTEMPTS": str(RETRIES),
    "GATEWAY_RETRY_BACKOFF_S": "0.01",
    "GATEWAY_RETRY_BACKOFF_MAX_S": "0.05",
}


def _faults(server: SandboxProcess, **faults: Any) -> None:
    with server.control() as control:
        control.post("/__sandbox/faults", json=faults).raise_for_status()


def _lookup_beside_polar(vf: VoucherifyGraphQL, customer_id: str) -> dict[str, Any]:
    """One Voucherify lookup and one Polar field in one request; Polar must be served whatever happens."""
    body = vf.execute(f'{{ voucherifyCustomer(id: "{customer_id}") {{ id }} customers(first: 1) {{ totalCount }} }}')
    assert body["data"]["customers"] == {"totalCount": POLAR_SEED}
    return body


@pytest.fixture(scope="module")
def hasty_url(sandbox_server: SandboxProcess, voucherify_server: SandboxProcess) -> Iterator[str]:
    """A gateway with a 2 s deadline, three attempts a call and a breaker that practically never opens."""
    env = {**FAST_RETRIES, "GATEWAY_REQUEST_DEADLINE_S": "2", "GATEWAY_BREAKER_FAILURE_THRESHOLD": "10000"}
    with gateway_process(sandbox_server.url, env=env, voucherify_url=voucherify_server.url) as gateway:
        yield gateway.graphql_url


@pytest.fixture
def hasty(hasty_url: str, voucherify: SandboxProcess, sandbox: SandboxProcess) -> Iterator[VoucherifyGraphQL]:
    client = VoucherifyGraphQL(hasty_url, DEMO_TOKEN, voucherify)
    yield client
    client.close()


def test_a_429_past_the_deadline_is_rate_limited_with_retry_after_from_the_header(
    hasty: VoucherifyGraphQL, voucherify: SandboxProcess, vf_demo: httpx.Client
) -> None:
    customer_id = sandbox_ids(vf_demo)[0]
    _faults(voucherify, error_rate=1.0, error_status=429, retry_after=45)
    before = hasty.upstream_calls()
    body = _lookup_beside_polar(hasty, customer_id)
    assert body["data"]["voucherifyCustomer"] is None
    assert error_codes(body) == ["RATE_LIMITED"]
    assert body["errors"][0]["extensions"]["retryAfter"] == 45
    assert hasty.calls_since(before) == {CUSTOMER_ROUTE: 1}  # waiting 45 s does not fit the deadline: no retry

    listed = hasty.execute("{ voucherifyCustomers(first: 3) { totalCount } }")
    assert error_codes(listed) == ["RATE_LIMITED"]
    assert listed["errors"][0]["extensions"]["retryAfter"] == 45


def test_the_per_minute_limit_is_rate_limited_with_its_retry_after(
    hasty: VoucherifyGraphQL, voucherify: SandboxProcess, vf_demo: httpx.Client
) -> None:
    ids = sandbox_ids(vf_demo)
    _faults(voucherify, rate_limit_per_minute=2, retry_after=30)
    before = hasty.upstream_calls()
    for customer_id in ids[:2]:
        assert _lookup_beside_polar(hasty, customer_id)["data"]["voucherifyCustomer"] == {"id": customer_id}
    body = _lookup_beside_polar(hasty, ids[2])
    assert error_codes(body) == ["RATE_LIMITED"]
    assert body["errors"][0]["extensions"]["retryAfter"] == 30
    assert hasty.calls_since(before) == {CUSTOMER_ROUTE: 3}


def test_a_429_that_fits_the_deadline_is_retried_then_rate_limited(
    hasty: VoucherifyGraphQL, voucherify: SandboxProcess, vf_demo: httpx.Client
) -> None:
    customer_id = sandbox_ids(vf_demo)[0]
    _faults(voucherify, error_rate=1.0, error_status=429, retry_after=0)
    before = hasty.upstream_calls()
    body = _lookup_beside_polar(hasty, customer_id)
    assert error_codes(body) == ["RATE_LIMITED"]
    assert body["errors"][0]["extensions"]["retryAfter"] == 0
    assert hasty.calls_since(before) == {CUSTOMER_ROUTE: RETRIES}


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_retried_then_upstream_unavailable(
    hasty: VoucherifyGraphQL, voucherify: SandboxProcess, vf_demo: httpx.Client, status: int
) -> None:
    customer_id = sandbox_ids(vf_demo)[0]
    _faults(voucherify, error_rate=1.0, error_status=status)
    before = hasty.upstream_calls()
    body = _lookup_beside_polar(hasty, customer_id)
    assert body["data"]["voucherifyCustomer"] is None
    assert error_codes(body) == ["UPSTREAM_UNAVAILABLE"]
    assert body["errors"][0]["message"] == "Voucherify is unavailable."
    assert hasty.calls_since(before) == {CUSTOMER_ROUTE: RETRIES}

    before = hasty.upstream_calls()
    listed = hasty.execute("{ voucherifyCustomers(first: 3) { totalCount } }")
    assert error_codes(listed) == ["UPSTREAM_UNAVAILABLE"]
    assert hasty.calls_since(before) == {LIST_ROUTE: RETRIES}


def test_intermittent_5xx_are_retried_into_answers(
    hasty: VoucherifyGraphQL, voucherify: SandboxProcess, vf_demo: httpx.Client
) -> None:
    """40% of the answers fail (the sandbox's faults are seeded: the same ones every run); retries turn
    most reads into answers, and the sandbox saw more requests than reads."""
    ids = sandbox_ids(vf_demo)[:6]
    _faults(voucherify, error_rate=0.4, error_status=503)
    before = hasty.upstream_calls()
    answered = 0
    for customer_id in ids:
        body = _lookup_beside_polar(hasty, customer_id)
        if "errors" not in body:
            assert body["data"]["voucherifyCustomer"] == {"id": customer_id}
            answered += 1
        else:
            assert error_codes(body) == ["UPSTREAM_UNAVAILABLE"]  # three failures in a row (0.064 a read)
    calls = hasty.calls_since(before)[CUSTOMER_ROUTE]
    assert answered >= 4
    assert calls > len(ids)  # retries happened: the faults were real


def test_dropped_connections_are_retried_then_upstream_unavailable(
    hasty: VoucherifyGraphQL, voucherify: SandboxProcess, vf_demo: httpx.Client
) -> None:
    customer_id = sandbox_ids(vf_demo)[0]
    _faults(voucherify, drop_rate=1.0)
    before = hasty.upstream_calls()
    body = _lookup_beside_polar(hasty, customer_id)
    assert error_codes(body) == ["UPSTREAM_UNAVAILABLE"]
    assert hasty.calls_since(before) == {CUSTOMER_ROUTE: RETRIES}


def test_a_delete_on_a_dropped_connection_is_sent_once(
    hasty: VoucherifyGraphQL, voucherify: SandboxProcess, vf_demo: httpx.Client
) -> None:
    """A DELETE whose outcome is unknown is never repeated (a repeat would answer 404 for a customer the first
    one deleted): not by the gateway's retries, nor by the HTTP client's own retry of idempotent methods."""
    customer_id = sandbox_ids(vf_demo)[0]
    _faults(voucherify, drop_rate=1.0, methods=["DELETE"])  # the lookup before the delete is answered
    before = hasty.upstream_calls()
    body = hasty.execute(
        f'mutation {{ voucherifyCustomerDelete(id: "{customer_id}") {{ deletedCustomerId userErrors {{ code }} }} }}'
    )
    assert error_codes(body) == ["UPSTREAM_UNAVAILABLE"]
    assert body["errors"][0]["extensions"].get("outcomeUnknown") is True
    assert hasty.calls_since(before) == {CUSTOMER_ROUTE: 1, "DELETE /v1/customers/{customer_id}": 1}


def test_a_stall_past_the_deadline_is_upstream_timeout_and_polar_is_served(
    hasty: VoucherifyGraphQL, voucherify: SandboxProcess, vf_demo: httpx.Client
) -> None:
    customer_id = sandbox_ids(vf_demo)[0]
    _faults(voucherify, latency_ms=8_000)
    before = hasty.upstream_calls()
    body = _lookup_beside_polar(hasty, customer_id)
    assert body["data"]["voucherifyCustomer"] is None
    assert error_codes(body) == ["UPSTREAM_TIMEOUT"]
    assert body["errors"][0]["message"] == "Voucherify did not answer in time."
    assert hasty.calls_since(before) == {CUSTOMER_ROUTE: 1}  # the deadline was spent on the first attempt


@pytest.fixture
def fragile(
    sandbox_server: SandboxProcess, voucherify: SandboxProcess, sandbox: SandboxProcess
) -> Iterator[VoucherifyGraphQL]:
    """A gateway whose Voucherify breaker opens after 3 failed calls (one attempt each) and stays open."""
    env = {
        **MANY_NEW_DOCUMENTS, "GATEWAY_RETRY_ATTEMPTS": "1", "GATEWAY_BREAKER_FAILURE_THRESHOLD": "3",
        "GATEWAY_BREAKER_RESET_S": "600",
    }  # fmt: skip
    with gateway_process(sandbox_server.url, env=env, voucherify_url=voucherify.url) as gateway:
        client = VoucherifyGraphQL(gateway.graphql_url, DEMO_TOKEN, voucherify)
        yield client
        client.close()


def test_the_voucherify_breaker_opens_after_failures_and_leaves_polar_alone(
    fragile: VoucherifyGraphQL, voucherify: SandboxProcess, sandbox: SandboxProcess, vf_demo: httpx.Client
) -> None:
    ids = sandbox_ids(vf_demo)
    _faults(voucherify, error_rate=1.0, error_status=429, retry_after=1)
    for customer_id in ids[:5]:  # refusals are answers: they do not count as failures
        assert error_codes(_lookup_beside_polar(fragile, customer_id)) == ["RATE_LIMITED"]
    _faults(voucherify, error_rate=1.0, error_status=503)
    before = fragile.upstream_calls()
    for customer_id in ids[5:8]:
        assert error_codes(_lookup_beside_polar(fragile, customer_id)) == ["UPSTREAM_UNAVAILABLE"]
    assert fragile.calls_since(before) == {CUSTOMER_ROUTE: 3}

    _faults(voucherify, error_rate=0.0)  # Voucherify is well again, but the breaker stays open for 600 s
    before = fragile.upstream_calls()
    polar_before = sandbox.stats()
    for customer_id in ids[8:12]:
        body = fragile.execute(
            f'{{ voucherifyCustomer(id: "{customer_id}") {{ id }} customers(first: 3) {{ totalCount nodes {{ id }} }} }}'
        )
        assert body["data"]["voucherifyCustomer"] is None
        assert error_codes(body) == ["UPSTREAM_UNAVAILABLE"]
        assert "failing fast" in body["errors"][0]["message"]
        assert body["data"]["customers"]["totalCount"] == POLAR_SEED
        assert len(body["data"]["customers"]["nodes"]) == 3
    listed = fragile.execute("{ voucherifyCustomers(first: 3) { totalCount } }")
    assert error_codes(listed) == ["UPSTREAM_UNAVAILABLE"]
    assert fragile.calls_since(before) == {}  # nothing reached Voucherify while the breaker was open
    polar_calls = {route: count - polar_before.get(route, 0) for route, count in sandbox.stats().items()}
    assert polar_calls == {"GET /v1/customers/": 4}  # Polar was asked, once a request


def test_four_hundreds_do_not_open_the_breaker(
    fragile: VoucherifyGraphQL, voucherify: SandboxProcess, vf_demo: httpx.Client
) -> None:
    ids = sandbox_ids(vf_demo)
    for n in range(6):  # 404s: customers that do not exist
        assert _lookup_beside_polar(fragile, f"cust_missing{n}")["data"]["voucherifyCustomer"] is None
    _faults(voucherify, error_rate=1.0, error_status=429, retry_after=1)
    for customer_id in ids[:4]:
        assert error_codes(_lookup_beside_polar(fragile, customer_id)) == ["RATE_LIMITED"]
    _faults(voucherify, error_rate=0.0)
    assert _lookup_beside_polar(fragile, ids[0])["data"]["voucherifyCustomer"] == {"id": ids[0]}


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_voucherify_that_is_down_leaves_polar_served(
    sandbox_server: SandboxProcess, voucherify: SandboxProcess, sandbox: SandboxProcess
) -> None:
    down = f"http://127.0.0.1:{_closed_port()}"
    env = {**FAST_RETRIES, "GATEWAY_REQUEST_DEADLINE_S": "5"}
    with gateway_process(sandbox_server.url, env=env, voucherify_url=down) as gateway:
        client = VoucherifyGraphQL(gateway.graphql_url, DEMO_TOKEN, voucherify)
        try:
            body = _lookup_beside_polar(client, "cust_anyone")
            assert body["data"]["voucherifyCustomer"] is None
            assert error_codes(body) == ["UPSTREAM_UNAVAILABLE"]
            assert "127.0.0.1" not in str(body["errors"])  # no upstream address in the answer
            assert error_codes(client.execute("{ voucherifyCustomers(first: 3) { totalCount } }")) == [
                "UPSTREAM_UNAVAILABLE"
            ]
        finally:
            client.close()
    assert voucherify.stats() == {}  # the session's Voucherify sandbox was never asked
