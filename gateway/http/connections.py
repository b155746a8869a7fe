"""Connections from the open internet, bounded: aiohttp's own server with three small additions.

aiohttp (3.14) already bounds the size of a request head (8190 bytes a line or header) and the idle time of a
connection (``keepalive_timeout``, set from ``keepalive_timeout_s``). It lacks three things, added here by
subclassing its ``Server`` and ``RequestHandler`` where it offers no option:

- a head timeout (``header_timeout_s``): a request line and headers that trickle in, a byte at a time, would
  otherwise hold the connection for the whole idle time. The timer starts when the connection opens, and on
  a kept-alive connection at the first byte of the next request; more bytes do not extend it;
- a cap on open connections (``max_connections``): one more is closed at once, and those open go on;
- a fixed answer to a malformed request head: aiohttp's echoes the offending line (a header: perhaps a
  token) and logs it with a traceback.

The subclasses read three of ``RequestHandler``'s private attributes (``_waiter``: it waits for a request
head; ``_messages``: heads parsed; ``_manager``) and two of ``Server``'s (``_loop``, ``_kwargs``, to build
the same server as aiohttp's). ``tests/test_edge.py`` holds them to what they mean.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web
from aiohttp.http_exceptions import LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_server import Server

from ..observability.metrics import EDGE_CLOSED
from ..settings import Settings

log = logging.getLogger("gateway.http")
REFUSAL_LOG_INTERVAL_S = 10.0


@dataclass(frozen=True)
class EdgeLimits:
    header_timeout_s: float
    max_connections: int


class EdgeServer(Server):
    """aiohttp's server for an application, whose connections are ``EdgeRequestHandler``s, counted."""

    def __init__(self, built: Server, limits: EdgeLimits) -> None:
        super().__init__(
            built.request_handler,
            request_factory=built.request_factory,
            handler_cancellation=built.handler_cancellation,
            loop=built._loop,
            **built._kwargs,
        )
        self.limits = limits
        self._refused = 0
        self._next_refusal_log = 0.0

    def __call__(self) -> RequestHandler:
        return EdgeRequestHandler(self, loop=self._loop, **self._kwargs)

    @property
    def open_connections(self) -> int:
        return len(self._connections)

    def refused(self) -> None:
        """Counts a connection closed over the cap; logs the count at most every ten seconds."""
        EDGE_CLOSED.labels("max_connections").inc()
        self._refused += 1
        now = self._loop.time()
        if now >= self._next_refusal_log:
            log.warning("closed %d connections at once: %d are open (setting max_connections)",
                        self._refused, self.limits.max_connections)  # fmt: skip
            self._refused = 0
            self._next_refusal_log = now + REFUSAL_LOG_INTERVAL_S


class EdgeRequestHandler(RequestHandler):
    __slots__ = ("_head_timer", "_limits")

    def __init__(self, manager: EdgeServer, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._limits = manager.limits
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        server = self._manager
        if isinstance(server, EdgeServer) and server.open_connections >= self._limits.max_connections:
            self._manager = None  # so that connection_lost has nothing to undo
            transport.close()
            server.refused()
            return
        super().connection_made(transport)
        self._arm_head_timer()

    def data_received(self, data: bytes) -> None:
        if data and self._head_timer is None and self._awaiting_request():
            self._arm_head_timer()  # the first byte of the next request on a kept-alive connection
        super().data_received(data)
        if self._head_timer is not None and self._messages:  # a whole head arrived (or a malformed one)
            self._head_timer.cancel()
            self._head_timer = None

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().connection_lost(exc)

    def _awaiting_request(self) -> bool:
        """Between requests: aiohttp's own test for an idle connection."""
        waiter = self._waiter
        return waiter is not None and not waiter.done()

    def _arm_head_timer(self) -> None:
        self._head_timer = self._loop.call_later(self._limits.header_timeout_s, self._head_timed_out)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport is not None and not self._messages:
            EDGE_CLOSED.labels("header_timeout").inc()
            self.force_close()

    def handle_error(
        self, request: web.BaseRequest, status: int = 500, exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:  # fmt: skip
        """A malformed request head (4xx) gets a fixed answer and a one-line log without what was sent.
        A failure of ours (5xx) keeps aiohttp's answer, which echoes nothing, and its traceback in the log."""
        if status >= 500:
            return super().handle_error(request, status, exc, message)
        log.info("refused a malformed request head: %d %s", status, type(exc).__name__)
        if request.writer.output_size > 0:
            raise ConnectionError("the response was sent already")
        if isinstance(exc, LineTooLong):
            text = f"A request line or header is over {self.max_field_size} bytes."
        else:
            text = "The request line or headers are malformed."
        response = web.Response(status=status, body=orjson.dumps({"errors": [{"message": text}]}),
                                content_type="application/json")  # fmt: skip
        response.force_close()
        return response


class EdgeAppRunner(web.AppRunner):
    """``web.AppRunner`` serving through ``EdgeServer``."""

    def __init__(self, app: web.Application, limits: EdgeLimits, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._limits = limits

    async def _make_server(self) -> Server:
        return EdgeServer(await super()._make_server(), self._limits)


def edge_runner(app: web.Application, settings: Settings) -> web.AppRunner:
    """A runner with every limit of the edge from ``settings``; its ``cleanup()`` is the graceful stop: it
    stops listening, then lets requests in flight finish for up to ``shutdown_grace_s``. With ``edge_guards``
    off, aiohttp's stock runner with its own options only."""
    # handler_cancellation: a request whose client has gone is cancelled, with the upstream calls it was
    # making (ten requests sent and closed at once had gone on to make 867 calls).
    options: dict[str, Any] = {
        "access_log": None, "keepalive_timeout": settings.keepalive_timeout_s,
        "shutdown_timeout": settings.shutdown_grace_s, "handler_cancellation": True,
    }  # fmt: skip
    if not settings.edge_guards:
        return web.AppRunner(app, **options)
    return EdgeAppRunner(app, EdgeLimits(settings.header_timeout_s, settings.max_connections), **options)
