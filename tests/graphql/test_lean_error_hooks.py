"""The error hooks integrations use (Strawberry's ``Schema.process_errors`` and the view's
``_handle_errors``, which Sentry's integration overrides) run once per failed operation on every path:
the lean POST path, Strawberry's general ``run`` (GET, batches), and with the lean engine off."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from graphql import GraphQLError
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionContext

from gateway.app import create_app
from gateway.graphql.schema import GatewaySchema
from gateway.graphql.view import GatewayView
from gateway.sandbox.seed import DEMO_TOKEN
from gateway.settings import Settings
from tests.servers import SandboxProcess

pytestmark = pytest.mark.filterwarnings("ignore::aiohttp.web_exceptions.NotAppKeyWarning")

HEADERS = {"Authorization": f"Bearer {DEMO_TOKEN}", "Accept": "application/graphql-response+json"}
INVALID = "{ noSuchField }"  # refused by validation
FAILING = '{ customer(id: "a", externalId: "b") { id } }'  # refused by its resolver: exactly one of the two


class RecordingSchema(GatewaySchema):
    processed: list[list[str]]

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        self.processed.append([error.message for error in errors])


class RecordingView(GatewayView):
    handled: list[list[str]]
    plain_posts: int  # requests answered by the lean POST path

    def _handle_errors(self, errors: list[GraphQLError], response_data: GraphQLHTTPResponse) -> None:
        self.handled.append([error.message for error in errors])

    async def _run_plain_post(self, request: web.Request) -> web.Response | None:
        answer = await super()._run_plain_post(request)
        self.plain_posts += answer is not None
        return answer


@asynccontextmanager
async def _gateway(sandbox: SandboxProcess, lean: bool) -> AsyncIterator[tuple[str, RecordingView]]:
    """The gateway's app on 127.0.0.1, its view and schema recording what their error hooks receive."""
    app = create_app(Settings(upstream_url=sandbox.url, lean_execution=lean))
    [view] = {route.handler for route in app.router.routes() if isinstance(route.handler, GatewayView)}
    view.__class__ = RecordingView
    view.schema.__class__ = RecordingSchema
    assert isinstance(view, RecordingView)
    assert isinstance(view.schema, RecordingSchema)
    view.handled, view.schema.processed, view.plain_posts = [], [], 0
    async with TestServer(app, host="127.0.0.1") as server:
        yield str(server.make_url("/graphql")), view


async def _send(client: httpx.AsyncClient, url: str, how: str, query: str) -> list[Any]:
    """The errors of the answer to ``query``, sent as a plain POST, a GET or a batch of one."""
    if how == "post":
        response = await client.post(url, json={"query": query}, headers=HEADERS)
    elif how == "get":
        response = await client.get(url, params={"query": query}, headers=HEADERS)
    else:
        response = await client.post(url, json=[{"query": query}], headers=HEADERS)
    assert response.status_code in {200, 400}, response.text
    body: Any = response.json()
    errors: list[Any] = (body[0] if how == "batch" else body).get("errors", [])
    return errors


@pytest.mark.parametrize("lean", [True, False])
@pytest.mark.parametrize("how", ["post", "get", "batch"])
async def test_each_failed_operation_reaches_both_hooks_once(sandbox: SandboxProcess, lean: bool, how: str) -> None:
    async with _gateway(sandbox, lean) as (url, view), httpx.AsyncClient(timeout=30) as client:
        assert len(await _send(client, url, how, INVALID)) == 1
        assert len(await _send(client, url, how, FAILING)) == 1
        assert await _send(client, url, how, "{ __typename }") == []  # no error: no hook
    schema = view.schema
    assert isinstance(schema, RecordingSchema)
    assert len(view.handled) == len(schema.processed) == 2
    assert "noSuchField" in view.handled[0][0]
    assert "noSuchField" in schema.processed[0][0]
    assert len(view.handled[1]) == len(schema.processed[1]) == 1
    assert view.plain_posts == (3 if lean and how == "post" else 0)  # the lean POST path only when lean
