"""Fixtures of the live attack tests: the session's sandbox (``tests/conftest.py``), reset after each test as
well as before, so that a test's refused tokens and half-read deliveries are not the next one's stats."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.live_attacks.attack import mark_logs
from tests.servers import SandboxProcess


@pytest.fixture
def sandbox(sandbox: SandboxProcess) -> Iterator[SandboxProcess]:
    yield sandbox
    sandbox.reset()


@pytest.fixture(autouse=True)
def own_log_lines() -> None:
    """Marks where each running gateway's log stands: ``assert_unharmed`` reads the test's lines only."""
    mark_logs()
