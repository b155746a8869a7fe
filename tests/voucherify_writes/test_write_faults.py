"""Voucherify failing under a write, through a gateway of this module's own (its breaker never opens here, so
the counts are the retries' alone): a 400 is a userError, a 429 RATE_LIMITED with retryAfter, a 5xx or a
dropped connection is retried only for the writes that are safe to repeat (upsert, update), and a write that
may have been applied says so (``outcomeUnknown``). Each count is the sandbox's own, by route."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.servers import GatewayProcess, SandboxProcess, gateway_process
from tests.voucherify_writes.client import NO_KEYS, Transcript, Upstream, VoucherifyGraphQL, codes, set_faults

UPSERT = """mutation($input: VoucherifyCustomerUpsertInput!) {
  voucherifyCustomerUpsert(input: $input) { customer { id sourceId } userErrors { field message code } } }"""
UPDATE = """mutation($id: ID!) {
  voucherifyCustomerUpdate(id: $id, input: {name: "Changed"}) { customer { id } userErrors { field message code } } }"""
DELETE = "mutation($id: ID!) { voucherifyCustomerDelete(id: $id) { deletedCustomerId userErrors { code } } }"
BULK = """mutation { voucherifyCustomersBulkUpdate(customers: [{sourceId: "crm_fault_bulk", name: "Bulk"}]) {
  asyncAction { id } userErrors { field message code } } }"""
METADATA = """mutation { voucherifyCustomersMetadataBulkUpdate(sourceIds: ["crm_fault_meta"], metadata: {a: 1}) {
  asyncAction { id } userErrors { field message code } } }"""
LOOKUP = "GET /v1/customers/{customer_id}"  # every write by id or source id finds its customer first
CREATE_ROUTE = "POST /v1/customers"
BULK_ROUTE = "POST /v1/customers/bulk/async"
METADATA_ROUTE = "POST /v1/customers/metadata/async"
RETRY_ATTEMPTS = 3  # the setting's default


@pytest.fixture(scope="module")
def fault_gateway(sandbox_server: SandboxProcess, voucherify_server: SandboxProcess,
                  transcript: Transcript) -> Iterator[GatewayProcess]:  # fmt: skip
    env = {"GATEWAY_BREAKER_FAILURE_THRESHOLD": "1000"}
    with gateway_process(sandbox_server.url, env=env, voucherify_url=voucherify_server.url) as server:
        transcript.gateways.append(server)
        yield server
        transcript.gateways.remove(server)
        assert transcript.leaks() == []


@pytest.fixture
def vf(
    fault_gateway: GatewayProcess, voucherify: SandboxProcess, transcript: Transcript
) -> Iterator[VoucherifyGraphQL]:
    client = VoucherifyGraphQL(fault_gateway.graphql_url, voucherify, transcript)
    yield client
    client.close()


def payload(body: dict[str, Any], field: str) -> dict[str, Any]:
    assert "errors" not in body, body["errors"]
    found: dict[str, Any] = body["data"][field]
    return found


# 400: the caller's input, refused ---------------------------------------------------------------


def test_a_400_on_upsert_is_a_user_error_and_is_not_retried(
    vf: VoucherifyGraphQL, voucherify: SandboxProcess, upstream: Upstream
) -> None:
    total = upstream.total()
    set_faults(voucherify, error_rate=1.0, error_status=400)
    before = vf.calls()
    result = payload(
        vf.execute(UPSERT, {"input": {"sourceId": "crm_fault_400", "name": "x"}}), "voucherifyCustomerUpsert"
    )
    assert result["customer"] is None
    assert result["userErrors"] == [{"field": ["input"], "message": "Voucherify refused the input.", "code": "INVALID"}]
    assert vf.calls_since(before) == {CREATE_ROUTE: 1}
    set_faults(voucherify, error_rate=0.0)
    assert upstream.total() == total


def test_a_400_on_bulk_update_is_a_user_error_on_customers(vf: VoucherifyGraphQL, voucherify: SandboxProcess) -> None:
    set_faults(voucherify, error_rate=1.0, error_status=400)
    before = vf.calls()
    result = payload(vf.execute(BULK), "voucherifyCustomersBulkUpdate")
    assert result["asyncAction"] is None
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [(["customers"], "INVALID")]
    assert vf.calls_since(before) == {BULK_ROUTE: 1}


# 429: rate limited --------------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "field", "route"), [
    (BULK, "voucherifyCustomersBulkUpdate", BULK_ROUTE),
    (METADATA, "voucherifyCustomersMetadataBulkUpdate", METADATA_ROUTE),
])  # fmt: skip
def test_a_429_on_a_bulk_post_is_rate_limited_with_retry_after_and_sent_once(
    vf: VoucherifyGraphQL, voucherify: SandboxProcess, upstream: Upstream, query: str, field: str, route: str
) -> None:
    set_faults(voucherify, error_rate=1.0, error_status=429, retry_after=7)
    before = vf.calls()
    body = vf.execute(query)
    assert codes(body) == ["RATE_LIMITED"]
    assert body["errors"][0]["extensions"]["retryAfter"] == 7
    assert body["errors"][0]["path"] == [field]
    assert vf.calls_since(before) == {route: 1}  # a POST that queues work is never repeated
    set_faults(voucherify, error_rate=0.0)
    assert upstream.customer("crm_fault_bulk") is None


def test_the_sandbox_rate_limit_per_minute_reaches_the_caller_as_rate_limited(
    vf: VoucherifyGraphQL, voucherify: SandboxProcess
) -> None:
    set_faults(voucherify, rate_limit_per_minute=1, retry_after=30)
    first = payload(vf.execute(BULK), "voucherifyCustomersBulkUpdate")
    assert first["asyncAction"]["id"].startswith("aa_")  # the one call of the minute (and one read of it)
    before = vf.calls()
    body = vf.execute(METADATA)
    assert codes(body) == ["RATE_LIMITED"]
    assert body["errors"][0]["extensions"]["retryAfter"] == 30
    assert vf.calls_since(before) == {METADATA_ROUTE: 1}


def test_a_429_on_upsert_waits_retry_after_and_retries(
    vf: VoucherifyGraphQL, voucherify: SandboxProcess, upstream: Upstream
) -> None:
    """The upsert is safe to repeat: after Voucherify's 429 (Retry-After: 1) it is sent again, and this time
    the sandbox, told meanwhile to stop refusing, takes it."""
    set_faults(voucherify, error_rate=1.0, error_status=429, retry_after=1)
    before = vf.calls()

    def lift_after_first_call() -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and vf.calls_since(before).get(CREATE_ROUTE, 0) < 1:
            time.sleep(0.02)
        set_faults(voucherify, error_rate=0.0)

    lifter = threading.Thread(target=lift_after_first_call)
    lifter.start()
    started = time.monotonic()
    body = vf.execute(UPSERT, {"input": {"sourceId": "crm_fault_429", "name": "Patient"}})
    elapsed = time.monotonic() - started
    lifter.join()
    result = payload(body, "voucherifyCustomerUpsert")
    assert result["userErrors"] == []
    assert vf.calls_since(before)[CREATE_ROUTE] == 2
    assert elapsed >= 0.9  # it waited what Retry-After asked
    assert upstream.must("crm_fault_429")["name"] == "Patient"


# 5xx and dropped connections ---------------------------------------------------------------------


def test_a_503_on_upsert_is_retried_then_unavailable(
    vf: VoucherifyGraphQL, voucherify: SandboxProcess, upstream: Upstream
) -> None:
    total = upstream.total()
    set_faults(voucherify, error_rate=1.0, error_status=503)
    before = vf.calls()
    body = vf.execute(UPSERT, {"input": {"sourceId": "crm_fault_503", "name": "x"}})
    assert codes(body) == ["UPSTREAM_UNAVAILABLE"]
    assert "outcomeUnknown" not in body["errors"][0]["extensions"]  # Voucherify answered: nothing was applied
    assert vf.calls_since(before) == {CREATE_ROUTE: RETRY_ATTEMPTS}
    set_faults(voucherify, error_rate=0.0)
    assert upstream.total() == total


def test_a_500_on_update_is_retried(vf: VoucherifyGraphQL, voucherify: SandboxProcess, upstream: Upstream) -> None:
    seeded = upstream.first_customers(1)[0]
    set_faults(voucherify, error_rate=1.0, error_status=500, methods=["PUT"])  # the lookup before it is answered
    before = vf.calls()
    assert codes(vf.execute(UPDATE, {"id": seeded["id"]})) == ["UPSTREAM_UNAVAILABLE"]
    assert vf.calls_since(before) == {LOOKUP: 1, "PUT /v1/customers/{customer_id}": RETRY_ATTEMPTS}


@pytest.mark.parametrize(("query", "route"), [(BULK, BULK_ROUTE), (METADATA, METADATA_ROUTE)])
def test_a_503_on_a_bulk_post_is_not_retried(vf: VoucherifyGraphQL, voucherify: SandboxProcess,
                                             query: str, route: str) -> None:  # fmt: skip
    set_faults(voucherify, error_rate=1.0, error_status=503)
    before = vf.calls()
    assert codes(vf.execute(query)) == ["UPSTREAM_UNAVAILABLE"]
    assert vf.calls_since(before) == {route: 1}


@pytest.mark.parametrize(("query", "route"), [(BULK, BULK_ROUTE), (METADATA, METADATA_ROUTE)])
def test_a_dropped_bulk_post_has_an_unknown_outcome_and_is_sent_once(
    vf: VoucherifyGraphQL, voucherify: SandboxProcess, query: str, route: str
) -> None:
    set_faults(voucherify, drop_rate=1.0)
    before = vf.calls()
    body = vf.execute(query)
    assert codes(body) == ["UPSTREAM_UNAVAILABLE"]
    error = body["errors"][0]
    assert error["extensions"]["outcomeUnknown"] is True
    assert "may or may not have been applied" in error["message"]
    assert "async action" in error["message"]  # how to check before retrying
    assert vf.calls_since(before) == {route: 1}


def test_a_dropped_upsert_is_retried_and_its_outcome_unknown(vf: VoucherifyGraphQL, voucherify: SandboxProcess) -> None:
    set_faults(voucherify, drop_rate=1.0)
    before = vf.calls()
    body = vf.execute(UPSERT, {"input": {"sourceId": "crm_fault_drop", "name": "x"}})
    assert codes(body) == ["UPSTREAM_UNAVAILABLE"]
    assert body["errors"][0]["extensions"]["outcomeUnknown"] is True
    assert vf.calls_since(before) == {CREATE_ROUTE: RETRY_ATTEMPTS}


def test_a_dropped_delete_is_not_retried_and_its_outcome_unknown(
    vf: VoucherifyGraphQL, voucherify: SandboxProcess, upstream: Upstream
) -> None:
    seeded = upstream.first_customers(1)[0]
    set_faults(voucherify, drop_rate=1.0, methods=["DELETE"])
    before = vf.calls()
    body = vf.execute(DELETE, {"id": seeded["id"]})
    assert codes(body) == ["UPSTREAM_UNAVAILABLE"]
    assert body["errors"][0]["extensions"]["outcomeUnknown"] is True
    assert vf.calls_since(before) == {LOOKUP: 1, "DELETE /v1/customers/{customer_id}": 1}


def test_the_gateway_writes_again_once_voucherify_recovers(
    vf: VoucherifyGraphQL, voucherify: SandboxProcess, upstream: Upstream
) -> None:
    set_faults(voucherify, drop_rate=1.0)
    assert codes(vf.execute(BULK)) == ["UPSTREAM_UNAVAILABLE"]
    set_faults(voucherify, drop_rate=0.0)
    result = payload(vf.execute(UPSERT, {"input": {"sourceId": "crm_fault_after", "name": "Back"}}),
                     "voucherifyCustomerUpsert")  # fmt: skip
    assert result["userErrors"] == []
    assert upstream.must("crm_fault_after")["name"] == "Back"


def test_refusals_under_faults_still_make_no_call(vf: VoucherifyGraphQL, voucherify: SandboxProcess) -> None:
    set_faults(voucherify, drop_rate=1.0)
    before = vf.calls()
    assert codes(vf.execute(BULK, headers=NO_KEYS)) == ["UNAUTHENTICATED"]
    assert vf.calls_since(before) == {}


def test_a_dropped_update_is_sent_once_per_attempt(
    vf: VoucherifyGraphQL, voucherify: SandboxProcess, upstream: Upstream
) -> None:
    seeded = upstream.first_customers(1)[0]
    set_faults(voucherify, drop_rate=1.0, methods=["PUT"])
    before = vf.calls()
    body = vf.execute(UPDATE, {"id": seeded["id"]})
    assert codes(body) == ["UPSTREAM_UNAVAILABLE"]
    assert body["errors"][0]["extensions"]["outcomeUnknown"] is True
    assert vf.calls_since(before) == {LOOKUP: 1, "PUT /v1/customers/{customer_id}": RETRY_ATTEMPTS}
