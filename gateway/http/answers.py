"""Request-level failures as a GraphQL-shaped JSON body, ``{"errors": [{"message": ...}]}``, in the media
type the client accepts. Messages are fixed texts: they name a limit or a setting, never what was sent."""

from __future__ import annotations

import orjson
from aiohttp import web

GRAPHQL_RESPONSE = "application/graphql-response+json"


def wants_graphql_response(request: web.BaseRequest) -> bool:
    return GRAPHQL_RESPONSE in request.headers.get("Accept", "")


def error_response(
    request: web.BaseRequest, status: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    content_type = GRAPHQL_RESPONSE if wants_graphql_response(request) else "application/json"
    body = orjson.dumps({"errors": [{"message": message}]})
    return web.Response(body=body, status=status, content_type=content_type, headers=headers)
