"""The benchmark's own parts, so it cannot rot: the critical-path count, the floor's call budget, and that
the floors of scenarios 5 and 6 answer what the gateway answers with the same calls.
(The benchmark itself asserts nothing about time: ``make bench`` prints figures.)"""

from __future__ import annotations

from typing import Any

import httpx

from gateway.sandbox.seed import DEMO_TOKEN
from tests.bench.run import (
    JOINED_DOCUMENT,
    JOINED_HEADERS,
    VOUCHERIFY_DOCUMENT,
    VOUCHERIFY_HEADERS,
    critical_path,
    floor_process,
)
from tests.servers import GatewayProcess, SandboxProcess


def _requests(*intervals: tuple[float, float]) -> list[dict[str, Any]]:
    return [
        {"route": f"r{i}", "start": start, "end": end, "request_id": None} for i, (start, end) in enumerate(intervals)
    ]


def test_critical_path_counts_sequential_waves() -> None:
    assert critical_path([]) == 0
    assert critical_path(_requests((0.0, 1.0))) == 1
    parallel_after_one = _requests((0.0, 1.0), (1.1, 2.0), (1.1, 2.1), (1.2, 2.0))
    assert critical_path(parallel_after_one) == 2
    assert critical_path(_requests((0.0, 1.0), (1.0, 2.0), (2.0, 3.0))) == 3


def test_the_floor_fetches_a_page_with_state_in_four_calls(sandbox: SandboxProcess) -> None:
    with floor_process(sandbox.url) as floor:
        body = httpx.get(f"{floor.url}/s2", headers={"Authorization": f"Bearer {DEMO_TOKEN}"}, timeout=30).json()
    assert len(body["customers"]) == 50
    assert sandbox.stats() == {"GET /v1/customers/": 1, "GET /v1/subscriptions/": 1, "GET /v1/benefit-grants/": 1,
                               "GET /v1/customer-meters/": 1}  # fmt: skip


def test_scenario_5_is_one_call_and_the_floor_answers_the_same_json(
    sandbox: SandboxProcess, voucherify: SandboxProcess, gateway_server: GatewayProcess
) -> None:
    """The gateway's answer is the floor's: the same data from the same single call to Voucherify."""
    gateway = httpx.post(gateway_server.graphql_url, json={"query": VOUCHERIFY_DOCUMENT}, headers=VOUCHERIFY_HEADERS,
                         timeout=30)  # fmt: skip
    assert voucherify.stats() == {"GET /v1/customers": 1}
    voucherify.reset()
    with floor_process(sandbox.url, voucherify.url) as floor:
        floored = httpx.get(f"{floor.url}/s5", headers=VOUCHERIFY_HEADERS, timeout=30)
    assert voucherify.stats() == {"GET /v1/customers": 1}
    body = gateway.json()
    assert "errors" not in body, body
    assert len(body["data"]["voucherifyCustomers"]["nodes"]) == 50
    assert floored.json() == {"data": body["data"]}


def test_scenario_6_makes_the_same_calls_and_the_floor_answers_the_same_json(
    sandbox: SandboxProcess, voucherify: SandboxProcess, gateway_server: GatewayProcess
) -> None:
    """The joined page: 1 Polar call and 1 Voucherify call per distinct external id, from both; the floor's
    answer is the gateway's, customers joined or not."""
    gateway = httpx.post(gateway_server.graphql_url, json={"query": JOINED_DOCUMENT}, headers=JOINED_HEADERS,
                         timeout=30)  # fmt: skip
    body = gateway.json()
    assert "errors" not in body, body
    nodes = body["data"]["customers"]["nodes"]
    lookups = len({node["externalId"] for node in nodes if node["externalId"] is not None})
    assert len(nodes) == 50
    assert sum(node["voucherify"] is not None for node in nodes) >= 20  # joined
    calls = (sandbox.stats(), voucherify.stats())
    assert calls == ({"GET /v1/customers/": 1}, {"GET /v1/customers/{customer_id}": lookups})
    sandbox.reset()
    voucherify.reset()
    with floor_process(sandbox.url, voucherify.url) as floor:
        floored = httpx.get(f"{floor.url}/s6", headers=JOINED_HEADERS, timeout=30)
    assert (sandbox.stats(), voucherify.stats()) == calls
    assert floored.json() == {"data": body["data"]}
