"""The request budget (deadline and upstream calls) starts in a middleware, before any of the GraphQL
view's work, and ends with the response. A real aiohttp server on 127.0.0.1 runs the middleware in front of
handlers that report the budget they see."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web

from gateway.http.deadline import request_budget
from gateway.upstream import budget

DEADLINE_S = 3.0
MAX_CALLS = 7


async def _report(request: web.Request) -> web.Response:
    """What the handler sees of its budget; an optional wait first, as a request waits for a slot."""
    await asyncio.sleep(float(request.query.get("wait", "0")))
    current = budget.current()
    if current is None:
        return web.json_response({"budget": None})
    current.calls_left = (current.calls_left or 0) - 1  # spent here: another request must not see it
    return web.json_response({"remaining": budget.remaining(), "calls_left": current.calls_left})


async def _leave_work_behind(request: web.Request) -> web.Response:
    """Starts a task that outlives the response, as a dataloader's batch does."""
    release = request.app[RELEASE]
    left_behind: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
    request.app[LEFT_BEHIND].append(left_behind)

    async def later() -> None:
        await release.wait()
        current = budget.current()
        left_behind.set_result(current is not None and current.ended)

    request.app[TASKS].append(asyncio.ensure_future(later()))
    return web.json_response({})


RELEASE = web.AppKey("release", asyncio.Event)
LEFT_BEHIND: web.AppKey[list[asyncio.Future[bool]]] = web.AppKey("left_behind")
TASKS: web.AppKey[list[asyncio.Future[None]]] = web.AppKey("tasks")


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, web.Application]]:
    middleware = request_budget(DEADLINE_S, MAX_CALLS, frozenset({"/graphql", "/work"}))
    app = web.Application(middlewares=[middleware])
    app[RELEASE] = asyncio.Event()
    app[LEFT_BEHIND] = []
    app[TASKS] = []
    app.router.add_get("/graphql", _report)
    app.router.add_get("/export/customers.csv", _report)
    app.router.add_get("/work", _leave_work_behind)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        await runner.cleanup()


async def test_the_graphql_route_has_the_configured_budget(server: tuple[str, web.Application]) -> None:
    url, _app = server
    async with httpx.AsyncClient(base_url=url) as client:
        seen = (await client.get("/graphql")).json()
    assert 0 < seen["remaining"] <= DEADLINE_S
    assert seen["calls_left"] == MAX_CALLS - 1


async def test_the_deadline_counts_from_the_middleware(server: tuple[str, web.Application]) -> None:
    """Time the request spends before its handler reads the deadline is already spent."""
    url, _app = server
    async with httpx.AsyncClient(base_url=url) as client:
        seen = (await client.get("/graphql", params={"wait": "0.5"})).json()
    assert seen["remaining"] <= DEADLINE_S - 0.5


async def test_each_request_has_a_budget_of_its_own(server: tuple[str, web.Application]) -> None:
    url, _app = server
    async with httpx.AsyncClient(base_url=url) as client:
        answers = await asyncio.gather(*(client.get("/graphql", params={"wait": "0.2"}) for _ in range(5)))
    assert [answer.json()["calls_left"] for answer in answers] == [MAX_CALLS - 1] * 5


async def test_other_routes_have_no_budget(server: tuple[str, web.Application]) -> None:
    """The export is bounded by its own settings; a GraphQL deadline of seconds would cut it short."""
    url, _app = server
    async with httpx.AsyncClient(base_url=url) as client:
        assert (await client.get("/export/customers.csv")).json() == {"budget": None}


async def test_the_budget_ends_with_the_response(server: tuple[str, web.Application]) -> None:
    """Work the request left running sees its budget ended, so it makes no more upstream calls."""
    url, app = server
    async with httpx.AsyncClient(base_url=url) as client:
        assert (await client.get("/work")).status_code == 200
    app[RELEASE].set()
    assert await asyncio.wait_for(app[LEFT_BEHIND][0], timeout=5) is True
