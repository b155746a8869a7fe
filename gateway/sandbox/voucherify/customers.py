"""The customer operations of Voucherify's server-side API."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .activity import activities, activity, record
from .bulk import bulk_update, metadata_update
from .csv_import import import_csv
from .errors import invalid_payload, not_found
from .listing import list_customers
from .model import Customer, iso
from .segments import segments_of
from .state import project_of, queue_of
from .store import Project
from .validation import customer_fields


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        raise invalid_payload("The payload is not valid JSON") from None
    if not isinstance(body, dict):
        raise invalid_payload("The payload must be a JSON object")
    return body


def _found(project: Project, key: str) -> Customer:
    customer = project.find(key)
    if customer is None:
        raise not_found("customer", key)
    return customer


def _apply(project: Project, customer: Customer, fields: dict[str, Any]) -> None:
    """A partial update: sent fields replace stored ones whole (``metadata`` and ``address`` included)."""
    customer.fields.update(fields)
    customer.updated_at = project.tick()
    record(project, customer, "customer.updated", customer.updated_at)


async def create(request: web.Request) -> web.Response:
    """Upsert: an existing ``id`` (then ``source_id`` is ignored) or ``source_id`` is updated, else a new one."""
    project = project_of(request)
    body = await _body(request)
    fields = customer_fields(body)
    key_id, source_id = body.get("id"), body.get("source_id")
    if key_id is not None and not isinstance(key_id, str):
        raise invalid_payload("Property .id must be string")
    if source_id is not None and not isinstance(source_id, str):
        raise invalid_payload("Property .source_id must be string")
    if key_id is not None:
        existing = project.customers.get(key_id)
        if existing is None:
            raise not_found("customer", key_id)
    else:
        existing = project.find(source_id) if source_id else None
        existing = existing if existing is not None and existing.source_id == source_id else None
    if existing is not None:
        _apply(project, existing, fields)
        return web.json_response(existing.as_json())
    customer = Customer(id=project.new_id("cust_"), created_at=project.tick(), source_id=source_id or None)
    customer.fields = fields
    project.add(customer)
    record(project, customer, "customer.created", customer.created_at)
    return web.json_response(customer.as_json())


async def get(request: web.Request) -> web.Response:
    return web.json_response(_found(project_of(request), request.match_info["customer_id"]).as_json())


async def update(request: web.Request) -> web.Response:
    """PUT is partial; ``id`` and ``source_id`` in the body are ignored (a source_id never changes)."""
    project = project_of(request)
    customer = _found(project, request.match_info["customer_id"])
    _apply(project, customer, customer_fields(await _body(request)))
    return web.json_response(customer.as_json())


async def delete(request: web.Request) -> web.Response:
    project = project_of(request)
    project.remove(_found(project, request.match_info["customer_id"]))
    return web.Response(status=204)


async def permanent_deletion(request: web.Request) -> web.Response:
    """Removes the customer and reports what went with it (``object`` keeps upstream's spelling)."""
    project = project_of(request)
    customer = _found(project, request.match_info["customer_id"])
    project.remove(customer)
    report = {
        "id": project.new_id("del_"),
        "created_at": _now_iso(project),
        "related_object_id": customer.id,
        "related_object": "customer",
        "status": "DONE",
        "data_json": {
            "events": len(customer.activity),
            "customer_events": len(customer.activity),
            "daily_events": 0,
            "segments": len(segments_of(customer)),
            "orders": customer.orders_count,
            "order_events": customer.orders_count,
            "customer": 1,
        },
        "object": "pernament_deletion",
    }
    return web.json_response(report)


def _now_iso(project: Project) -> str:
    return iso(project.tick())


async def list_all(request: web.Request) -> web.Response:
    return web.json_response(list_customers(project_of(request), request.query))


async def segments(request: web.Request) -> web.Response:
    """No 404: an unknown customer is an empty profile, which qualifies for no demo segment."""
    found = segments_of(project_of(request).find(request.match_info["customer_id"]))
    body = {"object": "list", "data_ref": "data", "data": [s.as_json() for s in found], "total": len(found)}
    return web.json_response(body)


async def list_activity(request: web.Request) -> web.Response:
    customer = _found(project_of(request), request.match_info["customer_id"])
    return web.json_response(activity(customer, request.query))


async def list_activities(request: web.Request) -> web.Response:
    """Deprecated upstream; no 404 is documented, so an unknown customer gets an empty list."""
    customer = project_of(request).find(request.match_info["customer_id"])
    return web.json_response(activities(customer, request.query))


async def get_async_action(request: web.Request) -> web.Response:
    action_id = request.match_info["action_id"]
    action = queue_of(request).read(project_of(request), action_id)
    if action is None:
        raise not_found("async_action", action_id)
    return web.json_response(action.as_json())


def routes() -> list[web.RouteDef]:
    return [
        web.get("/v1/customers", list_all),
        web.post("/v1/customers", create),
        web.get("/v1/customers/{customer_id}", get),
        web.put("/v1/customers/{customer_id}", update),
        web.delete("/v1/customers/{customer_id}", delete),
        web.post("/v1/customers/{customer_id}/permanent-deletion", permanent_deletion),
        web.get("/v1/customers/{customer_id}/segments", segments),
        web.get("/v1/customers/{customer_id}/activity", list_activity),
        web.get("/v1/customers/{customer_id}/activities", list_activities),
        web.post("/v1/customers/bulk/async", bulk_update),
        web.post("/v1/customers/metadata/async", metadata_update),
        web.post("/v1/customers/importCSV", import_csv),
        web.get("/v1/async-actions/{action_id}", get_async_action),
    ]
