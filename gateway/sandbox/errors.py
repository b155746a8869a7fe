"""Polar's error answers, raised as exceptions from handlers and rendered by one middleware.

The bodies and headers are the ones of the contract document, section 6.
"""

from __future__ import annotations

from typing import Any

from .model import Json

_INVALID_TOKEN_DESCRIPTION = "The access token provided is expired, revoked, malformed, or invalid for other reasons."
_INSUFFICIENT_SCOPE_DESCRIPTION = "The request requires higher privileges than provided by the access token."


class ApiError(Exception):
    """An answer other than success; ``body`` None means an empty body, ``spaced`` a body written with a
    space after ``:`` and ``,`` (authlib's ``json.dumps``) instead of compact (Starlette's)."""

    def __init__(
        self, status: int, body: Json | None, headers: dict[str, str] | None = None, *, spaced: bool = False
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.spaced = spaced


def detail(kind: str, loc: list[Any], msg: str, value: Any, ctx: Json | None = None) -> Json:
    """One entry of a 422 ``detail`` list, shaped like pydantic's."""
    entry: Json = {"type": kind, "loc": loc, "msg": msg, "input": value}
    if ctx is not None:
        entry["ctx"] = ctx
    return entry


def request_validation(details: list[Json]) -> ApiError:
    """422 for the request's shape (FastAPI/pydantic validation)."""
    return ApiError(422, {"error": "RequestValidationError", "detail": details})


def business_validation(details: list[Json]) -> ApiError:
    """422 for the service's rules, uniqueness conflicts included (never 409)."""
    return ApiError(422, {"error": "PolarRequestValidationError", "detail": details})


def not_found() -> ApiError:
    return ApiError(404, {"error": "ResourceNotFound", "detail": "Not found"})


def route_not_found() -> ApiError:
    return ApiError(404, {"detail": "Not Found"})


def method_not_allowed() -> ApiError:
    return ApiError(405, {"detail": "Method Not Allowed"})


def unauthorized() -> ApiError:
    """No token, or a token whose subject the endpoint does not accept."""
    return ApiError(
        401,
        {"error": "Unauthorized", "detail": "Unauthorized"},
        {"WWW-Authenticate": 'Bearer realm="polar"'},
    )


def invalid_token() -> ApiError:
    """A bearer token that is unknown, expired or of an unknown kind."""
    return ApiError(
        401,
        {"error": "invalid_token", "error_description": _INVALID_TOKEN_DESCRIPTION},
        {
            "WWW-Authenticate": (
                f'Bearer realm="polar", error="invalid_token", error_description="{_INVALID_TOKEN_DESCRIPTION}"'
            ),
            "Cache-Control": "no-store",
            "Pragma": "no-cache",
        },
        spaced=True,
    )


def insufficient_scope(required: tuple[str, ...]) -> ApiError:
    """authlib's OAuth 2 error, as ``invalid_token``: spaced JSON, ``no-store`` and ``no-cache``."""
    scope = " ".join(required)
    return ApiError(
        403,
        {"error": "insufficient_scope", "error_description": _INSUFFICIENT_SCOPE_DESCRIPTION},
        {
            "WWW-Authenticate": (
                f'Bearer realm="polar", scope="{scope}", error="insufficient_scope", '
                f'error_description="{_INSUFFICIENT_SCOPE_DESCRIPTION}"'
            ),
            "Cache-Control": "no-store",
            "Pragma": "no-cache",
        },
        spaced=True,
    )


def rate_limited(retry_after: int) -> ApiError:
    return ApiError(429, None, {"retry-after": str(retry_after)})
