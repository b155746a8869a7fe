"""``GET /export/customers.csv``: Polar's customer export, streamed to the client as it arrives, so
memory stays flat however many customers there are. Errors are plain HTTP answers with a JSON body.

Exports have upstream connections of their own, a few per process and one per token at a time, so slow
downloads never hold the API's connections; a client that takes no data for a while is dropped, and no
export runs longer than a set time. Two slow downloads with the shared pool set to two had made every
organization's requests time out."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import struct

import httpx
from aiohttp import web

from .graphql.errors import failure_of
from .http.keys import POLAR_CLIENT, SETTINGS
from .http.tokens import TokenKind, TokenRefused, credentials, require
from .upstream.errors import UpstreamBusy, UpstreamError, UpstreamRateLimited, UpstreamTimeout, UpstreamUnauthorized

log = logging.getLogger("gateway.export")
DEFAULT_TYPE = "text/csv; charset=utf-8"
DEFAULT_DISPOSITION = 'attachment; filename="polar-customers.csv"'


def _refusal(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})
    return web.Response(status=status, body=body, content_type="application/json", headers=headers)


def _upstream_refusal(error: UpstreamError) -> web.Response:
    failure = failure_of(error)
    headers: dict[str, str] = {}
    if isinstance(error, UpstreamUnauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    elif isinstance(error, UpstreamRateLimited):
        headers["Retry-After"] = str(int(error.retry_after)) if error.retry_after is not None else "60"
    elif isinstance(error, UpstreamBusy):
        headers["Retry-After"] = "5"
    message = failure.message
    if isinstance(error, UpstreamBusy):
        message = ("Too many exports are in progress: at most export_max_per_caller per token and "
                   "export_max_connections per process (settings); retry shortly.")  # fmt: skip
    return _refusal(failure.status, failure.code.value, message, headers)


async def export_customers_csv(request: web.Request) -> web.StreamResponse:
    try:
        token = require(credentials(request.headers), TokenKind.ORGANIZATION)
    except TokenRefused as refused:
        challenge = {"WWW-Authenticate": "Bearer"} if refused.code == "UNAUTHENTICATED" else None
        return _refusal(refused.status, refused.code, refused.message, challenge)
    settings = request.app[SETTINGS]
    polar = request.app[POLAR_CLIENT]
    response: web.StreamResponse | None = None
    try:
        await polar.prove_token(token)
        async with (
            asyncio.timeout(settings.export_max_duration_s),
            polar.open_customer_export(token, settings.export_read_timeout_s) as upstream,
        ):
            response = web.StreamResponse(headers={
                "Content-Type": upstream.headers.get("content-type", DEFAULT_TYPE),
                "Content-Disposition": upstream.headers.get("content-disposition", DEFAULT_DISPOSITION),
                "Cache-Control": "private, no-store",
            })  # fmt: skip
            await response.prepare(request)
            async for chunk in upstream.aiter_bytes():
                async with asyncio.timeout(settings.export_write_timeout_s):
                    await response.write(chunk)
        await response.write_eof()
        return response
    except UpstreamError as error:
        if response is None:
            return _upstream_refusal(error)
        return _cut(request, response, f"upstream failed: {type(error).__name__}")
    except httpx.HTTPError as error:
        if response is None:
            raise
        return _cut(request, response, f"upstream failed: {type(error).__name__}")
    except TimeoutError:
        if response is None:
            return _upstream_refusal(UpstreamTimeout("export did not start in time"))
        return _cut(request, response, "took no data for export_write_timeout_s, or ran past export_max_duration_s")
    except ConnectionResetError:
        log.info("customer export: the client went away")
        return response or web.Response(status=499)


def _cut(request: web.Request, response: web.StreamResponse, why: str) -> web.StreamResponse:
    """Headers are sent: the only honest signal left is an incomplete body. Reset, not closed: a close
    waits to flush what the client is not reading, and the kernel would keep megabytes queued for it."""
    log.warning("customer export cut short: %s", why)
    if request.transport is not None:
        connection = request.transport.get_extra_info("socket")
        if connection is not None:
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        request.transport.abort()
    return response
