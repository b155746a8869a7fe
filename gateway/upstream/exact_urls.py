"""httpx on aiohttp's connection pool, with the URL sent exactly as httpx built it.

``httpx-aiohttp`` hands aiohttp the URL as a string, which yarl parses again and re-quotes: ``%2E`` turns
back into ``.`` and dot segments are then removed, so ``/v1/customers/external/%2E%2E`` went out as
``/v1/customers/``. httpx has already encoded the URL; here it goes to aiohttp as an encoded ``yarl.URL``,
byte for byte, as httpx's own transport sends it. Nor does aiohttp repeat a request on its own.
"""

from __future__ import annotations

import httpx
from aiohttp import BasicAuth, ClientSession, ClientTimeout
from httpx_aiohttp import AiohttpTransport
from httpx_aiohttp.transport import AiohttpResponseStream, map_aiohttp_exceptions
from yarl import URL


class ExactUrlTransport(AiohttpTransport):
    """``AiohttpTransport.handle_async_request`` with one change: the URL is not parsed again."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(self.client, ClientSession):
            self.client = self.get_client()
            # aiohttp sends an idempotent method (GET, PUT, DELETE) once more by itself when the connection drops:
            # the Transport alone decides what is retried (a DELETE whose outcome is unknown never is), and counts
            # attempts against the retry and call budgets. aiohttp's test client turns it off the same way.
            self.client._retry_connection = False
        timeout = request.extensions.get("timeout", {})
        with map_aiohttp_exceptions():
            data: bytes | httpx.AsyncByteStream | None
            try:
                data = request.content or None
            except httpx.RequestNotRead:
                data = request.stream  # type: ignore[assignment]
                request.headers.pop("transfer-encoding", None)  # aiohttp frames the body itself
            proxy = self.proxy
            response = await self.client.request(
                method=request.method,
                url=URL(str(request.url), encoded=True),
                headers=request.headers,
                data=data,
                allow_redirects=False,
                auto_decompress=False,
                compress=False,
                timeout=ClientTimeout(
                    sock_connect=timeout.get("connect"), sock_read=timeout.get("read"), connect=timeout.get("pool")
                ),
                server_hostname=request.extensions.get("sni_hostname"),
                proxy=str(proxy.url) if proxy else None,
                proxy_auth=BasicAuth(proxy.auth[0], proxy.auth[1]) if proxy and proxy.auth else None,
                proxy_headers=proxy.headers if proxy else None,
            ).__aenter__()
        extensions = {"http_version": b"HTTP/1.1"}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode()
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=AiohttpResponseStream(response),
            request=request,
            extensions=extensions,
        )
