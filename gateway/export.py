"""``GET /export/customers.csv``: Polar's customer export, streamed to the client as it arrives, so
memory stays flat however many customers there are. Errors are plain HTTP answers with a JSON body."""

from __future__ import annotations

import json
import logging

import httpx
from aiohttp import web

from .graphql.view import POLAR_CLIENT, SETTINGS
from .http.tokens import TokenKind, credentials, token_kind
from .upstream.errors import (
    UpstreamCircuitOpen,
    UpstreamError,
    UpstreamForbidden,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnauthorized,
)

log = logging.getLogger("gateway.export")
DEFAULT_TYPE = "text/csv; charset=utf-8"
DEFAULT_DISPOSITION = 'attachment; filename="polar-customers.csv"'


def _refusal(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})
    return web.Response(status=status, body=body, content_type="application/json", headers=headers)


def _upstream_refusal(error: UpstreamError) -> web.Response:
    if isinstance(error, UpstreamUnauthorized):
        return _refusal(401, "UNAUTHENTICATED", "Polar refused the access token.", {"WWW-Authenticate": "Bearer"})
    if isinstance(error, UpstreamForbidden):
        return _refusal(403, "FORBIDDEN", "The access token lacks the customers:read scope.")
    if isinstance(error, UpstreamRateLimited):
        retry = str(int(error.retry_after)) if error.retry_after is not None else "60"
        return _refusal(429, "RATE_LIMITED", "Polar's rate limit was reached; retry later.", {"Retry-After": retry})
    if isinstance(error, UpstreamTimeout):
        return _refusal(504, "UPSTREAM_TIMEOUT", "Polar did not answer in time.")
    if isinstance(error, UpstreamCircuitOpen):
        return _refusal(503, "UPSTREAM_UNAVAILABLE", "Polar is unavailable; failing fast for a few seconds.")
    return _refusal(502, "UPSTREAM_UNAVAILABLE", "Polar is unavailable.")


async def export_customers_csv(request: web.Request) -> web.StreamResponse:
    caller = credentials(request.headers)
    token = caller.token
    if token is None:
        message = caller.problem or "Send 'Authorization: Bearer <organization access token>'."
        return _refusal(401, "UNAUTHENTICATED", message, {"WWW-Authenticate": "Bearer"})
    if token_kind(token) is TokenKind.CUSTOMER_SESSION:
        return _refusal(403, "FORBIDDEN", "The export needs an organization access token, not a customer session.")
    settings = request.app[SETTINGS]
    try:
        async with request.app[POLAR_CLIENT].open_customer_export(token, settings.export_read_timeout_s) as upstream:
            response = web.StreamResponse(headers={
                "Content-Type": upstream.headers.get("content-type", DEFAULT_TYPE),
                "Content-Disposition": upstream.headers.get("content-disposition", DEFAULT_DISPOSITION),
                "Cache-Control": "private, no-store",
            })  # fmt: skip
            await response.prepare(request)
            try:
                async for chunk in upstream.aiter_bytes():
                    await response.write(chunk)
            except (httpx.HTTPError, UpstreamError) as error:
                # Headers are sent: the only honest signal left is an incomplete body.
                log.warning("customer export interrupted: %s", type(error).__name__)
                if request.transport is not None:
                    request.transport.close()
                return response
            await response.write_eof()
            return response
    except UpstreamError as error:
        return _upstream_refusal(error)
