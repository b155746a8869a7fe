"""httpx on aiohttp's connection pool, with the URL sent exactly as httpx built it, and each request sent once.

``httpx-aiohttp`` hands aiohttp the URL as a string, which yarl parses again and re-quotes: ``%2E`` turns
back into ``.`` and dot segments are then removed, so ``/v1/customers/external/%2E%2E`` went out as
``/v1/customers/``. httpx has already encoded the URL; here it goes to aiohttp as an encoded ``yarl.URL``,
byte for byte, as httpx's own transport sends it.

aiohttp also resends a PUT or DELETE once, unseen, when its connection drops (RFC 9112 allows it for
idempotent methods). The gateway's transport decides what is repeated (``repeatable``) and counts every
attempt; a DELETE applied just before the drop would come back 404 from the hidden resend and be told as
NOT_FOUND. So that resend is off here, as aiohttp's own test client turns it off.
"""

from __future__ import annotations

import httpx
from aiohttp import BasicAuth, ClientSession, ClientTimeout
from httpx_aiohttp import AiohttpTransport
from httpx_aiohttp.transport import AiohttpResponseStream, map_aiohttp_exceptions
from yarl import URL


class ExactUrlTransport(AiohttpTransport):
    """``AiohttpTransport.handle_async_request`` with one change: the URL is not parsed again."""

    def get_client(self) -> ClientSession:
        session = super().get_client()
        session._retry_connection = False  # no public switch; aiohttp.test_utils sets the same attribute
        return session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(self.client, ClientSession):
            self.client = self.get_client()
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
