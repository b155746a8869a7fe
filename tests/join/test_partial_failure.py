"""One upstream down, slow or rate-limited beside a healthy other: every field of the healthy one is served,
each joined field of the failing one is null with the error code on its own path. On a gateway with a 2 s
deadline, three attempts a call and breakers that practically never open (``hasty``); the answers are
compared with the same document on healthy upstreams, and the calls counted exactly."""

from __future__ import annotations

from typing import Any

import pytest

from tests.join.client import (
    POLAR_BY_EXTERNAL_ID,
    POLAR_LIST,
    POLAR_STATE_LISTS,
    VF_CUSTOMER,
    VF_LIST,
    BothGraphQL,
    Calls,
    distinct,
    error_paths,
    set_faults,
    without,
)
from tests.join.conftest import RETRIES
from tests.servers import SandboxProcess

POLAR_PAGE = """{ customers(first: 20, sortKey: CREATED_AT) {
  totalCount
  nodes { id email name externalId metadata state { activeSubscriptions { id status } grantedBenefits { id } }
          voucherify { id sourceId loyalty { points } } }
} }"""
VOUCHERIFY_PAGE = """{ voucherifyCustomers(first: 20) {
  totalCount
  nodes { id sourceId email name metadata loyalty { points } summary { orders { totalCount } }
          customer { id email state { activeSubscriptions { id } } } }
} }"""

# (faults, the code on each failed path, attempts per lookup)
FAILURES: dict[str, tuple[dict[str, Any], str, int]] = {
    "5xx": ({"error_rate": 1.0, "error_status": 503}, "UPSTREAM_UNAVAILABLE", RETRIES),
    "dropped": ({"drop_rate": 1.0}, "UPSTREAM_UNAVAILABLE", RETRIES),
    "stalled past the deadline": ({"latency_ms": 8_000}, "UPSTREAM_TIMEOUT", 1),
    "rate-limited": ({"error_rate": 1.0, "error_status": 429, "retry_after": 45}, "RATE_LIMITED", 1),
}


def _healthy(client: BothGraphQL, query: str) -> dict[str, Any]:
    data = client.data(query)
    client.sandbox.reset()
    client.voucherify.reset()
    return data


@pytest.mark.parametrize("failure", FAILURES, ids=list(FAILURES))
def test_voucherify_failing_leaves_every_polar_field_served(
    hasty: BothGraphQL, voucherify: SandboxProcess, failure: str
) -> None:
    faults, code, attempts = FAILURES[failure]
    healthy = _healthy(hasty, POLAR_PAGE)
    nodes = healthy["customers"]["nodes"]
    linked = [index for index, node in enumerate(nodes) if node["externalId"]]
    assert sum(node["voucherify"] is not None for node in nodes) >= 10  # what the failure takes away
    set_faults(voucherify, **faults)
    body = hasty.execute(POLAR_PAGE)
    assert without(body["data"], "voucherify") == without(healthy, "voucherify")  # every Polar field
    assert all(node["voucherify"] is None for node in body["data"]["customers"]["nodes"])
    assert error_paths(body) == {("customers", "nodes", index, "voucherify"): code for index in linked}
    assert len(body["errors"]) == len(linked)  # one error on each path, none elsewhere
    if code == "RATE_LIMITED":
        assert {error["extensions"]["retryAfter"] for error in body["errors"]} == {45}
    assert hasty.calls() == Calls(
        {POLAR_LIST: 1, **{route: 1 for route in POLAR_STATE_LISTS}},
        {VF_CUSTOMER: attempts * len(distinct(nodes[index]["externalId"] for index in linked))},
    )


@pytest.mark.parametrize("failure", FAILURES, ids=list(FAILURES))
def test_polar_failing_leaves_every_voucherify_field_served(
    hasty: BothGraphQL, sandbox: SandboxProcess, failure: str
) -> None:
    faults, code, attempts = FAILURES[failure]
    healthy = _healthy(hasty, VOUCHERIFY_PAGE)
    nodes = healthy["voucherifyCustomers"]["nodes"]
    sources = distinct(node["sourceId"] for node in nodes)
    assert sum(node["customer"] is not None for node in nodes) >= 5  # what the failure takes away
    set_faults(sandbox, **faults)
    body = hasty.execute(VOUCHERIFY_PAGE)
    assert without(body["data"], "customer") == without(healthy, "customer")  # every Voucherify field
    assert all(node["customer"] is None for node in body["data"]["voucherifyCustomers"]["nodes"])
    paths = {("voucherifyCustomers", "nodes", index, "customer"): code for index in range(len(nodes))}
    assert error_paths(body) == paths
    assert len(body["errors"]) == len(nodes)
    calls = hasty.calls()
    assert calls.voucherify == {VF_LIST: 1}
    assert calls.polar == {POLAR_BY_EXTERNAL_ID: attempts * len(sources)}


def test_both_top_level_fields_one_upstream_down(hasty: BothGraphQL, voucherify: SandboxProcess) -> None:
    """A Voucherify list beside a Polar list: the Voucherify one is null with its code, Polar's is whole."""
    query = "{ customers(first: 5) { totalCount nodes { id } } voucherifyCustomers(first: 5) { nodes { id } } }"
    healthy = _healthy(hasty, query)
    set_faults(voucherify, error_rate=1.0, error_status=503)
    body = hasty.execute(query)
    assert body["data"] == {"customers": healthy["customers"], "voucherifyCustomers": None}
    assert error_paths(body) == {("voucherifyCustomers",): "UPSTREAM_UNAVAILABLE"}
    assert hasty.calls() == Calls({POLAR_LIST: 1}, {VF_LIST: RETRIES})
