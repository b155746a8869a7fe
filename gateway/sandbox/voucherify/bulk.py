"""Bulk update and metadata bulk update: checked when they arrive, applied by their async action."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .activity import record
from .asyncs import REPORTS_KEPT
from .errors import invalid_payload
from .model import Customer, iso
from .state import REQUEST_ID, project_of, queue_of
from .store import Project
from .validation import customer_fields

MAX_BYTES = 10 * 1024 * 1024


async def _json(request: web.Request) -> Any:
    """The body; 413 in the shape upstream's proxy sends (not the standard error body) above 10 MB."""
    if (request.content_length or 0) > MAX_BYTES:
        message = f"Payload content length greater than maximum allowed: {MAX_BYTES}"
        body = {"statusCode": 413, "error": "Request Entity Too Large", "message": message}
        raise web.HTTPRequestEntityTooLarge(
            max_size=MAX_BYTES, actual_size=request.content_length or 0,
            text=json.dumps(body), content_type="application/json",
        )  # fmt: skip
    try:
        return json.loads(await request.read())
    except ValueError:
        raise invalid_payload("The payload is not valid JSON") from None


def _upsert(project: Project, source_id: str) -> Customer:
    customer = project.find(source_id)
    if customer is not None and customer.source_id == source_id:
        return customer
    created = Customer(id=project.new_id("cust_"), created_at=project.tick(), source_id=source_id)
    project.add(created)
    record(project, created, "customer.created", created.created_at)
    return created


def _result(project: Project, count: int) -> dict[str, Any]:
    kept_till = iso(project.tick() + REPORTS_KEPT)
    return {"done_count": count, "failed_count": 0, "reports": [], "reports_available_till": kept_till, "errors": []}


async def bulk_update(request: web.Request) -> web.Response:
    project = project_of(request)
    items = await _json(request)
    if not isinstance(items, list) or not items:
        raise invalid_payload("The payload must be a non-empty array of customers")
    updates: list[tuple[str, dict[str, Any]]] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("source_id"), str) or not item["source_id"]:
            raise invalid_payload(f"Property [{index}].source_id is required and must be a string")
        updates.append((item["source_id"], customer_fields(item)))

    def work() -> dict[str, Any]:
        for source_id, fields in updates:
            customer = _upsert(project, source_id)
            customer.fields.update(fields)
            customer.updated_at = project.tick()
        return _result(project, len(updates))

    action_id = queue_of(request).schedule(project, "CUSTOMERS.BULK_UPDATE", request[REQUEST_ID], work)
    return web.json_response({"async_action_id": action_id}, status=202)


async def metadata_update(request: web.Request) -> web.Response:
    """Every listed customer gets the same metadata, merged into what it has (missing ones are created)."""
    project = project_of(request)
    body = await _json(request)
    if not isinstance(body, dict):
        raise invalid_payload("The payload must be a JSON object")
    source_ids, metadata = body.get("source_ids"), body.get("metadata")
    if not isinstance(source_ids, list) or not source_ids or not all(isinstance(s, str) and s for s in source_ids):
        raise invalid_payload("Property .source_ids must be a non-empty array of strings")
    if not isinstance(metadata, dict):
        raise invalid_payload("Property .metadata must be object")

    def work() -> dict[str, Any]:
        for source_id in source_ids:
            customer = _upsert(project, source_id)
            customer.fields["metadata"] = {**customer.fields.get("metadata", {}), **metadata}
            customer.updated_at = project.tick()
        return _result(project, len(source_ids))

    action_id = queue_of(request).schedule(project, "CUSTOMERS.METADATA_UPDATE", request[REQUEST_ID], work)
    return web.json_response({"async_action_id": action_id}, status=202)
