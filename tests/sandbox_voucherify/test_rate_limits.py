"""Rate-limit headers (contract section 6): ``X-Rate-Limit-Limit``, ``X-Rate-Limit-Remaining`` and
``X-Rate-Limit-Retry`` (epoch seconds) on every ``/v1`` and ``/client/v1`` answer, counted per project in
one-minute windows; a 429 adds ``Retry-After`` and ``X-Rate-Limit-Type``."""

from __future__ import annotations

import time

import httpx
import pytest

from gateway.sandbox.voucherify.ratelimit import DEFAULT_PER_MINUTE
from tests.sandbox_voucherify.openapi import validate
from tests.sandbox_voucherify.test_consents import CLIENT_HEADERS
from tests.servers import SandboxProcess

QUOTA_HEADERS = ("X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Retry")


def _quota(response: httpx.Response, limit: int = DEFAULT_PER_MINUTE) -> int:
    """Checks the three headers; returns ``X-Rate-Limit-Remaining``."""
    assert int(response.headers["X-Rate-Limit-Limit"]) == limit
    remaining = int(response.headers["X-Rate-Limit-Remaining"])
    assert 0 <= remaining <= limit
    now = time.time()
    assert now <= int(response.headers["X-Rate-Limit-Retry"]) <= now + 61
    return remaining


def _faults(voucherify: SandboxProcess, **faults: object) -> None:
    with voucherify.control() as control:
        control.post("/__sandbox/faults", json=faults).raise_for_status()


def test_every_answer_has_the_quota_headers(
    voucherify: SandboxProcess, demo: httpx.Client, wrong_secret: httpx.Client
) -> None:
    bulk = demo.post("/v1/customers/bulk/async", json=[{"source_id": "rl-bulk"}])
    answers = [
        demo.get("/v1/customers"),
        demo.post("/v1/customers", json={"source_id": "rl-1"}),
        demo.put("/v1/customers/rl-1", json={"name": "Rate Limited"}),
        demo.get("/v1/customers/rl-1/activity"),
        demo.get("/v1/customers/rl-1/activities"),
        demo.get("/v1/customers/rl-1/segments"),
        demo.post("/v1/customers/rl-1/permanent-deletion"),
        bulk,
        demo.get(f"/v1/async-actions/{bulk.json()['async_action_id']}"),
        demo.post("/v1/customers/importCSV", files={"file": ("c.csv", b"Source_id\nrl-csv\n", "text/csv")}),
        demo.put("/v1/customers/crm_00001/consents", json={"unsubscribed": True}),
        demo.delete("/v1/customers/crm_00003"),
        demo.get("/v1/customers/nobody"),
        demo.get("/v1/customers", params={"limit": 1000}),
        demo.patch("/v1/customers"),
        demo.get("/v1/nothing-here"),
        demo.post("/v1/customers/bulk/async", content=b"x" * (10 * 1024 * 1024 + 1)),  # the sandbox's check
        demo.post("/v1/customers/importCSV", files={"file": ("c.csv", b"x" * (11 * 1024 * 1024 + 1))}),  # aiohttp's
        wrong_secret.get("/v1/customers"),
        httpx.put(f"{voucherify.url}/client/v1/customers/crm_00001/consents", json={"cnst_a": True},
                  headers=CLIENT_HEADERS),
        httpx.put(f"{voucherify.url}/client/v1/customers/crm_00001/consents", json={"cnst_a": True}),
    ]  # fmt: skip
    statuses = [a.status_code for a in answers]
    assert statuses == [200, 200, 200, 200, 200, 200, 200, 202, 200, 202, 204, 204, 404, 400, 405, 404, 413, 413, 401,
                        204, 401]  # fmt: skip
    for answer in answers:
        _quota(answer)
    _faults(voucherify, error_rate=1.0, error_status=500)
    injected = demo.get("/v1/customers")
    assert injected.status_code == 500
    _quota(injected)


def test_remaining_counts_the_projects_requests(demo: httpx.Client, other: httpx.Client,
                                                wrong_secret: httpx.Client) -> None:  # fmt: skip
    first = _quota(demo.get("/v1/customers"))
    assert first == DEFAULT_PER_MINUTE - 1
    seen = [_quota(demo.get("/v1/customers/crm_00001")) for _ in range(3)]
    assert seen == [first - 1, first - 2, first - 3]
    assert _quota(other.get("/v1/customers")) == DEFAULT_PER_MINUTE - 1  # another project, another window
    refused = wrong_secret.get("/v1/customers")
    assert refused.status_code == 401
    assert _quota(refused) == DEFAULT_PER_MINUTE  # no project: nothing counted
    assert _quota(demo.get("/v1/customers")) == first - 4
    validate(demo.get("/v1/customers"))  # the headers do not upset the answer's validation
    windows = {demo.get("/v1/customers").headers["X-Rate-Limit-Retry"] for _ in range(3)}
    assert len(windows) == 1  # the same window resets at the same second


def test_client_side_calls_count_for_their_project(voucherify: SandboxProcess, demo: httpx.Client) -> None:
    before = _quota(demo.get("/v1/customers"))
    client_side = httpx.put(f"{voucherify.url}/client/v1/customers/crm_00001/consents", json={"cnst_a": True},
                            headers=CLIENT_HEADERS)  # fmt: skip
    assert client_side.status_code == 204
    assert _quota(client_side) == before - 1


def test_the_rate_limit_fault_sets_the_limit_and_its_429_has_all_five(
    voucherify: SandboxProcess, demo: httpx.Client
) -> None:
    _faults(voucherify, rate_limit_per_minute=3)
    assert [_quota(demo.get("/v1/customers"), 3) for _ in range(3)] == [2, 1, 0]
    limited = demo.get("/v1/customers")
    assert limited.status_code == 429
    assert limited.json() == {"code": 429, "message": "Too many requests hit the API too quickly."}
    assert _quota(limited, 3) == 0
    assert limited.headers["Retry-After"] == "60"
    assert limited.headers["X-Rate-Limit-Type"] == "api_calls"
    assert all(name in limited.headers for name in QUOTA_HEADERS)
    voucherify.reset()
    assert _quota(demo.get("/v1/customers")) == DEFAULT_PER_MINUTE - 1


@pytest.mark.parametrize("retry_after", [0, 60])
def test_an_injected_429_has_all_five(voucherify: SandboxProcess, demo: httpx.Client, retry_after: int) -> None:
    _faults(voucherify, error_rate=1.0, error_status=429, retry_after=retry_after)
    limited = demo.get("/v1/customers")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == str(retry_after)
    assert limited.headers["X-Rate-Limit-Type"] == "api_calls"
    assert _quota(limited) == DEFAULT_PER_MINUTE  # an injected fault is not counted


def test_control_routes_have_no_quota(voucherify: SandboxProcess) -> None:
    with voucherify.control() as control:
        stats = control.get("/__sandbox/stats")
    assert stats.status_code == 200
    assert not any(name in stats.headers for name in QUOTA_HEADERS)
