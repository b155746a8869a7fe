"""The gateway's aiohttp application: ``/graphql`` (and GraphiQL), ``/healthz``, and the upstream
client, with the embedded sandbox started in-process when no upstream URL is configured."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
from aiohttp import web

from .graphql.schema import SCHEMA
from .graphql.scopes import ScopeMemory
from .graphql.view import POLAR_CLIENT, SCOPES, SETTINGS, GatewayView
from .sandbox.runner import RunningSandbox, start_sandbox
from .settings import Settings
from .upstream.polar import PolarClient
from .upstream.transport import Transport, create_client

SANDBOX = web.AppKey("sandbox", RunningSandbox)
UPSTREAM_URL = web.AppKey("upstream_url", str)


TRANSPORT = web.AppKey("transport", Transport)
PROBE_TIMEOUT_S = 2.0


async def healthz(request: web.Request) -> web.Response:
    """The process lives."""
    return web.json_response({"status": "ok"})


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


def create_app(settings: Settings) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    app[SETTINGS] = settings
    app[SCOPES] = ScopeMemory(settings.scope_memory_s)

    async def upstream(app: web.Application) -> AsyncIterator[None]:
        url = settings.upstream_url
        if url is None:
            sandbox = await start_sandbox("127.0.0.1", 0, settings.sandbox_customers, settings.sandbox_seed)
            app[SANDBOX] = sandbox
            url = sandbox.url
        app[UPSTREAM_URL] = url
        client = create_client(url, settings)
        transport = Transport(client, settings)
        app[TRANSPORT] = transport
        app[POLAR_CLIENT] = PolarClient(transport)
        yield
        await client.aclose()
        if SANDBOX in app:
            await app[SANDBOX].stop()

    app.cleanup_ctx.append(upstream)
    view = GatewayView(schema=SCHEMA, graphql_ide="graphiql", allow_queries_via_get=True)
    app.router.add_route("GET", "/graphql", view)
    app.router.add_route("POST", "/graphql", view)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app
