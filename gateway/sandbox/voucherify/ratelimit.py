"""Voucherify's rate-limit headers (contract section 6): ``X-Rate-Limit-Limit``, ``X-Rate-Limit-Remaining`` and
``X-Rate-Limit-Retry`` (the epoch second the window resets) on every answer, counted per project in the
Polar sandbox's fixed one-minute windows.

The limit is the ``rate_limit_per_minute`` fault when it is set, and only then enforced (429). Otherwise the
headers report :data:`DEFAULT_PER_MINUTE` without enforcing it: the session's sandbox serves the whole test
suite, whose tests reset it only when they use it, so an enforced default would throttle unrelated tests.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from ..faults import RateLimiter

DEFAULT_PER_MINUTE = 2000  # the Organization plan's per-minute limit, [LIM]
ANONYMOUS = ""  # the bucket looked at (never counted) for answers to callers without valid keys


@dataclass(frozen=True)
class Quota:
    limit: int
    remaining: int
    resets_at: int  # epoch seconds

    def headers(self) -> dict[str, str]:
        return {
            "X-Rate-Limit-Limit": str(self.limit),
            "X-Rate-Limit-Remaining": str(self.remaining),
            "X-Rate-Limit-Retry": str(self.resets_at),
        }


class QuotaLimiter(RateLimiter):
    """The Polar sandbox's limiter, also telling what is left of a bucket's window and when it resets."""

    def take(self, bucket: str, limit: int) -> tuple[bool, Quota]:
        """Counts one request: whether it is within ``limit``, and the quota after it."""
        allowed = self.allow(bucket, limit)
        return allowed, self.quota(bucket, limit)

    def quota(self, bucket: str, limit: int) -> Quota:
        """The bucket's quota now, without counting a request."""
        now = time.monotonic()
        started, count = self._windows.get(bucket, (now, 0))
        if now - started >= self.WINDOW_SECONDS:
            started, count = now, 0
        resets_at = math.ceil(time.time() + self.WINDOW_SECONDS - (now - started))
        return Quota(limit=limit, remaining=max(0, limit - count), resets_at=resets_at)
