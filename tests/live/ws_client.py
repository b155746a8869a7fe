"""A small GraphQL-over-WebSocket client for the live tests, on aiohttp's WebSocket client: the
``graphql-transport-ws`` protocol (and the legacy ``graphql-ws``), every wait bounded, every frame's kind kept
so that a test can say the server sent text only."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp import WSMsgType

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
WAIT_S = 5.0  # the longest any single wait for a frame takes before the test fails
_KEEP_ALIVES = {"ka", "pong"}  # graphql-ws' keep-alive; the answer to a ping we never send


class NoMessage(AssertionError):
    """Nothing came within the wait."""


class Closed(Exception):
    """The server closed the connection (the code and reason of its close frame)."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed {code}: {reason}")
        self.code = code
        self.reason = reason


class GraphQLSocket:
    """One connection to the gateway's ``/graphql``. ``frames`` lists the kind of every frame received."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, protocol: str) -> None:
        self.ws = ws
        self.protocol = protocol
        self.frames: list[WSMsgType] = []
        self.received: list[dict[str, Any]] = []  # every JSON message but keep-alives, in order
        self._ids = itertools.count(1)
        self._closed: Closed | None = None

    @property
    def legacy(self) -> bool:
        return self.protocol == LEGACY_WS

    async def send(self, message: Mapping[str, Any]) -> None:
        await self.ws.send_str(json.dumps(message))

    async def init(self, token: str | None, payload: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``connection_init`` with ``{"Authorization": "Bearer <token>"}`` (or ``payload``); the ack."""
        if payload is None:
            payload = {} if token is None else {"Authorization": f"Bearer {token}"}
        await self.send({"type": "connection_init", "payload": dict(payload)})
        ack = await self.message()
        assert ack["type"] == "connection_ack", ack
        return ack

    async def subscribe(self, query: str, variables: Mapping[str, Any] | None = None, id_: str | None = None) -> str:
        """Starts an operation; its id."""
        operation = id_ or str(next(self._ids))
        payload: dict[str, Any] = {"query": query, "variables": dict(variables or {})}
        await self.send({"id": operation, "type": "start" if self.legacy else "subscribe", "payload": payload})
        return operation

    async def complete(self, operation: str) -> None:
        await self.send({"id": operation, "type": "stop" if self.legacy else "complete"})

    async def message(self, within: float = WAIT_S) -> dict[str, Any]:
        """The next JSON message (keep-alives skipped); ``Closed`` when the server closes instead; a test failure
        when nothing comes within ``within`` seconds, or when a frame is not text."""
        if self._closed is not None:
            raise self._closed
        deadline = asyncio.get_running_loop().time() + within
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise NoMessage(f"no message within {within} s")
            try:
                frame = await self.ws.receive(timeout=left)
            except TimeoutError:
                raise NoMessage(f"no message within {within} s") from None
            self.frames.append(frame.type)
            if frame.type is WSMsgType.TEXT:
                message: dict[str, Any] = json.loads(frame.data)
                if message.get("type") == "ping":
                    await self.send({"type": "pong"})
                    continue
                if message.get("type") in _KEEP_ALIVES:
                    continue
                self.received.append(message)
                return message
            if frame.type is WSMsgType.BINARY:
                raise AssertionError(f"the server sent a binary frame: {frame.data!r}")
            if frame.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                code = self.ws.close_code if frame.type is not WSMsgType.CLOSE else frame.data
                reason = frame.extra if frame.type is WSMsgType.CLOSE and isinstance(frame.extra, str) else ""
                self._closed = Closed(code, reason)
                raise self._closed

    async def event(self, operation: str, within: float = WAIT_S) -> dict[str, Any]:
        """The ``data`` of the next result of ``operation``, which must come without errors."""
        message = await self.message(within)
        assert message.get("id") == operation, message
        assert message["type"] == ("data" if self.legacy else "next"), message
        assert "errors" not in message["payload"], message
        data: dict[str, Any] = message["payload"]["data"]
        return data

    async def errors(self, operation: str, within: float = WAIT_S) -> list[dict[str, Any]]:
        """The GraphQL errors ``operation`` ends with: an ``error`` message, or a result carrying errors."""
        message = await self.message(within)
        assert message.get("id") == operation, message
        payload = message["payload"]
        if message["type"] == "error":
            return payload if isinstance(payload, list) else [payload]
        assert message["type"] in ("next", "data"), message
        assert payload.get("errors"), message
        errors: list[dict[str, Any]] = payload["errors"]
        return errors

    async def ended(self, operation: str, within: float = WAIT_S) -> None:
        """``operation`` is reported complete (after an error result, graphql-transport-ws completes it)."""
        message = await self.message(within)
        assert message == {"id": operation, "type": "complete"}, message

    async def silent(self, within: float) -> None:
        """Nothing but keep-alives comes for ``within`` seconds (a close counts as something)."""
        try:
            message = await self.message(within)
        except NoMessage:
            return
        raise AssertionError(f"expected silence, got {message}")

    async def closed(self, within: float = WAIT_S) -> Closed:
        """The close the server sends next (messages before it are skipped); a test failure if none comes."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            left = deadline - asyncio.get_running_loop().time()
            try:
                await self.message(max(left, 0.001))
            except Closed as closed:
                return closed


@asynccontextmanager
async def connect(
    url: str, protocol: str = TRANSPORT_WS, headers: Mapping[str, str] | None = None
) -> AsyncIterator[GraphQLSocket]:
    """A WebSocket to ``url`` (``http://...`` works: aiohttp upgrades it) speaking ``protocol``."""
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, connect=WAIT_S)) as session,
        session.ws_connect(
            url, protocols=(protocol,), headers=dict(headers or {}), timeout=aiohttp.ClientWSTimeout(ws_close=2.0)
        ) as ws,
    ):
        assert ws.protocol == protocol, f"the server chose {ws.protocol!r}"
        yield GraphQLSocket(ws, protocol)
