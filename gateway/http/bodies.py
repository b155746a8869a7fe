"""Request bodies from the open internet: read within ``body_timeout_s``, and decoded as JSON within bounds.

A body that trickles in would hold a connection and a handler for as long as the client likes, so the whole
body must arrive within the setting's time, or the answer is 408 and the connection is closed.

JSON is decoded by orjson, which refuses nesting over 1024 levels. The standard library decodes what orjson
refuses (to say precisely why; ``NaN`` and ``Infinity``, which it would take, are refused as not JSON);
it is guarded against its own failures: a ``RecursionError`` past Python's recursion limit (about 900
levels), a ``ValueError`` on integers of over 4,300 digits. Integers must fit in 64 bits, signed: orjson
would turn a wider one into an approximate float, and the standard library into an arbitrarily large one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from ..observability import request_id
from ..observability.metrics import EDGE_CLOSED
from .answers import error_response
from .keys import SETTINGS

_INT64 = range(-(2**63), 2**63)
# Only a body with a run of 19 digits can hold an integer over 64 bits; such bodies are decoded again with
# the standard library, which shows each integer literal (not string, not float) to ``parse_int``.
_LONG_DIGITS_BYTES = re.compile(rb"[0-9]{19}")
_LONG_DIGITS_TEXT = re.compile(r"[0-9]{19}")

TOO_DEEP = "The JSON body is nested too deeply."
TOO_WIDE = "The JSON body has an integer out of range: integers must fit in 64 bits."
NOT_UTF8 = "The request body is not valid UTF-8."
LONE_SURROGATE = "The JSON body has a string with a lone surrogate (\\ud800 to \\udfff unpaired), which is not Unicode."


class JsonRefused(json.JSONDecodeError):
    """JSON that is well formed but over a limit. A ``JSONDecodeError``, so that every caller of
    ``decode_json`` (Strawberry's, for WebSocket messages too) treats it as undecodable."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, "", 0)
        self.reason = reason


def decode_json(data: str | bytes) -> object:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        if error.msg.startswith("depth limit exceeded"):
            raise JsonRefused(TOO_DEEP) from None
        if "surrogate in string" in error.msg:  # an escaped lone one: the standard library would take it,
            # and then nothing could encode it again (httpx failed on it, with the breaker waiting on the call)
            raise JsonRefused(LONE_SURROGATE) from None
        return _standard(data)  # says precisely why, or accepts what orjson does not (NaN, say)
    long_digits = _LONG_DIGITS_BYTES.search(data) if isinstance(data, bytes) else _LONG_DIGITS_TEXT.search(data)
    return _standard(data) if long_digits else value


def _standard(data: str | bytes) -> object:
    try:
        return json.loads(data, parse_int=_int64, parse_constant=_not_json)
    except RecursionError:
        raise JsonRefused(TOO_DEEP) from None
    except UnicodeDecodeError:
        raise JsonRefused(NOT_UTF8) from None


def _not_json(constant: str) -> object:
    """``NaN`` and ``Infinity``, which the standard library would take, are not JSON."""
    raise JsonRefused(f"The JSON body has {constant}, which is not JSON.")


def _int64(literal: str) -> int:
    """Refuses by length before converting: ``int()`` of thousands of digits is slow, or refused."""
    if len(literal) > 20 or (number := int(literal)) not in _INT64:
        raise JsonRefused(TOO_WIDE)
    return number


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def body_timeout(timeout_s: float, max_body_bytes: int, streamed: Callable[[web.Request], bool]) -> Any:
    """A middleware that reads a body still arriving within ``timeout_s`` (a body that came with its
    headers, the usual case, costs nothing here). Later reads get the bytes aiohttp keeps. A ``streamed``
    body (an upload) is left to its handler, which admits it first and reads it within the same time."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.body_exists and not request.content.is_eof() and not streamed(request):
            try:
                async with asyncio.timeout(timeout_s):
                    await request.read()
            except TimeoutError:
                EDGE_CLOSED.labels("body_timeout").inc()
                message = f"The request body did not arrive within {timeout_s:g} s (setting body_timeout_s)."
                return await refuse_and_close(request, 408, message)
            except web.HTTPRequestEntityTooLarge:
                message = f"The request body is over {max_body_bytes} bytes (setting max_body_bytes)."
                return error_response(request, 413, message)
            except web.RequestPayloadError:
                return await refuse_and_close(request, 400, "The request body is malformed (its framing).")
        return await handler(request)

    return middleware


async def refuse_and_close(
    request: web.Request,
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
    drain_bytes: int = 0,
) -> web.StreamResponse:
    """The answer, then the connection closed: aiohttp would otherwise keep reading ("lingering") the rest of a
    body that is not coming. Sent from here, so it carries the request id already.

    With ``drain_bytes``, a body of at most that many bytes (by its Content-Length) that is still arriving is
    first read and dropped, for at most ``refused_body_drain_s``: a socket closed with bytes unread is reset by
    the kernel, and the reset can reach the client before it has read the answer (Node's fetch then reported
    EPIPE for 6 of 20 refused uploads, not the 400 that said why)."""
    headers = dict(headers or {})
    if (rid := request_id.current()) is not None:
        headers[request_id.HEADER] = rid
    response = error_response(request, status, message, headers)
    response.force_close()  # "Connection: close"
    await response.prepare(request)
    await response.write_eof()
    length = request.content_length
    if drain_bytes and length is not None and length <= drain_bytes and not request.content.is_eof():
        with contextlib.suppress(TimeoutError, OSError, web.RequestPayloadError):
            async with asyncio.timeout(request.app[SETTINGS].refused_body_drain_s):
                while await request.content.readany():
                    pass
    if request.transport is not None:
        request.transport.close()
    return response
