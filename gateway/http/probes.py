"""What operators and orchestrators ask the process: ``/healthz`` (it lives), ``/readyz`` (it can serve:
the upstream answers and its breaker is closed) and ``/metrics`` (Prometheus's text format)."""

from __future__ import annotations

import asyncio
import os

import httpx
from aiohttp import web

from ..observability import metrics
from .keys import TRANSPORT, VOUCHERIFY_CLIENT

PROBE_TIMEOUT_S = 2.0


async def healthz(request: web.Request) -> web.Response:
    """The process lives; its pid tells the workers of ``serve --workers N`` apart."""
    return web.json_response({"status": "ok", "pid": os.getpid()})


async def readyz(request: web.Request) -> web.Response:
    """Ready when Polar's breaker is closed and Polar answers at all (any HTTP status: a 401 to a request
    without a token still proves Polar is there). Voucherify's breaker is reported, not required: with
    Voucherify down, its fields fail and every Polar field is still served."""
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
    if (voucherify := request.app.get(VOUCHERIFY_CLIENT)) is not None:
        body["voucherify_breaker"] = voucherify.transport.breaker.state.value
    return web.json_response(body, status=200 if ready else 503)


async def metrics_endpoint(request: web.Request) -> web.Response:
    return web.Response(body=metrics.exposition(), headers={"Content-Type": metrics.CONTENT_TYPE})
