"""Server-side keys: 401 for missing or wrong ones, and two projects that never see each other's customers."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox_voucherify.openapi import error_body


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-App-Id": "vf_sandbox_app"},
        {"X-App-Id": "vf_sandbox_app", "X-App-Token": "vf_sandbox_other_secret"},
        {"X-App-Id": "unknown_app", "X-App-Token": "vf_sandbox_secret"},
    ],
)
def test_missing_or_bad_keys_are_401(demo: httpx.Client, headers: dict[str, str]) -> None:
    response = httpx.get(f"{demo.base_url}/v1/customers", headers=headers)
    body = error_body(response, 401, "unauthorized")
    assert body["message"] == "Unauthorized"


def test_wrong_secret_cannot_read(wrong_secret: httpx.Client) -> None:
    error_body(wrong_secret.get("/v1/customers/crm_00001"), 401, "unauthorized")


def test_projects_do_not_share_customers(demo: httpx.Client, other: httpx.Client) -> None:
    demo_ids = {c["id"] for c in demo.get("/v1/customers", params={"limit": 100}).json()["customers"]}
    other_list = other.get("/v1/customers", params={"limit": 100}).json()
    assert other_list["total"] == 8
    assert not demo_ids & {c["id"] for c in other_list["customers"]}
    error_body(other.get("/v1/customers/crm_00001"), 404, "not_found")
    some_demo_id = next(iter(demo_ids))
    error_body(other.get(f"/v1/customers/{some_demo_id}"), 404, "not_found")
    error_body(other.delete(f"/v1/customers/{some_demo_id}"), 404, "not_found")
    assert demo.get(f"/v1/customers/{some_demo_id}").status_code == 200


def test_the_same_source_id_is_two_customers_in_two_projects(demo: httpx.Client, other: httpx.Client) -> None:
    mine = demo.post("/v1/customers", json={"source_id": "shared-key", "name": "Demo's"}).json()
    theirs = other.post("/v1/customers", json={"source_id": "shared-key", "name": "Other's"}).json()
    assert mine["id"] != theirs["id"]
    assert demo.get("/v1/customers/shared-key").json()["name"] == "Demo's"
    assert other.get("/v1/customers/shared-key").json()["name"] == "Other's"
