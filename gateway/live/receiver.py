"""``POST /webhooks/polar``: Polar's deliveries in, answered within a second as Polar expects.

- 202: verified and handed on (or a repeated ``webhook-id``, ignored), or an event about something other
  than a customer (nothing to hand on).
- 403: the Standard Webhooks signature or its timestamp (5 minutes either way) did not check out (headers
  that could not verify are refused before the body is read); 400: a verified body that is not a customer
  event of the contract's shape; 413: over ``webhook_max_bytes``. Nothing of a refused delivery is kept,
  processed or logged (the access line has its status only).
- 503: no secret configured, ``webhook_max_concurrent`` bodies being read already, or Redis could not take
  it (the cache's invalidation or the publication): Polar retries later, so nothing is lost.

A customer's change first invalidates its cached reads (every caller, every instance), then is published.
"""

from __future__ import annotations

import asyncio
import logging

import orjson
from aiohttp import web
from redis.exceptions import ConnectionError as RedisConnectionError

from ..http.answers import error_response
from ..http.bodies import JsonRefused, decode_json, refuse_and_close
from ..http.keys import CACHE, LIVE, SETTINGS
from ..observability.metrics import WEBHOOKS
from ..upstream.polar_webhooks import (
    NOT_VERIFIED,
    SIGNATURE_HEADERS,
    Malformed,
    NotVerified,
    plausible,
    read_change,
    verify,
)

log = logging.getLogger("gateway.live")
WEBHOOK_ROUTE = "/webhooks/polar"
# Deduplication, invalidation and publishing together: Polar waits 10 s, this answers within 1 s.
HAND_ON_TIMEOUT_S = 0.8
NOT_CONFIGURED = "This gateway takes no Polar webhooks: set polar_webhook_secret to the endpoint's secret."
UNAVAILABLE = "The delivery could not be handed on now (Redis); Polar will retry it."
BUSY = "The gateway is reading as many deliveries as it will (setting webhook_max_concurrent); Polar will retry it."


async def polar_webhook(request: web.Request) -> web.StreamResponse:
    live = request.app[LIVE]
    settings = live.settings
    if live.webhook is None:
        return await _refuse(request, 503, "unavailable", NOT_CONFIGURED)
    headers = {name: values[0] for name in SIGNATURE_HEADERS if len(values := request.headers.getall(name, [])) == 1}
    if not plausible(headers):
        return await _refuse(request, 403, "refused", NOT_VERIFIED)
    if request.content_length is not None and request.content_length > settings.webhook_max_bytes:
        message = f"The delivery is over {settings.webhook_max_bytes} bytes (setting webhook_max_bytes)."
        return await _refuse(request, 413, "refused", message)
    if live.webhooks_reading >= settings.webhook_max_concurrent:
        return await _refuse(request, 503, "unavailable", BUSY, {"Retry-After": "1"})
    live.webhooks_reading += 1
    try:
        body = await _read_body(request, settings.webhook_max_bytes, settings.body_timeout_s)
    finally:
        live.webhooks_reading -= 1
    if isinstance(body, web.StreamResponse):
        return body
    try:
        webhook_id = verify(live.webhook, body, headers)
    except NotVerified as refused:
        return _answer(request, 403, "refused", str(refused))
    try:
        change = read_change(decode_json(body))
    except (Malformed, JsonRefused, ValueError) as malformed:
        reason = str(malformed) if isinstance(malformed, Malformed) else "The delivery's body is not JSON."
        return _answer(request, 400, "malformed", reason)
    publishing = False  # once a publication is under way, Polar's retry is ignored (at most once)
    try:
        async with asyncio.timeout(HAND_ON_TIMEOUT_S):
            if not await live.seen.first_time(webhook_id):
                return _answer(request, 202, "duplicate")
            if change is not None and (caches := request.app.get(CACHE)) is not None and caches.polar is not None:
                # Before subscribers hear of it, so that what they read then is fresh.
                await caches.polar.changed(change.customer_id, change.external_id, "webhook")
            if change is not None:
                publishing = True
                try:
                    await live.bus.publish(change)
                except RedisConnectionError:  # not sent: Polar's retry must be taken
                    publishing = False
                    raise
                # A publish that timed out may have reached Redis: the id stays seen, and Polar's retry is
                # ignored. At most once: a subscriber never gets one change twice.
    except Exception as error:  # Redis refused, went away, or took too long
        if not publishing:  # nothing was handed on: Polar's retry must be taken
            live.seen.forget_soon(webhook_id)  # again and again for a while: a mark may land late
        log.warning("webhook not handed on (%s); answered 503 so that Polar retries", type(error).__name__)
        return _answer(request, 503, "unavailable", UNAVAILABLE)
    return _answer(request, 202, "accepted" if change is not None else "ignored")


async def _read_body(request: web.Request, max_bytes: int, timeout_s: float) -> bytes | web.StreamResponse:
    """The body, read once into one buffer, within ``timeout_s``; else the refusal, sent."""
    body = bytearray()
    try:
        async with asyncio.timeout(timeout_s):
            while len(body) <= max_bytes and (chunk := await request.content.readany()):
                body += chunk
    except TimeoutError:
        return await _refuse(request, 408, "refused", "The delivery did not arrive in time (setting body_timeout_s).")
    except web.RequestPayloadError:
        return await _refuse(request, 400, "malformed", "The delivery's body is malformed (its framing).")
    if len(body) > max_bytes:
        message = f"The delivery is over {max_bytes} bytes (setting webhook_max_bytes)."
        return await _refuse(request, 413, "refused", message)
    return bytes(body)


async def _refuse(
    request: web.Request, status: int, outcome: str, message: str, headers: dict[str, str] | None = None
) -> web.StreamResponse:
    """A refusal sent before (or instead of) reading the body: the connection is closed, after dropping what
    still arrives of a body within ``webhook_max_bytes`` (``refuse_and_close``)."""
    WEBHOOKS.labels(outcome).inc()
    return await refuse_and_close(request, status, message, headers, request.app[SETTINGS].webhook_max_bytes)


def _answer(request: web.Request, status: int, outcome: str, message: str | None = None) -> web.Response:
    WEBHOOKS.labels(outcome).inc()
    if message is not None and status >= 400:
        return error_response(request, status, message)
    return web.Response(status=status, body=orjson.dumps({"outcome": outcome}), content_type="application/json")
