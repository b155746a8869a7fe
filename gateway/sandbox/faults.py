"""Injected upstream trouble (latency, errors, dropped connections) and Polar's rate limit.

Both are test controls: off by default, set through ``POST /__sandbox/faults``.
"""

from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass
class Faults:
    latency_ms: float = 0
    jitter_ms: float = 0
    error_rate: float = 0.0
    error_status: int = 503
    drop_rate: float = 0.0
    rate_limit_per_minute: int | None = None
    retry_after: int = 60  # seconds a 429 tells the client to wait (Polar: the rule's window)
    # The HTTP methods the latency, drops and errors above apply to; None: every method.
    methods: list[str] | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def updated(self, changes: dict[str, Any]) -> Faults:
        """A copy with ``changes`` applied; ValueError names the first bad key or value."""
        known = {f.name for f in fields(self)}
        merged = asdict(self)
        for key, value in changes.items():
            if key not in known:
                raise ValueError(f"unknown fault {key!r}; known: {', '.join(sorted(known))}")
            merged[key] = value
        for key in ("latency_ms", "jitter_ms"):
            if not _is_number(merged[key]) or merged[key] < 0 or merged[key] > 60_000:
                raise ValueError(f"{key} must be a number of milliseconds between 0 and 60000")
        for key in ("error_rate", "drop_rate"):
            if not _is_number(merged[key]) or not 0 <= merged[key] <= 1:
                raise ValueError(f"{key} must be a number between 0 and 1")
        status = merged["error_status"]
        if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
            raise ValueError("error_status must be an HTTP status between 400 and 599")
        retry_after = merged["retry_after"]
        if not isinstance(retry_after, int) or isinstance(retry_after, bool) or not 0 <= retry_after <= 3600:
            raise ValueError("retry_after must be a whole number of seconds between 0 and 3600")
        methods = merged["methods"]
        if methods is not None and (not isinstance(methods, list) or not set(methods) <= _METHODS):
            raise ValueError(f"methods must be null or a list of {', '.join(sorted(_METHODS))}")
        limit = merged["rate_limit_per_minute"]
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
            raise ValueError("rate_limit_per_minute must be a positive integer or null")
        return Faults(**merged)

    def delay_seconds(self, rng: random.Random) -> float:
        return max(0.0, self.latency_ms + rng.uniform(-self.jitter_ms, self.jitter_ms)) / 1000

    def for_method(self, method: str) -> Faults:
        """The faults a request of ``method`` meets: none of latency, drops and errors when ``methods``
        leaves it out (a rate limit counts every method)."""
        if self.methods is None or method in self.methods:
            return self
        return Faults(rate_limit_per_minute=self.rate_limit_per_minute, retry_after=self.retry_after)


_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class RateLimiter:
    """Fixed one-minute windows per bucket (organization or customer), as Polar's limiter counts."""

    WINDOW_SECONDS = 60

    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}

    def allow(self, bucket: str, limit: int) -> bool:
        now = time.monotonic()
        started, count = self._windows.get(bucket, (now, 0))
        if now - started >= self.WINDOW_SECONDS:
            started, count = now, 0
        self._windows[bucket] = (started, count + 1)
        return count < limit

    def reset(self) -> None:
        self._windows.clear()
