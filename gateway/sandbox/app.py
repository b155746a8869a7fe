"""The sandbox's aiohttp application: routes, and one middleware that does what Polar's
middlewares and FastAPI's router do around every API request."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from yarl import URL

from . import billing, controls, customers, lifecycle, portal, webhook_endpoints
from .auth import authenticate
from .deliveries import Deliveries, DeliverySettings
from .errors import ApiError, method_not_allowed, rate_limited, route_not_found
from .http import json_response
from .state import DEFAULT_VERSION, KNOWN_VERSIONS, STATE, TOKEN, SandboxState
from .state import VERSION as _VERSION

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CONTROL_PREFIX = "/__sandbox/"


def route_key(request: web.Request) -> str:
    """``METHOD /route/{template}``: how ``/__sandbox/stats`` counts requests."""
    resource = request.match_info.route.resource
    return f"{request.method} {resource.canonical if resource is not None else '<unmatched>'}"


@web.middleware
async def polar_api(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(CONTROL_PREFIX):
        return await handler(request)
    target = request.raw_path  # as it came on the wire, before any rerouting
    request, handler = await _route_as_starlette(request, handler)
    state = request.app[STATE]
    route = route_key(request)
    state.stats[route] += 1
    started = time.monotonic()
    try:
        return await _handle(request, handler, state, route)
    finally:
        state.timeline.append((route, started, time.monotonic(), request.headers.get("X-Request-Id"), target))


_ENCODED_SLASH = re.compile(r"%2[fF]")
_API_PREFIX = re.compile(r"^/api/v1")


async def _route_as_starlette(request: web.Request, handler: Handler) -> tuple[web.Request, Handler]:
    """The route Polar's server would pick. Its ``PathRewriteMiddleware`` turns a leading ``/api/v1`` into
    ``/v1``. uvicorn percent-decodes the whole path and Starlette routes on that, so an encoded slash
    (``%2F``) separates segments there, where aiohttp keeps it inside one. Every other escape decodes alike
    in both (aiohttp unquotes ``%25`` in the matched values), and neither resolves dot segments."""
    raw_path, _, raw_query = request.raw_path.partition("?")
    path = _ENCODED_SLASH.sub("/", _API_PREFIX.sub("/v1", raw_path))
    if path == raw_path:
        return request, handler
    url = URL.build(path=path, query_string=raw_query, encoded=True)
    rerouted = request.clone(rel_url=url)
    match_info = await request.app.router.resolve(rerouted)
    match_info.add_app(request.app)
    match_info.freeze()
    rerouted._match_info = match_info  # what aiohttp's own dispatch sets; there is no public setter
    return rerouted, match_info.handler


async def _handle(request: web.Request, handler: Handler, state: SandboxState, route: str) -> web.StreamResponse:
    faults = state.faults.for_method(request.method)
    if (delay := faults.delay_seconds(state.rng)) > 0:
        await asyncio.sleep(delay)
    if faults.drop_rate and state.rng.random() < faults.drop_rate:
        state.injected[route] += 1
        return _drop(request)
    if faults.error_rate and state.rng.random() < faults.error_rate:
        state.injected[route] += 1
        if faults.error_status == 429:
            return _error_response(rate_limited(faults.retry_after))
        return web.Response(status=faults.error_status, text=f"Injected fault {faults.error_status}")
    version = request.headers.get("Polar-Version") or DEFAULT_VERSION
    if version not in KNOWN_VERSIONS:
        # Polar's outermost middleware (APIVersionMiddleware) answers before authentication, rate limits and
        # routing, with neither the Polar-Version header nor the default Cache-Control.
        request[_VERSION] = None
        return _error_response(route_not_found())
    request[_VERSION] = version
    try:
        token = authenticate(request.headers.get("Authorization"), state.store, state.clock.now())
        limit = faults.rate_limit_per_minute
        if limit is not None:
            bucket = "anonymous" if token is None else token.customer_id or token.organization_id
            if not state.limiter.allow(bucket, limit):
                state.injected[route] += 1
                raise rate_limited(faults.retry_after)
        request[TOKEN] = token
        return await handler(request)
    except web.HTTPNotFound:
        return await _redirect_slash(request) or _error_response(route_not_found())
    except web.HTTPMethodNotAllowed:
        return _error_response(method_not_allowed())
    except ApiError as error:
        return _error_response(error)


def _error_response(error: ApiError) -> web.Response:
    if error.body is None:
        return web.Response(status=error.status, headers=error.headers)
    response = json_response(error.body, status=error.status, spaced=error.spaced)
    response.headers.update(error.headers)
    return response


async def _redirect_slash(request: web.Request) -> web.Response | None:
    """Starlette's ``redirect_slashes``: 307 to the same path with the trailing slash toggled."""
    path = request.path
    other = path[:-1] if path.endswith("/") else path + "/"
    if not other.strip("/"):
        return None
    match = await request.app.router.resolve(request.clone(rel_url=request.rel_url.with_path(other)))
    if match.http_exception is not None:
        return None
    location = request.url.with_path(other).with_query(request.query)
    return web.Response(status=307, headers={"Location": str(location)})


def _drop(request: web.Request) -> web.Response:
    """Closes the connection without an answer, as a crashed upstream or a dead proxy would."""
    if request.transport is not None:
        request.transport.abort()
    raise asyncio.CancelledError


async def _add_headers(request: web.Request, response: web.StreamResponse) -> None:
    if request.path.startswith(CONTROL_PREFIX):
        return
    version = request.get(_VERSION, DEFAULT_VERSION)
    if version is not None:  # None: an unknown version, refused before Polar's other middlewares
        response.headers["Polar-Version"] = version
        response.headers.setdefault("Cache-Control", "private, no-store")
    response.headers["X-Polar-Sandbox"] = "1"


def create_app(customers: int = 250, seed: int = 1, webhook_backoff_scale: float = 1.0) -> web.Application:
    """``webhook_backoff_scale`` multiplies Polar's retry delays (4 s, 8 s, ... 17 min): tests pass a small one;
    ``POST /__sandbox/webhooks`` changes it while running, and a reset brings this value back."""
    app = web.Application(middlewares=[polar_api], client_max_size=1024 * 1024)
    deliveries = Deliveries(DeliverySettings().updated({"backoff_scale": webhook_backoff_scale}))
    app[STATE] = SandboxState(customers=customers, seed=seed, deliveries=deliveries)
    app.add_routes(controls.routes())
    app.add_routes(lifecycle.routes())
    app.add_routes(customers_routes())
    app.on_response_prepare.append(_add_headers)
    app.on_cleanup.append(_stop_deliveries)
    return app


async def _stop_deliveries(app: web.Application) -> None:
    await app[STATE].deliveries.close()


def customers_routes() -> list[web.RouteDef]:
    return [*customers.routes(), *portal.routes(), *billing.routes(), *webhook_endpoints.routes()]


__all__ = ["SandboxState", "create_app"]
