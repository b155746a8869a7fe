"""The benchmark's own parts, so it cannot rot: the critical-path count and the floor's call budget.
(The benchmark itself asserts nothing about time: ``make bench`` prints figures.)"""

from __future__ import annotations

from typing import Any

import httpx

from gateway.sandbox.seed import DEMO_TOKEN
from tests.bench.run import critical_path
from tests.servers import SandboxProcess, floor_process


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
