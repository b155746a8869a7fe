"""A webhook receiver for the sandbox's deliveries: a small aiohttp server on 127.0.0.1 that records every
request and answers from a script, and the checks a real receiver makes (Standard Webhooks signatures)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from functools import cache
from typing import Any

import httpx
from aiohttp import web
from openapi_schema_validator import OAS31Validator
from standardwebhooks import Webhook

from tests.sandbox.openapi import VENDORED

HOOK = "/hook"
BACKOFF_SCALE = 0.001  # Polar's 4 s, 8 s ... 1024 s between attempts become 4 ms, 8 ms ... 1 s


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # lowercased names
    body: str
    at: float  # monotonic seconds

    @property
    def payload(self) -> Any:
        return json.loads(self.body)

    @property
    def type(self) -> str:
        event_type: str = self.payload["type"]
        return event_type

    def verified(self, secret: str) -> Any:
        """The payload, once ``standardwebhooks`` has checked its signature against the endpoint's secret as
        Polar documents it (a ``whsec_`` secret is the base64 of the key)."""
        return Webhook(secret).verify(self.body, self.headers)


class Receiver:
    """Answers 202 unless told otherwise: ``script(key, 500, 500)`` makes the next two requests to the path
    ``key``, or carrying an event of the type ``key``, answer 500; ``hold(path, seconds)`` makes the next one
    to ``path`` wait that long before answering."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._statuses: dict[str, deque[int]] = defaultdict(deque)
        self._holds: dict[str, deque[float]] = defaultdict(deque)
        self._arrived = asyncio.Event()
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.base = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, path: str = HOOK) -> str:
        return self.base + path

    def script(self, key: str, *statuses: int) -> None:
        self._statuses[key].extend(statuses)

    def hold(self, path: str, seconds: float) -> None:
        self._holds[path].append(seconds)

    async def _handle(self, request: web.Request) -> web.Response:
        received = Received(
            request.path, {k.lower(): v for k, v in request.headers.items()}, await request.text(), time.monotonic()
        )
        self.requests.append(received)
        self._arrived.set()
        if self._holds[request.path]:
            with contextlib.suppress(TimeoutError):  # stop() lets every held answer go
                await asyncio.wait_for(self._stopping.wait(), self._holds[request.path].popleft())
        script = self._statuses[received.type] or self._statuses[request.path]
        status = script.popleft() if script else 202
        return web.Response(status=status, text="" if status < 300 else f"refused with {status}")

    def at(self, path: str = HOOK) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    async def wait_for(self, count: int, path: str = HOOK, within: float = 5.0) -> list[Received]:
        """The first ``count`` requests to ``path``, once they have come; fails after ``within`` seconds."""
        deadline = time.monotonic() + within
        while len(self.at(path)) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{len(self.at(path))} of {count} requests to {path} came in {within} s")
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)
        return self.at(path)[:count]


async def settled(control: httpx.AsyncClient, within: float = 5.0) -> dict[str, Any]:
    """The delivery log once no event is pending any more."""
    deadline = time.monotonic() + within
    while True:
        log: dict[str, Any] = (await control.get("/__sandbox/deliveries")).json()
        if log["pending"] == 0:
            return log
        if time.monotonic() > deadline:
            raise AssertionError(f"{log['pending']} deliveries still pending after {within} s")
        await asyncio.sleep(0.02)


async def endpoint(client: httpx.AsyncClient, url: str, events: list[str], **fields: Any) -> dict[str, Any]:
    response = await client.post(
        "/v1/webhooks/endpoints", json={"url": url, "format": "raw", "events": events, **fields}
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


@cache
def _contract() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(VENDORED.read_text())
    return loaded


def conforms(instance: Any, schema: str) -> None:
    """Raises unless ``instance`` is valid against a schema of Polar's vendored OpenAPI document."""
    OAS31Validator({"$ref": f"#/components/schemas/{schema}", "components": _contract()["components"]}).validate(
        instance
    )
