"""The gateway's aiohttp application: ``/graphql`` (and GraphiQL), ``/healthz``, ``/readyz``, ``/metrics``,
the CSV export, and the upstream client, with the embedded sandbox started in-process when no upstream URL
is configured."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator
from typing import Any, Literal

import httpx
from aiohttp import web

from . import graphiql
from .export import export_customers_csv
from .graphql.schema import build_schema
from .graphql.scopes import ScopeMemory
from .graphql.view import POLAR_CLIENT, SCOPES, SETTINGS, GatewayView
from .http.bodies import body_timeout
from .observability import metrics, request_id
from .sandbox.runner import RunningSandbox, start_sandbox
from .sandbox.seed import DEMO_TOKEN
from .settings import Settings, with_cursor_secret
from .upstream.polar import PolarClient
from .upstream.slots import FairSlots
from .upstream.transport import Transport, create_client

SANDBOX = web.AppKey("sandbox", RunningSandbox)
UPSTREAM_URL = web.AppKey("upstream_url", str)


TRANSPORT = web.AppKey("transport", Transport)
PROBE_TIMEOUT_S = 2.0


async def healthz(request: web.Request) -> web.Response:
    """The process lives."""
    return web.json_response({"status": "ok", "pid": os.getpid()})


async def readyz(request: web.Request) -> web.Response:
    """Ready when the upstream's breaker is closed and the upstream answers at all (any HTTP status:
    a 401 to a request without a token still proves Polar is there)."""
    transport = request.app[TRANSPORT]
    breaker = transport.breaker.state.value
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            probe = await transport.client.get("/v1/customers/")
        answers = probe.status_code < 500
    except (TimeoutError, httpx.HTTPError):
        answers = False
    ready = answers and breaker == "closed"
    body = {
        "status": "ready" if ready else "not ready",
        "upstream": "answers" if answers else "down",
        "breaker": breaker,
    }
    return web.json_response(body, status=200 if ready else 503)


QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
SLOW_REQUEST_MS = 1000.0
access_log = logging.getLogger("gateway.access")


@web.middleware
async def request_context(request: web.Request, handler: Any) -> web.StreamResponse:
    """Gives the request its id (the caller's ``X-Request-Id`` when safe), returns it in the response, and
    logs one access line: method, route template, status and time. No query string, no headers.

    The line is INFO for a failed (4xx, 5xx) or slow (over a second) request and DEBUG otherwise: writing a
    line for every healthy request cost about 7% of the CPU of a simple query."""
    rid = request_id.accept_or_create(request.headers.get(request_id.HEADER))
    token = request_id.CURRENT.set(rid)
    started = time.perf_counter()
    status = 500
    try:
        response: web.StreamResponse = await handler(request)
        status = response.status
        response.headers[request_id.HEADER] = rid
        return response
    except web.HTTPException as error:
        status = error.status
        error.headers[request_id.HEADER] = rid
        raise
    finally:
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "<unmatched>"
        elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
        quiet = route in QUIET_ROUTES or (status < 400 and elapsed_ms < SLOW_REQUEST_MS)
        level = logging.DEBUG if quiet else logging.INFO
        if access_log.isEnabledFor(level):
            access_log.log(
                level, "%s %s %s %.1fms", request.method, route, status, elapsed_ms,
                extra={"method": request.method, "route": route, "status": status, "duration_ms": elapsed_ms},
            )  # fmt: skip
        request_id.CURRENT.reset(token)


async def metrics_endpoint(request: web.Request) -> web.Response:
    return web.Response(body=metrics.exposition(), headers={"Content-Type": metrics.CONTENT_TYPE})


def cors(allowed: list[str]) -> Any:
    """Browsers may call from the allowed origins only: other origins get no CORS headers at all."""
    origins = frozenset(allowed)

    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        permitted = origin is not None and origin in origins
        if request.method == "OPTIONS" and permitted and request.headers.get("Access-Control-Request-Method"):
            response: web.StreamResponse = web.Response(status=204, headers={
                "Access-Control-Allow-Methods": "GET, POST",
                "Access-Control-Allow-Headers": "Authorization, Content-Type, Accept",
                "Access-Control-Max-Age": "600",
            })  # fmt: skip
        else:
            response = await handler(request)
        if permitted and origin is not None:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
        return response

    return middleware


def create_metrics_app() -> web.Application:
    """``/metrics`` alone, for ``metrics_port``: metrics need not face the open internet with the API."""
    app = web.Application()
    app.router.add_get("/metrics", metrics_endpoint)
    return app


def create_app(settings: Settings) -> web.Application:
    settings = with_cursor_secret(settings)
    middlewares = [request_context, cors(settings.cors_origins)] if settings.cors_origins else [request_context]
    middlewares.append(body_timeout(settings.body_timeout_s, settings.max_body_bytes))
    app = web.Application(client_max_size=settings.max_body_bytes, middlewares=middlewares)
    app[SETTINGS] = settings
    app[SCOPES] = ScopeMemory(settings.scope_memory_s)

    async def upstream(app: web.Application) -> AsyncIterator[None]:
        url = settings.upstream_url
        if url is None:
            sandbox = await start_sandbox("127.0.0.1", 0, settings.sandbox_customers, settings.sandbox_seed)
            app[SANDBOX] = sandbox
            app[graphiql.DEFAULT_TOKEN] = DEMO_TOKEN  # the embedded sandbox's demo data, for GraphiQL
            url = sandbox.url
        app[UPSTREAM_URL] = url
        client = create_client(url, settings, settings.upstream_max_connections)
        transport = Transport(client, settings)
        export_client = create_client(url, settings, settings.export_max_connections)
        export_slots = FairSlots(settings.export_max_connections, settings.export_max_per_caller)
        exports = Transport(
            export_client, settings, breaker=transport.breaker, slots=export_slots, trust=transport.trust
        )
        app[TRANSPORT] = transport
        app[POLAR_CLIENT] = PolarClient(transport, exports)
        yield
        await client.aclose()
        await export_client.aclose()
        if SANDBOX in app:
            await app[SANDBOX].stop()

    app.cleanup_ctx.append(upstream)
    graphiql_mode: Literal["graphiql"] | None = "graphiql" if settings.graphiql and settings.introspection else None
    view = GatewayView(schema=build_schema(settings), graphql_ide=graphiql_mode, allow_queries_via_get=True)
    app.router.add_route("GET", "/graphql", view)
    app.router.add_route("POST", "/graphql", view)
    if graphiql_mode:
        graphiql.add_routes(app, settings.graphiql_assets_dir)
    app.router.add_get("/export/customers.csv", export_customers_csv)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    if settings.metrics and settings.metrics_port is None:
        app.router.add_get("/metrics", metrics_endpoint)
    return app
