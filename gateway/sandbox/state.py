"""What one running sandbox holds: the store, the clock, the faults and the request counts."""

from __future__ import annotations

import random
from collections import Counter, deque
from dataclasses import dataclass, field

from aiohttp import web

from .clock import Clock
from .faults import Faults, RateLimiter
from .model import Token
from .seed import build_store
from .store import Store

TIMELINE_SIZE = 10_000


@dataclass
class SandboxState:
    customers: int
    seed: int
    store: Store = field(init=False)
    clock: Clock = field(default_factory=Clock)
    faults: Faults = field(default_factory=Faults)
    limiter: RateLimiter = field(default_factory=RateLimiter)
    stats: Counter[str] = field(default_factory=Counter)
    injected: Counter[str] = field(default_factory=Counter)  # faults given, by route, since the last reset
    # (route, start, end, request id, target) of recent API requests, monotonic seconds: how a benchmark sees
    # round trips, and the path and query exactly as they came on the wire.
    timeline: deque[tuple[str, float, float, str | None, str]] = field(
        default_factory=lambda: deque(maxlen=TIMELINE_SIZE)
    )
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    def __post_init__(self) -> None:
        self.store = build_store(self.customers, self.seed)

    def reset(self) -> None:
        """Back to the seed data with zeroed stats; faults stay as they were set."""
        self.store = build_store(self.customers, self.seed)
        self.stats.clear()
        self.injected.clear()
        self.timeline.clear()
        self.clock.reset()
        self.limiter.reset()


STATE = web.AppKey("sandbox_state", SandboxState)
TOKEN = "sandbox_token"


def sandbox(request: web.Request) -> SandboxState:
    return request.app[STATE]


def caller_token(request: web.Request) -> Token | None:
    token: Token | None = request.get(TOKEN)
    return token
