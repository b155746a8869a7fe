"""Bulk update and metadata bulk update: 202 with an async action id, the action read as ENQUEUED, IN_PROGRESS
and DONE, the changes applied at DONE, and the errors (400, 404, 413)."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.sandbox_voucherify.openapi import error_body, validate, validate_async_action


def _schedule(client: httpx.Client, path: str, body: object) -> str:
    response = client.post(path, json=body)
    validate(response)
    assert response.status_code == 202
    action_id: str = response.json()["async_action_id"]
    assert re.match(r"^aa_[0-9a-f]{18}$", action_id)
    return action_id


def _read(client: httpx.Client, action_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/async-actions/{action_id}")
    validate_async_action(response)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_bulk_update_upserts_when_its_action_is_done(demo: httpx.Client) -> None:
    updates = [{"source_id": "crm_00001", "name": "Bulk renamed"}, {"source_id": "bulk-new", "email": "new@gmail.com"}]
    action_id = _schedule(demo, "/v1/customers/bulk/async", updates)
    first = _read(demo, action_id)
    assert first["status"] == "ENQUEUED"
    assert first["type"] == "CUSTOMERS.BULK_UPDATE"
    assert first["object"] == "async_action"
    assert "result" not in first
    assert demo.get("/v1/customers/bulk-new").status_code == 404
    assert _read(demo, action_id)["status"] == "IN_PROGRESS"
    done = _read(demo, action_id)
    assert done["status"] == "DONE"
    assert done["progress"] == 100
    assert done["result"]["done_count"] == 2
    assert done["result"]["failed_count"] == 0
    assert done["result"]["errors"] == []
    assert _read(demo, action_id)["status"] == "DONE"
    assert demo.get("/v1/customers/crm_00001").json()["name"] == "Bulk renamed"
    assert demo.get("/v1/customers/bulk-new").json()["email"] == "new@gmail.com"


def test_metadata_bulk_update_merges_metadata(demo: httpx.Client) -> None:
    before = demo.get("/v1/customers/crm_00011").json()["metadata"]
    body = {"source_ids": ["crm_00011", "meta-new"], "metadata": {"tier": "gold"}}
    action_id = _schedule(demo, "/v1/customers/metadata/async", body)
    statuses = [_read(demo, action_id)["status"] for _ in range(3)]
    assert statuses == ["ENQUEUED", "IN_PROGRESS", "DONE"]
    assert demo.get("/v1/customers/crm_00011").json()["metadata"] == {**before, "tier": "gold"}
    assert demo.get("/v1/customers/meta-new").json()["metadata"] == {"tier": "gold"}


def test_earlier_actions_of_the_project_finish_first(demo: httpx.Client) -> None:
    first = _schedule(demo, "/v1/customers/bulk/async", [{"source_id": "queue-1", "name": "one"}])
    second = _schedule(demo, "/v1/customers/bulk/async", [{"source_id": "queue-1", "name": "two"}])
    _read(demo, second)
    _read(demo, second)
    assert _read(demo, first)["status"] == "DONE"
    assert demo.get("/v1/customers/queue-1").json()["name"] == "two"


def test_actions_belong_to_their_project(demo: httpx.Client, other: httpx.Client) -> None:
    action_id = _schedule(demo, "/v1/customers/bulk/async", [{"source_id": "mine"}])
    body = error_body(other.get(f"/v1/async-actions/{action_id}"), 404, "not_found")
    assert body["resource_type"] == "async_action"
    missing = demo.get("/v1/async-actions/aa_000000000000000000")
    validate(missing)
    error_body(missing, 404, "not_found")


def test_bad_bulk_bodies_are_400(demo: httpx.Client) -> None:
    error_body(demo.post("/v1/customers/bulk/async", json={"source_id": "x"}), 400, "invalid_payload")
    error_body(demo.post("/v1/customers/bulk/async", json=[{"name": "no key"}]), 400, "invalid_payload")
    error_body(demo.post("/v1/customers/bulk/async", json=[{"source_id": "x", "name": 1}]), 400, "invalid_payload")
    error_body(demo.post("/v1/customers/metadata/async", json={"source_ids": []}), 400, "invalid_payload")
    error_body(demo.post("/v1/customers/metadata/async", json={"source_ids": ["a"]}), 400, "invalid_payload")


def test_over_ten_megabytes_is_413_in_upstream_shape(demo: httpx.Client) -> None:
    payload = b'[{"source_id": "big", "description": "' + b"x" * (10 * 1024 * 1024) + b'"}]'
    response = demo.post("/v1/customers/bulk/async", content=payload, headers={"Content-Type": "application/json"})
    validate(response)
    assert response.status_code == 413
    assert response.json() == {
        "statusCode": 413,
        "error": "Request Entity Too Large",
        "message": "Payload content length greater than maximum allowed: 10485760",
    }
