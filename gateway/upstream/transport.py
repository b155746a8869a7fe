"""One shared httpx client per upstream, on aiohttp's transport, and the mapping of every HTTP
outcome to ``errors``.

httpx's own connection pool is slow under fan-out (many concurrent requests through few
connections); ``httpx-aiohttp`` keeps the httpx API on aiohttp's client, which is not.
"""

from __future__ import annotations

from typing import Any

import httpx
from httpx_aiohttp import AiohttpTransport

from ..settings import Settings
from .errors import (
    UpstreamError,
    UpstreamForbidden,
    UpstreamNotFound,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnauthorized,
    UpstreamUnavailable,
    UpstreamValidation,
)

QueryParams = list[tuple[str, str | int | float | bool | None]]


def create_client(base_url: str, settings: Settings) -> httpx.AsyncClient:
    limits = httpx.Limits(
        max_connections=settings.upstream_max_connections, max_keepalive_connections=settings.upstream_max_connections
    )
    timeout = httpx.Timeout(settings.upstream_read_timeout_s, connect=settings.upstream_connect_timeout_s)
    return httpx.AsyncClient(
        base_url=base_url,
        transport=AiohttpTransport(limits=limits),
        timeout=timeout,
        headers={"Polar-Version": "2026-10", "Accept": "application/json"},
    )


class Transport:
    """Sends one request with the caller's token and returns its JSON, or raises an UpstreamError."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def request(
        self,
        method: str,
        path: str,
        token: str,
        *,
        params: QueryParams | None = None,
        json: Any = None,
    ) -> Any:
        try:
            response = await self.client.request(
                method, path, params=params, json=json, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.TimeoutException as error:
            raise UpstreamTimeout(f"upstream {method} {path} timed out") from error
        except httpx.TransportError as error:
            raise UpstreamUnavailable(f"upstream {method} {path} failed: {type(error).__name__}") from error
        return _answer(response, method, path)


def _answer(response: httpx.Response, method: str, path: str) -> Any:
    status = response.status_code
    if status == 204:
        return None
    if 200 <= status < 300:
        try:
            return response.json()
        except ValueError as error:
            raise UpstreamUnavailable(f"upstream {method} {path} answered {status} without JSON") from error
    if status == 401:
        raise UpstreamUnauthorized("the upstream refused the credentials")
    if status == 403:
        raise UpstreamForbidden("the credentials lack the scope this needs")
    if status == 404:
        raise UpstreamNotFound("not found")
    if status == 422:
        details = _details(response)
        raise UpstreamValidation(details)
    if status == 429:
        raise UpstreamRateLimited(_retry_after(response))
    if status >= 500:
        raise UpstreamUnavailable(f"upstream {method} {path} answered {status}")
    raise UpstreamError(f"upstream {method} {path} answered {status}")


def _details(response: httpx.Response) -> list[dict[str, Any]]:
    try:
        body = response.json()
    except ValueError:
        return []
    details = body.get("detail") if isinstance(body, dict) else None
    return [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers["retry-after"])
    except (KeyError, ValueError):
        return None
