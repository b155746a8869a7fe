"""What one running sandbox holds: the store, the clock, the faults and the request counts."""

from __future__ import annotations

import random
from collections import Counter, deque
from dataclasses import dataclass, field

from aiohttp import web

from .clock import Clock
from .deliveries import Deliveries
from .faults import Faults, RateLimiter
from .model import Token
from .seed import build_store
from .store import Store

TIMELINE_SIZE = 10_000
DEFAULT_VERSION = "2026-04"
KNOWN_VERSIONS = frozenset({"2026-04", "2026-10", "2027-01"})
VERSION = "polar_version"  # the request's Polar-Version, once the middleware has accepted it


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
    # Webhook events on their way to the organizations' endpoints, and the log of their deliveries.
    deliveries: Deliveries = field(default_factory=Deliveries)

    def __post_init__(self) -> None:
        self.store = build_store(self.customers, self.seed)

    def reset(self) -> None:
        """Back to the seed data with zeroed stats, no webhook endpoint and no delivery pending; faults stay as
        they were set, the webhook settings go back to the sandbox's start."""
        self.store = build_store(self.customers, self.seed)
        self.deliveries.reset()
        self.stats.clear()
        self.injected.clear()
        self.timeline.clear()
        self.clock.reset()
        self.limiter.reset()


STATE = web.AppKey("sandbox_state", SandboxState)
TOKEN = "sandbox_token"


def sandbox(request: web.Request) -> SandboxState:
    return request.app[STATE]


def api_version(request: web.Request) -> str:
    version: str | None = request.get(VERSION)
    return version or DEFAULT_VERSION


def caller_token(request: web.Request) -> Token | None:
    token: Token | None = request.get(TOKEN)
    return token
