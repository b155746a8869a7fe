"""Test controls under ``/__sandbox/`` (no auth): request counts, reset, faults and the clock."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .clock import iso
from .http import json_response
from .seed import DEMO_READ_TOKEN, DEMO_TOKEN, DEMO_WEBHOOKS_READ_TOKEN, OTHER_TOKEN
from .state import sandbox


def bad_request(message: str) -> web.Response:
    return web.json_response({"detail": message}, status=400)


async def json_object(request: web.Request) -> dict[str, Any] | str:
    """The body as an object, or the message saying why it is not one."""
    raw = await request.read()
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return "body must be a JSON object"
    return body if isinstance(body, dict) else "body must be a JSON object"


async def stats(request: web.Request) -> web.Response:
    state = sandbox(request)
    counts, injected = state.stats, state.injected
    return json_response({
        "total": sum(counts.values()),
        "by_route": dict(sorted(counts.items())),
        "faults": {"total": sum(injected.values()), "by_route": dict(sorted(injected.items()))},
    })  # fmt: skip


async def timeline(request: web.Request) -> web.Response:
    """Recent API requests, oldest first: route, start and end (monotonic seconds), the caller's
    ``X-Request-Id`` (null without one), and the target (path and query) exactly as it came on the wire."""
    entries = [
        {"route": route, "start": round(start, 6), "end": round(end, 6), "request_id": rid, "target": target}
        for route, start, end, rid, target in sandbox(request).timeline
    ]
    return json_response({"requests": entries})


async def reset(request: web.Request) -> web.Response:
    sandbox(request).reset()
    return json_response({"status": "reset"})


async def get_faults(request: web.Request) -> web.Response:
    return json_response(sandbox(request).faults.as_json())


async def set_faults(request: web.Request) -> web.Response:
    body = await json_object(request)
    if isinstance(body, str):
        return bad_request(body)
    state = sandbox(request)
    try:
        state.faults = state.faults.updated(body)
    except ValueError as error:
        return bad_request(str(error))
    if body.get("rate_limit_per_minute") is not None:
        state.limiter.reset()
    return json_response(state.faults.as_json())


async def advance_clock(request: web.Request) -> web.Response:
    """Moves the sandbox's now forward, e.g. past a customer session's expiry."""
    body = await json_object(request)
    if isinstance(body, str):
        return bad_request(body)
    seconds = body.get("advance_seconds")
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
        return bad_request("advance_seconds must be a non-negative number")
    state = sandbox(request)
    state.clock.advance(seconds)
    return json_response({"now": iso(state.clock.now())})


async def info(request: web.Request) -> web.Response:
    """The organizations, tokens, products and benefits of the seed, for tests and for people exploring (the
    checkout and grant controls take product and benefit ids)."""
    store = sandbox(request).store
    organizations = [{"id": o.id, "name": o.name, "slug": o.slug} for o in store.organizations.values()]
    tokens = {
        name: {"organization_id": store.tokens[name].organization_id, "scopes": sorted(store.tokens[name].scopes)}
        for name in (DEMO_TOKEN, DEMO_READ_TOKEN, DEMO_WEBHOOKS_READ_TOKEN, OTHER_TOKEN)
    }
    products = [
        {"id": p.id, "organization_id": p.organization_id, "name": p.name, "recurring_interval": p.recurring_interval,
         "price_ids": [price.id for price in p.prices], "benefit_ids": list(p.benefit_ids)}
        for p in store.products.values()
    ]  # fmt: skip
    benefits = [
        {"id": b.id, "organization_id": b.organization_id, "type": b.type, "description": b.description}
        for b in store.benefits.values()
    ]
    return json_response({"organizations": organizations, "tokens": tokens, "products": products, "benefits": benefits})


def routes() -> list[web.RouteDef]:
    return [
        web.get("/__sandbox/stats", stats),
        web.get("/__sandbox/timeline", timeline),
        web.post("/__sandbox/reset", reset),
        web.get("/__sandbox/faults", get_faults),
        web.post("/__sandbox/faults", set_faults),
        web.post("/__sandbox/clock", advance_clock),
        web.get("/__sandbox/info", info),
    ]
