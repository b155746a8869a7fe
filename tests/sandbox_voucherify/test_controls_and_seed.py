"""The test controls (stats, reset, faults) and the deterministic demo data."""

from __future__ import annotations

import httpx

from gateway.sandbox.voucherify.seed import build_projects, polar_external_ids
from tests.servers import SandboxProcess


def test_stats_count_requests_by_route(voucherify: SandboxProcess, demo: httpx.Client) -> None:
    demo.get("/v1/customers")
    demo.get("/v1/customers/crm_00001")
    demo.get("/v1/customers/crm_00003")
    assert voucherify.stats() == {"GET /v1/customers": 1, "GET /v1/customers/{customer_id}": 2}


def test_reset_restores_the_seed(voucherify: SandboxProcess, demo: httpx.Client) -> None:
    before = demo.get("/v1/customers/crm_00001").json()
    demo.delete("/v1/customers/crm_00001")
    voucherify.reset()
    assert demo.get("/v1/customers/crm_00001").json() == before


def test_injected_errors_and_rate_limit(voucherify: SandboxProcess, demo: httpx.Client) -> None:
    with voucherify.control() as control:
        control.post("/__sandbox/faults", json={"error_rate": 1.0, "error_status": 500}).raise_for_status()
        assert demo.get("/v1/customers").status_code == 500
        control.post("/__sandbox/faults", json={"error_rate": 0.0, "rate_limit_per_minute": 1}).raise_for_status()
        assert demo.get("/v1/customers").status_code == 200
        limited = demo.get("/v1/customers")
        assert limited.status_code == 429
        assert limited.json() == {"code": 429, "message": "Too many requests hit the API too quickly."}
        assert limited.headers["Retry-After"] == "60"
        assert control.get("/__sandbox/stats").json()["faults"]["total"] == 2
        refused = control.post("/__sandbox/faults", json={"nonsense": 1})
        assert refused.status_code == 400


def test_seed_is_deterministic_and_linked_to_polar() -> None:
    first, second = build_projects(40, 7), build_projects(40, 7)
    demo = first["vf_sandbox_app"]
    assert [c.as_json() for c in demo.customers.values()] == [
        c.as_json() for c in second["vf_sandbox_app"].customers.values()
    ]
    linked = [c.source_id for c in demo.customers.values() if (c.source_id or "").startswith("usr_demo_")]
    assert len(linked) == 20
    assert set(linked) <= set(polar_external_ids())
    domains = {str(c.fields["email"]).rsplit("@", 1)[1] for c in demo.customers.values()}
    assert domains <= {"gmail.com", "outlook.com", "proton.me", "fastmail.com"}
    assert any(c.points > 0 for c in demo.customers.values())
    assert any(c.orders_count > 0 for c in demo.customers.values())
    assert len(first["vf_sandbox_other_app"].customers) == 8
