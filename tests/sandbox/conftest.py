"""Fixtures of the webhook tests: a receiver on 127.0.0.1 and asynchronous clients of the session's sandbox
(the receiver answers on the test's own event loop, so the test must never block it)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.sandbox.seed import DEMO_TOKEN, OTHER_TOKEN
from tests.sandbox.webhooks import BACKOFF_SCALE, Receiver
from tests.servers import SandboxProcess


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    started = Receiver()
    await started.start()
    yield started
    await started.stop()


@pytest.fixture
async def control_api(sandbox: SandboxProcess) -> AsyncIterator[httpx.AsyncClient]:
    """The sandbox's controls, with Polar's retry delays scaled down to milliseconds."""
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=10) as client:
        (await client.post("/__sandbox/webhooks", json={"backoff_scale": BACKOFF_SCALE})).raise_for_status()
        yield client
        (await client.post("/__sandbox/reset")).raise_for_status()  # no delivery outlives its test


@pytest.fixture
async def demo_api(control_api: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {DEMO_TOKEN}"}
    async with httpx.AsyncClient(base_url=control_api.base_url, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture
async def other_api(control_api: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {OTHER_TOKEN}"}
    async with httpx.AsyncClient(base_url=control_api.base_url, headers=headers, timeout=10) as client:
        yield client
