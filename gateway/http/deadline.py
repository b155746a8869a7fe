"""Each GraphQL request's upstream budget (``gateway.upstream.budget``: a deadline and a number of calls),
started by a middleware as the request reaches the gateway's code, and ended when it is answered.

Started here rather than where the GraphQL context is built, so that the deadline runs while the request
waits for anything: parsing and validating its document, then every upstream slot and call of every
operation (a batch shares one budget). The body's own arrival is bounded by ``body_timeout_s`` (the
middleware before this one). Other routes (the CSV export, probes) have no such budget: an export is bounded
by its own settings."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from ..upstream import budget
from .access import route_of


def request_budget(deadline_s: float, max_calls: int, routes: frozenset[str]) -> Middleware:
    """A middleware giving each request to one of ``routes`` (templates, such as ``/graphql``) its budget.

    aiohttp runs each request in a task of its own, so the budget, a context variable, is this request's
    alone, and the tasks its dataloaders create inherit it. Ending it stops the work the request leaves
    behind (a dataloader's batch runs in a task that cancelling the request does not reach) from making
    any more upstream calls."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if route_of(request) not in routes:
            return await handler(request)
        budget.start(deadline_s, max_calls)
        try:
            return await handler(request)
        finally:
            budget.end()

    return middleware
