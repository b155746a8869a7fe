"""CORS for browsers calling from other origins: the exact origins of ``cors_origins`` only."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from .voucherify_keys import HEADERS as VOUCHERIFY_HEADERS

# Apollo-Require-Preflight: the non-simple header an upload (a multipart POST) must carry against CSRF.
# apollographql-client-name and -version: who the frontend is (Apollo Client's clientAwareness).
ALLOWED_HEADERS = (
    "Authorization", "Content-Type", "Accept", "Apollo-Require-Preflight", *VOUCHERIFY_HEADERS,
    "apollographql-client-name", "apollographql-client-version",
)  # fmt: skip


def cors(allowed: list[str]) -> Middleware:
    """Other origins get no CORS headers at all, so a browser keeps their pages from reading the answers."""
    origins = frozenset(allowed)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        permitted = origin is not None and origin in origins
        if request.method == "OPTIONS" and permitted and request.headers.get("Access-Control-Request-Method"):
            response: web.StreamResponse = web.Response(status=204, headers={
                "Access-Control-Allow-Methods": "GET, POST",
                "Access-Control-Allow-Headers": ", ".join(ALLOWED_HEADERS),
                "Access-Control-Max-Age": "600",
            })  # fmt: skip
        else:
            response = await handler(request)
        if permitted and origin is not None:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
        return response

    return middleware
