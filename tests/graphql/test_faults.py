"""The gateway against a misbehaving upstream, through the sandbox's fault controls. Every loop is
bounded in count, and every wait in time."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gateway.sandbox.seed import DEMO_TOKEN
from tests.graphql_client import GraphQL, error_codes
from tests.servers import GatewayProcess, SandboxProcess, gateway_process

PAGE_WITH_STATE = "{ customers(first: 50) { nodes { id state { activeSubscriptions { id } grantedBenefits { id } activeMeters { id } } } } }"
CREATE = """mutation($input: CustomerCreateInput!) { customerCreate(input: $input) {
  customer { id externalId } userErrors { code } } }"""


def _faults(sandbox: SandboxProcess, **faults: Any) -> None:
    with sandbox.control() as control:
        control.post("/__sandbox/faults", json=faults).raise_for_status()


@pytest.fixture
def patient_gateway(sandbox: SandboxProcess) -> Iterator[GraphQL]:
    """Enough retries that 30% failures practically never exhaust them (0.3**10 per call)."""
    env = {"GATEWAY_RETRY_ATTEMPTS": "10", "GATEWAY_RETRY_BACKOFF_S": "0.01", "GATEWAY_RETRY_BACKOFF_MAX_S": "0.1"}
    with gateway_process(sandbox.url, env=env) as gateway:
        client = GraphQL(gateway.graphql_url, DEMO_TOKEN, sandbox)
        yield client
        client.close()


def test_reads_succeed_while_30_percent_of_answers_are_503(patient_gateway: GraphQL, sandbox: SandboxProcess) -> None:
    reference = patient_gateway.data(PAGE_WITH_STATE)
    patient_gateway.reset_sandbox()
    _faults(sandbox, error_rate=0.3, error_status=503)
    for _ in range(10):
        assert patient_gateway.data(PAGE_WITH_STATE) == reference
    assert sum(patient_gateway.upstream_calls().values()) > 40  # retries happened: the faults were real


def test_dropped_connections_are_retried_for_reads(patient_gateway: GraphQL, sandbox: SandboxProcess) -> None:
    reference = patient_gateway.data(PAGE_WITH_STATE)
    _faults(sandbox, drop_rate=0.3)
    for _ in range(5):
        assert patient_gateway.data(PAGE_WITH_STATE) == reference


def test_writes_under_503s_fail_clearly_and_are_never_duplicated(
    patient_gateway: GraphQL, sandbox: SandboxProcess, demo: httpx.Client
) -> None:
    _faults(sandbox, error_rate=0.3, error_status=503)
    acknowledged, refused = [], []
    for n in range(20):
        body = patient_gateway.execute(CREATE, {"input": {"email": f"w{n}@fastmail.com", "externalId": f"w-{n}"}})
        if "errors" in body:
            assert error_codes(body) == ["UPSTREAM_UNAVAILABLE"]
            assert not body["errors"][0]["extensions"].get("outcomeUnknown")  # a 503 is an answer
            refused.append(f"w-{n}")
        else:
            acknowledged.append(body["data"]["customerCreate"]["customer"]["externalId"])
    _faults(sandbox, error_rate=0.0)
    assert refused  # 0.7**20: the faults were on
    for external_id in acknowledged:
        n = external_id.removeprefix("w-")
        assert len(demo.get("/v1/customers/", params={"email": f"w{n}@fastmail.com"}).json()["items"]) == 1
        assert demo.get(f"/v1/customers/external/{external_id}").status_code == 200
    for external_id in refused:
        assert demo.get(f"/v1/customers/external/{external_id}").status_code == 404


@pytest.fixture
def hasty_gateway(sandbox: SandboxProcess) -> Iterator[GraphQL]:
    env = {"GATEWAY_REQUEST_DEADLINE_S": "1"}
    with gateway_process(sandbox.url, env=env) as gateway:
        client = GraphQL(gateway.graphql_url, DEMO_TOKEN, sandbox)
        yield client
        client.close()


def test_a_stalled_upstream_is_upstream_timeout_within_the_deadline(
    hasty_gateway: GraphQL, sandbox: SandboxProcess
) -> None:
    _faults(sandbox, latency_ms=20_000)
    started = time.monotonic()
    body = hasty_gateway.execute("{ customers(first: 5) { totalCount } }")
    elapsed = time.monotonic() - started
    assert error_codes(body) == ["UPSTREAM_TIMEOUT"]
    assert elapsed < 10  # the 1 s deadline's answer, not the upstream's 20 s one (a wide margin: no timing claim)


def test_a_429_that_fits_the_deadline_is_retried(patient_gateway: GraphQL, sandbox: SandboxProcess) -> None:
    _faults(sandbox, error_rate=0.5, error_status=429, retry_after=0)
    assert patient_gateway.data("{ customers(first: 5) { totalCount } }") == {"customers": {"totalCount": 250}}


def test_a_429_past_the_deadline_is_rate_limited_with_retry_after(
    hasty_gateway: GraphQL, sandbox: SandboxProcess
) -> None:
    _faults(sandbox, rate_limit_per_minute=1)
    assert hasty_gateway.data("{ customers(first: 1) { totalCount } }")
    started = time.monotonic()
    body = hasty_gateway.execute("{ customers(first: 1) { totalCount } }")
    assert error_codes(body) == ["RATE_LIMITED"]
    assert body["errors"][0]["extensions"]["retryAfter"] == 60
    assert time.monotonic() - started < 30  # answered without waiting out the 60 s (a wide margin, no timing claim)


def test_one_failed_field_leaves_the_rest_of_the_answer(
    hasty_gateway: GraphQL, sandbox: SandboxProcess, demo: httpx.Client
) -> None:
    customer = demo.get("/v1/customers/", params={"limit": 1}).json()["items"][0]
    body = hasty_gateway.execute(
        f'{{ ok: customer(id: "{customer["id"]}") {{ id }} bad: customer(id: "not-a-uuid") {{ id }} }}'
    )
    assert body["data"] == {"ok": {"id": customer["id"]}, "bad": None}
    assert error_codes(body) == ["BAD_USER_INPUT"]


@pytest.fixture
def fragile_gateway(sandbox: SandboxProcess) -> Iterator[tuple[GraphQL, GatewayProcess]]:
    env = {"GATEWAY_RETRY_ATTEMPTS": "1", "GATEWAY_BREAKER_FAILURE_THRESHOLD": "3", "GATEWAY_BREAKER_RESET_S": "1"}
    with gateway_process(sandbox.url, env=env) as gateway:
        client = GraphQL(gateway.graphql_url, DEMO_TOKEN, sandbox)
        yield client, gateway
        client.close()


def test_the_breaker_opens_fails_fast_and_closes_with_readyz_following(
    fragile_gateway: tuple[GraphQL, GatewayProcess], sandbox: SandboxProcess
) -> None:
    gql, gateway = fragile_gateway
    ready = httpx.get(f"{gateway.url}/readyz")
    assert (ready.status_code, ready.json()["breaker"]) == (200, "closed")
    _faults(sandbox, error_rate=1.0, error_status=503)
    for _ in range(3):
        assert error_codes(gql.execute("{ customers(first: 1) { totalCount } }")) == ["UPSTREAM_UNAVAILABLE"]
    not_ready = httpx.get(f"{gateway.url}/readyz")
    assert (not_ready.status_code, not_ready.json()["breaker"]) == (503, "open")
    before = gql.upstream_calls()
    assert error_codes(gql.execute("{ customers(first: 1) { totalCount } }")) == ["UPSTREAM_UNAVAILABLE"]
    assert gql.calls_since(before) == {}  # failing fast: the upstream was not called
    _faults(sandbox, error_rate=0.0)
    time.sleep(1.1)
    assert gql.data("{ customers(first: 1) { totalCount } }") == {"customers": {"totalCount": 250}}
    again = httpx.get(f"{gateway.url}/readyz")
    expected = {"status": "ready", "upstream": "answers", "breaker": "closed", "voucherify_breaker": "closed"}
    assert (again.status_code, again.json()) == (200, expected)


def test_readyz_says_when_the_upstream_is_down() -> None:
    with gateway_process("http://127.0.0.1:9") as gateway:  # nothing listens on the discard port
        response = httpx.get(f"{gateway.url}/readyz", timeout=10)
    assert response.status_code == 503
    assert response.json()["upstream"] == "down"
