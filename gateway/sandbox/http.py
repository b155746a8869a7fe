"""JSON in and out, the way FastAPI reads request bodies and writes answers."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .errors import detail, request_validation


def json_response(body: Any, status: int = 200, *, spaced: bool = False) -> web.Response:
    """Compact, as Starlette's ``JSONResponse`` writes; ``spaced`` as ``json.dumps`` writes by default (authlib's
    OAuth 2 errors, which Polar's 401 ``invalid_token`` and 403 ``insufficient_scope`` are)."""
    return web.Response(
        body=json.dumps(body, separators=(", ", ": ") if spaced else (",", ":"), ensure_ascii=False).encode(),
        status=status,
        content_type="application/json",
    )


async def read_json_body(request: web.Request) -> Any:
    """The parsed body; 422 ``missing`` when empty and ``json_invalid`` when not JSON."""
    raw = await request.read()
    if not raw.strip():
        raise request_validation([detail("missing", ["body"], "Field required", None)])
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        position = error.pos if isinstance(error, json.JSONDecodeError) else 0
        reason = error.msg if isinstance(error, json.JSONDecodeError) else "invalid utf-8"
        raise request_validation(
            [detail("json_invalid", ["body", position], "JSON decode error", {}, {"error": reason})]
        ) from error


def require_object(body: Any, loc: list[Any] | None = None) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise request_validation(
            [
                detail(
                    "model_attributes_type",
                    loc or ["body"],
                    "Input should be a valid dictionary or object to extract fields from",
                    body,
                )
            ]
        )
    return body
