"""The outermost middleware: each request gets its id (the caller's ``X-Request-Id`` when safe, else a new
one), returned in the response and carried by every log line of the request, and one access line is logged:
method, route template, status and time, and on /graphql the client's identity (``observability.clients``:
its name and version, kept only when plain). No query string, no other header."""

from __future__ import annotations

import logging
import time
from functools import partial

from aiohttp import web
from aiohttp.typedefs import Handler

from ..observability import request_id
from ..observability.clients import client_identity, count_request
from .proven import credentials_proven

QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
CLIENT_ROUTES = frozenset({"/graphql"})  # where a frontend says who it is
SLOW_REQUEST_MS = 1000.0
access_log = logging.getLogger("gateway.access")


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The access line is INFO for a failed (4xx, 5xx) or slow (over a second) request and DEBUG otherwise:
    writing a line for every healthy request cost about 7% of the CPU of a simple query."""
    rid = request_id.accept_or_create(request.headers.get(request_id.HEADER))
    token = request_id.CURRENT.set(rid)
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers[request_id.HEADER] = rid
        return response
    except web.HTTPException as error:
        status = error.status
        error.headers[request_id.HEADER] = rid
        raise
    finally:
        route = route_of(request)
        elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
        quiet = route in QUIET_ROUTES or (status < 400 and elapsed_ms < SLOW_REQUEST_MS)
        level = logging.DEBUG if quiet else logging.INFO
        extra: dict[str, object] = {
            "method": request.method, "route": route, "status": status, "duration_ms": elapsed_ms
        }  # fmt: skip
        client = ""
        if route in CLIENT_ROUTES:
            name, version = identity = client_identity(request.headers)
            count_request(identity, may_add=partial(credentials_proven, request))
            extra.update(client=name, client_version=version)
            client = f" client={name}/{version}"
        if access_log.isEnabledFor(level):
            access_log.log(level, "%s %s %s %.1fms%s", request.method, route, status, elapsed_ms, client, extra=extra)
        request_id.CURRENT.reset(token)


def route_of(request: web.Request) -> str:
    """The template of the route the request matched (``/graphql``), never its path: a path may carry ids."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "<unmatched>"
