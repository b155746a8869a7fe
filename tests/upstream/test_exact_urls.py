"""The aiohttp-backed transport sends each attempt once: aiohttp's own hidden resend of a PUT or DELETE whose
connection dropped is off, so the transport's ``repeatable`` and its outcome tracking are the only retry
policy. Against a real local server that applies a DELETE and then drops the connection."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from gateway.settings import Settings
from gateway.upstream.errors import UpstreamUnavailable
from gateway.upstream.transport import Transport, create_client


@pytest.fixture
async def applies_then_drops() -> AsyncIterator[tuple[str, list[str]]]:
    """A server whose first DELETE or PUT is applied and then its connection dropped; later ones find
    nothing (404), as a real upstream would after the first one took effect."""
    seen: list[str] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        seen.append(request.method)
        if len(seen) == 1:
            assert request.transport is not None
            request.transport.abort()
            raise ConnectionResetError
        return web.json_response({"detail": "Not found"}, status=404)

    app = web.Application()
    app.router.add_route("*", "/v1/customers/{id}", handler)
    server = TestServer(app)
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/"), seen
    finally:
        await server.close()


@pytest.mark.parametrize("method", ["DELETE", "PUT"])
async def test_a_dropped_idempotent_request_is_not_resent_behind_the_transport(
    applies_then_drops: tuple[str, list[str]], method: str
) -> None:
    url, seen = applies_then_drops
    settings = Settings(retry_attempts=1, upstream_transport="aiohttp")
    client = create_client(url, settings)
    try:
        with pytest.raises(UpstreamUnavailable) as raised:
            await Transport(client, settings).request(method, "/v1/customers/cust_1", "t", json={}, repeatable=False)
    finally:
        await client.aclose()
    assert seen == [method]  # not a second time, which would have answered 404 for what the first did
    assert raised.value.outcome_unknown
