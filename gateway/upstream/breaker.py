"""A circuit breaker per upstream: after consecutive failures it fails fast for a while, then lets
one probe through; the probe's success closes it again.

Small enough to own (no library state model to adapt), and its state feeds ``/readyz``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(
        self, failure_threshold: int, reset_after_s: float, on_change: Callable[[bool], None] | None = None
    ) -> None:
        """``on_change(opened)`` is told when the breaker opens (True) and when it closes again (False)."""
        self.on_change = on_change
        self.failure_threshold = failure_threshold
        self.reset_after_s = reset_after_s
        self.failures = 0
        self.opened_at: float | None = None
        self.probing = False

    @property
    def state(self) -> BreakerState:
        if self.opened_at is None:
            return BreakerState.CLOSED
        if time.monotonic() - self.opened_at >= self.reset_after_s:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def allow(self) -> bool:
        """Whether a request may go upstream now; in half-open state, only one probe at a time."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self.probing:
            self.probing = True
            return True
        return False

    def succeeded(self) -> None:
        was_open = self.opened_at is not None
        self.failures = 0
        self.opened_at = None
        self.probing = False
        if was_open and self.on_change is not None:
            self.on_change(False)

    def abandoned(self) -> None:
        """A call it let through ended without a verdict on the upstream (cancelled, or given too little
        time): another probe may go."""
        self.probing = False

    def failed(self) -> None:
        self.failures += 1
        self.probing = False
        if self.opened_at is not None or self.failures >= self.failure_threshold:
            opening = self.opened_at is None
            self.opened_at = time.monotonic()
            if opening and self.on_change is not None:
                self.on_change(True)
