"""Fixtures of the shared-live tests: the session's sandbox, reset after each test as well as before, and the
sandbox's webhook endpoint for the gateway."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.live_shared.harness import Endpoint
from tests.servers import SandboxProcess


@pytest.fixture
def sandbox(sandbox: SandboxProcess) -> Iterator[SandboxProcess]:
    """The session's sandbox, reset before the test and after it: these tests slow Polar down, speed its retries
    up and leave deliveries pending for gateways that are gone, none of which the next test may inherit."""
    yield sandbox
    sandbox.reset()


@pytest.fixture
def endpoint(sandbox: SandboxProcess) -> Endpoint:
    """An endpoint of the Demo organization for every event the gateway handles, not yet pointed anywhere (a
    reset removes every endpoint: each test registers its own)."""
    return Endpoint.register(sandbox)
