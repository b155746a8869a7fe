"""Clients for the two projects of the session's Voucherify sandbox (``voucherify``, from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from gateway.sandbox.voucherify.seed import DEMO_APP_ID, DEMO_APP_TOKEN, OTHER_APP_ID, OTHER_APP_TOKEN
from tests.servers import SandboxProcess


def _client(server: SandboxProcess, app_id: str | None, token: str | None) -> httpx.Client:
    headers = {} if app_id is None or token is None else {"X-App-Id": app_id, "X-App-Token": token}
    return httpx.Client(base_url=server.url, headers=headers, timeout=10)


@pytest.fixture
def demo(voucherify: SandboxProcess) -> Iterator[httpx.Client]:
    with _client(voucherify, DEMO_APP_ID, DEMO_APP_TOKEN) as client:
        yield client


@pytest.fixture
def other(voucherify: SandboxProcess) -> Iterator[httpx.Client]:
    with _client(voucherify, OTHER_APP_ID, OTHER_APP_TOKEN) as client:
        yield client


@pytest.fixture
def wrong_secret(voucherify: SandboxProcess) -> Iterator[httpx.Client]:
    with _client(voucherify, DEMO_APP_ID, OTHER_APP_TOKEN) as client:
        yield client
