"""The Voucherify sandbox's aiohttp application: one middleware for faults, authentication, request ids,
Voucherify's error bodies and its rate-limit headers around every ``/v1`` and ``/client/v1`` request."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web

from ..app import route_key  # the stats key, as the Polar sandbox counts requests
from . import consents, controls
from .customers import routes as customer_routes
from .errors import VoucherifyError, method_not_allowed, route_not_found, unauthorized
from .ratelimit import ANONYMOUS, DEFAULT_PER_MINUTE, Quota
from .seed import ALLOWED_ORIGINS, CLIENT_CREDENTIALS, CREDENTIALS
from .state import PROJECT, REQUEST_ID, STATE, VoucherifyState

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CONTROL_PREFIX = "/__sandbox/"
TOO_MANY = {"code": 429, "message": "Too many requests hit the API too quickly."}


@web.middleware
async def voucherify_api(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(CONTROL_PREFIX):
        return await handler(request)
    state = request.app[STATE]
    state.in_flight += 1
    state.peak_in_flight = max(state.peak_in_flight, state.in_flight)
    try:
        return await _answer(request, handler, state)
    finally:
        state.in_flight -= 1


async def _answer(request: web.Request, handler: Handler, state: VoucherifyState) -> web.StreamResponse:
    route = route_key(request)
    state.stats[route] += 1
    request_id = state.request_id()
    request[REQUEST_ID] = request_id
    faults = state.faults.for_method(request.method)
    limit = faults.rate_limit_per_minute or DEFAULT_PER_MINUTE
    try:
        app_id, refused = _authenticated_project(request), None
    except VoucherifyError as error:
        app_id, refused = ANONYMOUS, error
    if (delay := faults.delay_seconds(state.rng)) > 0:
        await asyncio.sleep(delay)
    if faults.drop_rate and state.rng.random() < faults.drop_rate:
        state.injected[route] += 1
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError
    # Injected errors and a 401 are answered before the request is counted; they report the quota as it is.
    quota = state.limiter.quota(app_id, limit)
    if faults.error_rate and state.rng.random() < faults.error_rate:
        state.injected[route] += 1
        if faults.error_status == 429:
            return _too_many(faults.retry_after, quota)
        injected = web.Response(status=faults.error_status, text=f"Injected fault {faults.error_status}")
        return _with_quota(injected, quota)
    if refused is not None:
        return _with_quota(_error(refused, request_id), quota)
    allowed, quota = state.limiter.take(app_id, limit)
    if not allowed and faults.rate_limit_per_minute is not None:
        state.injected[route] += 1
        return _too_many(faults.retry_after, quota)
    request[PROJECT] = state.projects[app_id]
    try:
        response = await handler(request)
    except web.HTTPNotFound:
        response = _error(route_not_found(request.path), request_id)
    except web.HTTPMethodNotAllowed:
        response = _error(method_not_allowed(request.method, request.path), request_id)
    except VoucherifyError as error:
        response = _error(error, request_id)
    except web.HTTPException as error:  # 413: raised by a handler, or by aiohttp above client_max_size
        error.headers.update(quota.headers())
        raise
    return _with_quota(response, quota)


def _authenticated_project(request: web.Request) -> str:
    """The project whose keys came: server keys on ``/v1``, client keys and an ``Origin`` on ``/client/v1``."""
    if request.path.startswith("/client/"):
        client_id, token = request.headers.get("X-Client-Application-Id", ""), request.headers.get("X-Client-Token", "")
        known = CLIENT_CREDENTIALS.get(client_id) if request.headers.get("Origin") in ALLOWED_ORIGINS else None
        expected, project = known if known is not None else (None, "")
    else:
        project, token = request.headers.get("X-App-Id", ""), request.headers.get("X-App-Token", "")
        expected = CREDENTIALS.get(project)
    if expected is None or not hmac.compare_digest(expected.encode(), token.encode()):
        raise unauthorized()
    return project


def _error(error: VoucherifyError, request_id: str) -> web.Response:
    return web.json_response(error.body(request_id), status=error.status)


def _with_quota(response: web.StreamResponse, quota: Quota) -> web.StreamResponse:
    response.headers.update(quota.headers())
    return response


def _too_many(retry_after: int, quota: Quota) -> web.Response:
    """Voucherify's 429 is one of the bodies with only ``code`` and ``message``. ``Retry-After`` is the
    ``retry_after`` fault (a test control); ``X-Rate-Limit-Retry`` is when the window really resets."""
    headers = {"Retry-After": str(retry_after), "X-Rate-Limit-Type": "api_calls", **quota.headers()}
    return web.json_response(TOO_MANY, status=429, headers=headers)


def create_app(customers: int = 120, seed: int = 1) -> web.Application:
    app = web.Application(middlewares=[voucherify_api], client_max_size=11 * 1024 * 1024)
    app[STATE] = VoucherifyState(customers=customers, seed=seed)
    app.add_routes(controls.routes())
    app.add_routes(customer_routes())
    app.add_routes(consents.routes())
    return app


__all__ = ["VoucherifyState", "create_app"]
