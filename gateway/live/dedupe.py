"""Which webhook deliveries have been seen: Polar retries a delivery it thinks failed, and a load balancer may
hand the retry to another instance, so a repeated ``webhook-id`` is accepted and ignored."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Protocol

from redis.asyncio import Redis

KEY_PREFIX = "gateway:webhook-seen:"


class SeenIds(Protocol):
    async def first_time(self, webhook_id: str) -> bool:
        """Marks the id seen; whether it was new. Raises when the store cannot say (then nothing is marked)."""
        ...

    async def forget(self, webhook_id: str) -> None:
        """Unmarks an id whose delivery could not be handed on, so that Polar's retry is taken."""
        ...


class MemorySeen:
    """In this process: the most recent ``max_ids`` ids, each for ``ttl_s``. Only verified deliveries reach
    it, so the bound is on what Polar sends, not on what a stranger can."""

    def __init__(self, ttl_s: float, max_ids: int) -> None:
        self.ttl_s = ttl_s
        self.max_ids = max_ids
        self._ids: OrderedDict[str, float] = OrderedDict()  # id -> when it stops counting (monotonic)

    async def first_time(self, webhook_id: str) -> bool:
        now = time.monotonic()
        while self._ids and next(iter(self._ids.values())) <= now:
            self._ids.popitem(last=False)
        if webhook_id in self._ids:
            return False
        self._ids[webhook_id] = now + self.ttl_s
        if len(self._ids) > self.max_ids:
            self._ids.popitem(last=False)
        return True

    async def forget(self, webhook_id: str) -> None:
        self._ids.pop(webhook_id, None)


class RedisSeen:
    """In Redis, shared by every instance: ``SET key 1 NX EX ttl``, one round trip, atomic."""

    def __init__(self, redis: Redis, ttl_s: float) -> None:
        self.redis = redis
        self.ttl_s = max(1, round(ttl_s))

    async def first_time(self, webhook_id: str) -> bool:
        return bool(await self.redis.set(KEY_PREFIX + webhook_id, b"1", nx=True, ex=self.ttl_s))

    async def forget(self, webhook_id: str) -> None:
        await self.redis.delete(KEY_PREFIX + webhook_id)
