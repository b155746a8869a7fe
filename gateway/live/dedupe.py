"""Which webhook deliveries have been seen: Polar retries a delivery it thinks failed, and a load balancer may
hand the retry to another instance, so a repeated ``webhook-id`` is accepted and ignored."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import OrderedDict
from typing import Protocol

from redis.asyncio import Redis

KEY_PREFIX = "gateway:webhook-seen:"
FORGET_TRIES, FORGET_EVERY_S = 40, 0.25  # a mark that landed late is looked for over 10 s, then left to expire
_FORGET = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


class SeenIds(Protocol):
    async def first_time(self, webhook_id: str) -> bool:
        """Marks the id seen; whether it was new. Raises when the store cannot say (then nothing is marked)."""
        ...

    async def forget(self, webhook_id: str) -> None:
        """Unmarks an id whose delivery could not be handed on, so that Polar's retry is taken."""
        ...

    def forget_soon(self, webhook_id: str) -> None:
        """``forget``, tried again for a few seconds in the background: a mark sent to a Redis that stalled
        may land after the first try."""
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

    def forget_soon(self, webhook_id: str) -> None:
        self._ids.pop(webhook_id, None)


class RedisSeen:
    """In Redis, shared by every instance: ``SET key <this process's mark> NX EX ttl``, one round trip,
    atomic. An instance forgets only what it marked itself (compare and delete, one script)."""

    def __init__(self, redis: Redis, ttl_s: float) -> None:
        self.redis = redis
        self.ttl_s = max(1, round(ttl_s))
        self.mark = secrets.token_hex(16).encode()
        self._forget = redis.register_script(_FORGET)
        self._forgetting: set[asyncio.Task[None]] = set()

    async def first_time(self, webhook_id: str) -> bool:
        return bool(await self.redis.set(KEY_PREFIX + webhook_id, self.mark, nx=True, ex=self.ttl_s))

    async def forget(self, webhook_id: str) -> None:
        await self._forget(keys=[KEY_PREFIX + webhook_id], args=[self.mark])

    def forget_soon(self, webhook_id: str) -> None:
        task = asyncio.create_task(self._forget_until_gone(webhook_id))
        self._forgetting.add(task)
        task.add_done_callback(self._forgetting.discard)

    async def _forget_until_gone(self, webhook_id: str) -> None:
        for _ in range(FORGET_TRIES):
            with contextlib.suppress(Exception):  # Redis still stalled or away: try again
                if await self._forget(keys=[KEY_PREFIX + webhook_id], args=[self.mark]):
                    return
            await asyncio.sleep(FORGET_EVERY_S)
