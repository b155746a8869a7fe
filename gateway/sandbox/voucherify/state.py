"""Everything the Voucherify sandbox holds between requests, rebuilt from the seed on reset."""

from __future__ import annotations

import random
from collections import Counter

from aiohttp import web

from ..faults import Faults
from .asyncs import AsyncQueue
from .ratelimit import QuotaLimiter
from .seed import build_projects
from .store import Project


class VoucherifyState:
    def __init__(self, customers: int = 120, seed: int = 1) -> None:
        self.customers = customers
        self.seed = seed
        self.faults = Faults()
        self.limiter = QuotaLimiter()
        self.stats: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()
        self.in_flight = 0  # API requests being answered now
        self.reset()

    def reset(self) -> None:
        self.projects: dict[str, Project] = build_projects(self.customers, self.seed)
        self.queues: dict[str, AsyncQueue] = {app_id: AsyncQueue() for app_id in self.projects}
        self.rng = random.Random(self.seed)
        self.requests = 0
        self.stats.clear()
        self.injected.clear()
        self.limiter.reset()
        self.peak_in_flight = self.in_flight  # the most at once since the reset: a client's waves of calls

    def request_id(self) -> str:
        """``v-`` and 18 hex digits, as Voucherify's; a counter keeps them distinct and reproducible."""
        self.requests += 1
        return f"v-{self.requests:018x}"


STATE = web.AppKey("voucherify_state", VoucherifyState)
PROJECT = "voucherify_project"
REQUEST_ID = "voucherify_request_id"


def state_of(request: web.Request) -> VoucherifyState:
    return request.app[STATE]


def project_of(request: web.Request) -> Project:
    project: Project = request[PROJECT]
    return project


def queue_of(request: web.Request) -> AsyncQueue:
    return request.app[STATE].queues[project_of(request).app_id]
