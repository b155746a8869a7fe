"""What the cache's unit tests share: a clock for ``MemoryStore`` that the test moves, and digests to file
entries under (a store holds digests only, as ``Names`` makes them)."""

from __future__ import annotations

import time

from gateway.cache.names import Names
from gateway.cache.store import Entry, Lifetimes

NAMES = Names("unit-tests-cursor-secret-0123456789abcdef")
CALLER = NAMES.caller("polar", "polar_oat_caller_a")
OTHER_CALLER = NAMES.caller("polar", "polar_oat_caller_b")
LIFETIMES = Lifetimes(ttl_s=300.0, trust_s=60.0)
WINDOW_S = 11.0  # a request's deadline plus one second, as the service sets it
LONGEST_TTL_S = 300.0


def subject(label: str) -> str:
    return NAMES.subject(label)


def name(key: str) -> str:
    return NAMES.entry("polar_customer", key)


def entry(record: bytes = b'{"id":"c1"}', *labels: str) -> Entry:
    return Entry(tuple(subject(label) for label in (labels or ("polar:customer:c1",))), record)


class Clock:
    """``time.monotonic`` as ``gateway.cache.store`` reads it: the real one plus what the test added, or held
    still (``freeze``). A ``Stamp``'s ``taken_at`` stays on the real clock: move it after stamps are taken."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.frozen: float | None = None

    def monotonic(self) -> float:
        return self.frozen if self.frozen is not None else time.monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        if self.frozen is not None:
            self.frozen += seconds
        self.offset += seconds

    def freeze(self) -> None:
        self.frozen = self.monotonic()
