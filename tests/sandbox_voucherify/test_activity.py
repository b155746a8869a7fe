"""Customer activity: ``/activity`` (cursor on event ids, 404 for an unknown customer) and the deprecated
``/activities`` (``total``, no 404)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.sandbox_voucherify.openapi import error_body, validate


def _get(client: httpx.Client, path: str, **params: str | int) -> dict[str, Any]:
    response = client.get(path, params=params)
    validate(response)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_create_and_updates_are_recorded_newest_first(demo: httpx.Client) -> None:
    created = demo.post("/v1/customers", json={"source_id": "act-1", "name": "First"}).json()
    demo.put("/v1/customers/act-1", json={"name": "Second"})
    body = _get(demo, "/v1/customers/act-1/activity")
    assert body["object"] == "list"
    assert body["data_ref"] == "data"
    assert body["has_more"] is False
    assert "total" not in body
    assert [e["type"] for e in body["data"]] == ["customer.updated", "customer.created"]
    assert body["data"][0]["data"]["customer"]["name"] == "Second"
    assert body["data"][1]["data"]["customer"]["id"] == created["id"]
    assert body["data"][1]["data"]["event_source"] == {"channel": "API"}
    oldest_first = _get(demo, "/v1/customers/act-1/activity", order="created_at")
    assert [e["type"] for e in oldest_first["data"]] == ["customer.created", "customer.updated"]
    only_updates = _get(demo, "/v1/customers/act-1/activity", type="customer.updated")
    assert len(only_updates["data"]) == 1


def test_activity_pages_with_more_starting_after(demo: httpx.Client) -> None:
    for index in range(4):
        demo.put("/v1/customers/crm_00001", json={"description": f"edit {index}"})
    first = _get(demo, "/v1/customers/crm_00001/activity", limit=3)
    assert first["has_more"] is True
    rest = _get(demo, "/v1/customers/crm_00001/activity", limit=3, starting_after_id=first["more_starting_after"])
    assert rest["has_more"] is False
    assert "more_starting_after" not in rest
    types = [e["type"] for e in first["data"] + rest["data"]]
    assert types == ["customer.updated"] * 4 + ["customer.created"]


def test_activity_of_an_unknown_customer_is_404(demo: httpx.Client) -> None:
    response = demo.get("/v1/customers/nobody/activity")
    validate(response)
    error_body(response, 404, "not_found")
    error_body(demo.get("/v1/customers/crm_00001/activity", params={"limit": 0}), 400, "invalid_query_params")


def test_deprecated_activities_have_a_total_and_no_404(demo: httpx.Client) -> None:
    demo.put("/v1/customers/crm_00009", json={"name": "Changed"})
    body = _get(demo, "/v1/customers/crm_00009/activities", limit=1)
    assert body["total"] == 2
    assert [e["type"] for e in body["data"]] == ["customer.updated"]
    assert _get(demo, "/v1/customers/nobody/activities") == {
        "object": "list",
        "data_ref": "data",
        "data": [],
        "total": 0,
    }


def test_permanent_deletion_counts_the_events(demo: httpx.Client) -> None:
    demo.put("/v1/customers/crm_00003", json={"name": "Changed"})
    report = demo.post("/v1/customers/crm_00003/permanent-deletion").json()
    assert report["data_json"]["customer_events"] == 2
