"""Test controls under ``/__sandbox/`` (no auth), as the Polar sandbox has them: stats, reset, faults."""

from __future__ import annotations

import json

from aiohttp import web

from .state import state_of


async def stats(request: web.Request) -> web.Response:
    state = state_of(request)
    counts, injected = state.stats, state.injected
    return web.json_response({
        "total": sum(counts.values()),
        "by_route": dict(sorted(counts.items())),
        "faults": {"total": sum(injected.values()), "by_route": dict(sorted(injected.items()))},
        "peak_in_flight": state.peak_in_flight,
    })  # fmt: skip


async def reset(request: web.Request) -> web.Response:
    state_of(request).reset()
    return web.json_response({"status": "reset"})


async def get_faults(request: web.Request) -> web.Response:
    return web.json_response(state_of(request).faults.as_json())


async def set_faults(request: web.Request) -> web.Response:
    try:
        body = json.loads(await request.read() or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return web.json_response({"detail": "body must be a JSON object"}, status=400)
    state = state_of(request)
    try:
        state.faults = state.faults.updated(body)
    except ValueError as error:
        return web.json_response({"detail": str(error)}, status=400)
    if body.get("rate_limit_per_minute") is not None:
        state.limiter.reset()
    return web.json_response(state.faults.as_json())


def routes() -> list[web.RouteDef]:
    return [
        web.get("/__sandbox/stats", stats),
        web.post("/__sandbox/reset", reset),
        web.get("/__sandbox/faults", get_faults),
        web.post("/__sandbox/faults", set_faults),
    ]
