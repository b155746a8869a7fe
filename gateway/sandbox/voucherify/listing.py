"""``GET /v1/customers``: filters, order, ``page``/``limit`` and the ``starting_after`` cursor."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .errors import invalid_query
from .model import Customer
from .segments import SEGMENTS
from .store import Project
from .validation import bounded_int, moment

ORDERS = ("created_at", "-created_at", "updated_at", "-updated_at", "source_id", "-source_id")
_RANGES = ("created_at[before]", "created_at[after]", "updated_at[before]", "updated_at[after]")


def list_customers(project: Project, query: Mapping[str, str]) -> dict[str, Any]:
    limit = bounded_int(query.get("limit"), "limit", 1, 100, 10)
    page = bounded_int(query.get("page"), "page", 1, 99, 1)
    order = query.get("order", "-created_at")
    if order not in ORDERS:
        raise invalid_query(f"Query param .order must be one of {', '.join(ORDERS)}")
    matching = [c for c in project.customers.values() if _matches(c, query)]
    total = len(matching)
    matching.sort(key=lambda c: _sort_key(c, order.lstrip("-")), reverse=order.startswith("-"))
    if "starting_after" in query:
        cursor = moment(query["starting_after"], "starting_after")
        if order.startswith("-") or order.endswith("source_id"):
            # without an ascending order: the ones created before the cursor, newest first
            matching = sorted((c for c in matching if c.created_at < cursor), key=_created, reverse=True)
        else:
            matching = [c for c in matching if c.created_at > cursor]
        window = matching[:limit]
        has_more = len(matching) > limit
    else:
        start = (page - 1) * limit
        window = matching[start : start + limit]
        has_more = start + limit < len(matching)
    return {
        "object": "list",
        "data_ref": "customers",
        "customers": [c.as_json() for c in window],
        "total": total,
        "has_more": has_more,
    }


def _created(customer: Customer) -> datetime:
    return customer.created_at


def _sort_key(customer: Customer, field: str) -> tuple[Any, ...]:
    if field == "source_id":
        return (customer.source_id or "", customer.created_at)
    if field == "updated_at":
        return (customer.updated_at or customer.created_at, customer.created_at)
    return (customer.created_at,)


def _matches(customer: Customer, query: Mapping[str, str]) -> bool:
    for key in ("email", "name"):
        if key in query and (customer.fields.get(key) or "").lower() != query[key].lower():
            return False
    if "city" in query and ((customer.fields.get("address") or {}).get("city") or "").lower() != query["city"].lower():
        return False
    if "segment_id" in query:
        segment = next((s for s in SEGMENTS if s.id == query["segment_id"]), None)
        if segment is None or not segment.rule(customer):
            return False
    for key in _RANGES:
        if key not in query:
            continue
        bound = moment(query[key], key)
        value = customer.created_at if key.startswith("created_at") else customer.updated_at
        if value is None or (value >= bound if key.endswith("[before]") else value <= bound):
            return False
    return True
