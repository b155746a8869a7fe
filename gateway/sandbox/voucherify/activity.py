"""Customer events: recorded on create and update, listed by ``/activity`` (cursor on event ids) and by the
deprecated ``/activities`` (with ``total``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .errors import invalid_query
from .model import Customer, iso
from .store import Project
from .validation import bounded_int, moment

CATEGORY = "ACTION"  # every event the sandbox records is something the API caller did


def record(project: Project, customer: Customer, kind: str, at: datetime) -> None:
    event = {
        "id": "evcus_" + project.new_id("", 18).lower(),
        "type": kind,
        # The payload sits beside event_source, not under data.data: the spec's oneOf there matches any
        # customer payload ~30 times over, so no nesting under it can validate.
        "data": {"customer": customer.as_json(), "event_source": {"channel": "API"}},
        "created_at": iso(at),
        "group_id": f"v-{project.new_id('', 18).lower()}",
        "category": CATEGORY,
        "entity_id": customer.id,
    }
    customer.activity.append(event)


def _selected(customer: Customer, query: Mapping[str, str], orders: tuple[str, ...]) -> list[dict[str, Any]]:
    order = query.get("order", "-created_at")
    if order not in orders:
        raise invalid_query(f"Query param .order must be one of {', '.join(orders)}")
    events = list(customer.activity)
    if order.startswith("-"):
        events.reverse()
    if "start_date" in query:
        start = iso(moment(query["start_date"], "start_date"))
        events = [e for e in events if e["created_at"] >= start]
    if "end_date" in query:
        end = iso(moment(query["end_date"], "end_date"))
        events = [e for e in events if e["created_at"] <= end]
    for key in ("type", "category"):
        if key in query:
            events = [e for e in events if e[key] == query[key]]
    if "campaign_id" in query or "campaign_type" in query:
        events = []  # the sandbox records no campaign events
    if "starting_after_id" in query:
        ids = [e["id"] for e in events]
        events = events[ids.index(query["starting_after_id"]) + 1 :] if query["starting_after_id"] in ids else []
    return events


def activity(customer: Customer, query: Mapping[str, str]) -> dict[str, Any]:
    """``/activity``: ``has_more`` and, when there is more, ``more_starting_after`` for the next page."""
    limit = bounded_int(query.get("limit"), "limit", 1, 100, 10)
    events = _selected(customer, query, ("created_at", "-created_at"))
    window = events[:limit]
    body: dict[str, Any] = {"object": "list", "data_ref": "data", "data": window, "has_more": len(events) > limit}
    if body["has_more"]:
        body["more_starting_after"] = window[-1]["id"]
    return body


def activities(customer: Customer | None, query: Mapping[str, str]) -> dict[str, Any]:
    """The deprecated ``/activities``: ``total`` instead of a cursor; an unknown customer has none."""
    limit = bounded_int(query.get("limit"), "limit", 1, 100, 10)
    orders = ("created_at", "-created_at", "updated_at", "-updated_at", "type", "-type")
    events = [] if customer is None else _selected(customer, query, orders)
    if customer is not None and "starting_after" in query:
        cursor = iso(moment(query["starting_after"], "starting_after"))
        events = [e for e in events if e["created_at"] > cursor]
    return {"object": "list", "data_ref": "data", "data": events[:limit], "total": len(events)}
