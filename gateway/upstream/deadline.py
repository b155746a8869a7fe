"""The deadline of the current GraphQL request, which every upstream call respects.

A context variable: set once when a request starts, inherited by the tasks its resolvers and
dataloaders create, so no layer has to pass it along.
"""

from __future__ import annotations

import time
from contextvars import ContextVar

_deadline: ContextVar[float | None] = ContextVar("upstream_deadline", default=None)


def start(seconds: float) -> None:
    _deadline.set(time.monotonic() + seconds)


def remaining() -> float | None:
    """Seconds left before the deadline (may be negative), or None when no deadline is set."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()
