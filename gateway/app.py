"""The gateway's aiohttp application: ``/graphql`` (and GraphiQL), ``/healthz``, and the upstream
client, with the embedded sandbox started in-process when no upstream URL is configured."""

from __future__ import annotations

from collections.abc import AsyncIterator

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


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


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
        app[POLAR_CLIENT] = PolarClient(Transport(client))
        yield
        await client.aclose()
        if SANDBOX in app:
            await app[SANDBOX].stop()

    app.cleanup_ctx.append(upstream)
    view = GatewayView(schema=SCHEMA, graphql_ide="graphiql", allow_queries_via_get=True)
    app.router.add_route("GET", "/graphql", view)
    app.router.add_route("POST", "/graphql", view)
    app.router.add_get("/healthz", healthz)
    return app
