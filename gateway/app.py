"""The application factory: the gateway's aiohttp application, with its routes (``/graphql`` and GraphiQL,
the CSV export, ``/healthz``, ``/readyz``, ``/metrics``), its middlewares and its upstream clients.

It serves the upstreams it is given and starts none: the command line (``gateway.__main__``) decides where
they are, and starts the embedded sandboxes for those not configured."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Literal

from aiohttp import web
from aiohttp.typedefs import Middleware

from . import graphiql
from .cache.service import cache_service
from .export import export_customers_csv
from .graphql.schema import build_schema
from .graphql.scopes import ScopeMemory
from .graphql.view import GatewayView
from .http.access import request_context
from .http.bodies import body_timeout
from .http.cors import cors
from .http.deadline import request_budget
from .http.keys import (
    GRAPHIQL_TOKEN,
    GRAPHIQL_VOUCHERIFY_KEYS,
    POLAR_CLIENT,
    SCOPES,
    SETTINGS,
    TRANSPORT,
    UPLOAD_SLOTS,
    VOUCHERIFY_CLIENT,
)
from .http.probes import healthz, metrics_endpoint, readyz
from .http.uploads import is_multipart
from .live.receiver import WEBHOOK_ROUTE, polar_webhook
from .live.service import close_sockets, live_service
from .persisted.service import manifest_of, persisted_service
from .settings import Settings, with_cursor_secret
from .upstream.polar import PolarClient
from .upstream.slots import FairSlots
from .upstream.transport import Transport, create_client
from .upstream.voucherify import VoucherifyClient
from .upstream.voucherify_wire import VOUCHERIFY

GRAPHQL_ROUTE = "/graphql"


def create_app(
    settings: Settings,
    upstream_url: str | None = None,
    demo_token: str | None = None,
    voucherify_url: str | None = None,
    demo_voucherify_keys: tuple[str, str] | None = None,
) -> web.Application:
    """The application on Polar at ``upstream_url`` (default: ``settings.upstream_url``; one of them is
    needed) and Voucherify at ``voucherify_url`` (default: ``settings.voucherify_url``; without either, every
    Voucherify field answers that none is configured). ``demo_token`` is pre-filled in GraphiQL: the command
    line passes the embedded sandbox's, and ``demo_voucherify_keys`` (app id, token) the embedded Voucherify's."""
    url = upstream_url or settings.upstream_url
    if url is None:
        raise ValueError("no upstream: set upstream_url, or start a sandbox and pass its URL")
    settings = with_cursor_secret(settings)
    app = web.Application(client_max_size=settings.max_body_bytes, middlewares=_middlewares(settings))
    app[SETTINGS] = settings
    app[SCOPES] = ScopeMemory(settings.scope_memory_s)
    if demo_token is not None:
        app[GRAPHIQL_TOKEN] = demo_token
    if demo_voucherify_keys is not None:
        app[GRAPHIQL_VOUCHERIFY_KEYS] = demo_voucherify_keys
    app.cleanup_ctx.append(_upstream_clients(url, settings))
    if (voucherify := voucherify_url or settings.voucherify_url) is not None:
        app.cleanup_ctx.append(_voucherify_client(voucherify, settings))
    # GraphiQL needs introspection, and documents typed by hand: neither runs with trusted_documents_only.
    with_graphiql = settings.graphiql and settings.introspection and not settings.trusted_documents_only
    graphiql_mode: Literal["graphiql"] | None = "graphiql" if with_graphiql else None
    app[UPLOAD_SLOTS] = FairSlots(settings.max_concurrent_uploads, per_caller=1)
    app.cleanup_ctx.append(live_service(settings))
    app.cleanup_ctx.append(cache_service(settings))
    app.cleanup_ctx.append(persisted_service(settings, manifest_of(settings)))
    app.on_shutdown.append(close_sockets)
    view = GatewayView(
        schema=build_schema(settings),
        graphql_ide=graphiql_mode,
        allow_queries_via_get=True,
        connection_init_wait_timeout=timedelta(seconds=settings.websocket_init_timeout_s),
        max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
        allowed_origins=settings.cors_origins,  # a browser page of another origin may not open a socket
    )
    app.router.add_route("GET", GRAPHQL_ROUTE, view)
    app.router.add_route("POST", GRAPHQL_ROUTE, view)
    app.router.add_post(WEBHOOK_ROUTE, polar_webhook)
    if graphiql_mode:
        graphiql.add_routes(app, settings.graphiql_assets_dir)
    app.router.add_get("/export/customers.csv", export_customers_csv)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    if settings.metrics and settings.metrics_port is None:
        app.router.add_get("/metrics", metrics_endpoint)
    return app


def create_metrics_app() -> web.Application:
    """``/metrics`` alone, for ``metrics_port``: metrics need not face the open internet with the API."""
    app = web.Application()
    app.router.add_get("/metrics", metrics_endpoint)
    return app


def _middlewares(settings: Settings) -> list[Middleware]:
    """Outermost first: the request id and access line see every answer, the inner ones included; the
    deadline starts once the body has arrived (``body_timeout_s`` bounds that)."""
    middlewares: list[Middleware] = [request_context]
    if settings.cors_origins:
        middlewares.append(cors(settings.cors_origins))
    middlewares.append(body_timeout(settings.body_timeout_s, settings.max_body_bytes, _read_by_its_handler))
    middlewares.append(
        request_budget(settings.request_deadline_s, settings.max_upstream_calls, frozenset({GRAPHQL_ROUTE}))
    )
    return middlewares


def _read_by_its_handler(request: web.Request) -> bool:
    """Bodies with bounds of their own: an upload (``max_upload_bytes``) and a webhook (``webhook_max_bytes``)."""
    return is_multipart(request) or request.path == WEBHOOK_ROUTE


def _upstream_clients(url: str, settings: Settings) -> Callable[[web.Application], AsyncIterator[None]]:
    """The upstream's connection pools, open while the app runs: one for the API and one of its own for
    exports (slow downloads never hold the API's connections), sharing one breaker and one token memory."""

    async def clients(app: web.Application) -> AsyncIterator[None]:
        client = create_client(url, settings, settings.upstream_max_connections)
        transport = Transport(client, settings, deadline_share=settings.polar_deadline_share)
        export_client = create_client(url, settings, settings.export_max_connections)
        export_slots = FairSlots(settings.export_max_connections, settings.export_max_per_caller)
        exports = Transport(
            export_client, settings, breaker=transport.breaker, slots=export_slots, trust=transport.trust
        )
        app[TRANSPORT] = transport
        app[POLAR_CLIENT] = PolarClient(transport, exports)
        try:
            yield
        finally:
            await client.aclose()
            await export_client.aclose()

    return clients


def _voucherify_client(url: str, settings: Settings) -> Callable[[web.Application], AsyncIterator[None]]:
    """Voucherify's pool, with a breaker, slots and token memory of its own: one upstream failing never
    fails fast the other."""

    async def client(app: web.Application) -> AsyncIterator[None]:
        pool = create_client(url, settings, settings.upstream_max_connections, wire=VOUCHERIFY)
        slots = FairSlots(min(settings.upstream_max_concurrency, settings.upstream_max_connections),
                          settings.voucherify_max_concurrency_per_caller)  # fmt: skip
        transport = Transport(pool, settings, slots=slots, wire=VOUCHERIFY,
                              deadline_share=settings.voucherify_deadline_share)  # fmt: skip
        app[VOUCHERIFY_CLIENT] = VoucherifyClient(transport)
        try:
            yield
        finally:
            await pool.aclose()

    return client
