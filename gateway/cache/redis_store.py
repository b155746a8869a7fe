"""The cache in Redis, shared by every instance, on Redis's own clock (``TIME``, in microseconds), so that
instances whose clocks disagree still order reads and invalidations alike. Keys:

- ``gateway:cache:e:<caller>:<name>``: a packed entry (``store.pack``), expiring with its TTL;
- ``gateway:cache:i:<subject>``: when that subject was last invalidated, kept while an entry stamped before
  it could still live (its TTL plus the write window);
- ``gateway:cache:t:<caller>``: present while the caller's credential counts as accepted upstream;
- ``gateway:cache:epoch``: entries of an older epoch are ignored. An instance that failed to write an
  invalidation bumps it once Redis answers again, before it reads anything: what that invalidation would
  have removed is then removed with everything else, instead of being served.

Every command is bounded by ``timeout_s``; after a failure Redis is not asked again for ``retry_s``, so a
dead or frozen Redis costs a request at most one timeout, and costs most requests nothing.
"""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from ..observability.metrics import CACHE_INVALIDATIONS
from .store import CacheUnavailable, Entry, Lifetimes, Reading, Stamp, pack, unpack

T = TypeVar("T")
PREFIX = "gateway:cache:"
EPOCH = PREFIX + "epoch"


def _microseconds(answer: tuple[int, int]) -> float:
    seconds, micros = answer
    return float(int(seconds) * 1_000_000 + int(micros))


def _unpacked(value: bytes) -> tuple[float, int, list[str], bytes] | None:
    """An entry as written, or None for bytes that are not one (written by something else): a miss."""
    try:
        return unpack(value)
    except (struct.error, UnicodeDecodeError):
        return None


def _moment(value: bytes | str) -> float:
    """An invalidation's time; one that does not read is taken as now and forever (the entry is stale)."""
    try:
        return float(value)
    except ValueError:
        return float("inf")


class RedisStore:
    kind = "redis"

    def __init__(
        self, redis: Redis, timeout_s: float, retry_s: float, max_entry_bytes: int, write_window_s: float,
        longest_ttl_s: float,
    ) -> None:  # fmt: skip
        self.redis = redis
        self.timeout_s = timeout_s
        self.retry_s = retry_s
        self.max_entry_bytes = max_entry_bytes
        self.write_window_s = write_window_s
        self.invalidation_ms = int((write_window_s + longest_ttl_s) * 1000) + 1
        self._down_until = 0.0
        self._missed_invalidation = False  # an invalidation failed: bump the epoch before trusting any entry
        self._bytes: int | None = None

    async def _guarded(self, work: Callable[[], Awaitable[T]]) -> T:
        if time.monotonic() < self._down_until:
            raise CacheUnavailable("redis failed lately")
        try:
            async with asyncio.timeout(self.timeout_s):
                if self._missed_invalidation:
                    await self.redis.incr(EPOCH)
                    self._missed_invalidation = False
                    CACHE_INVALIDATIONS.labels("redis_recovered").inc()
                return await work()
        except (RedisError, OSError, TimeoutError) as error:
            self._down_until = time.monotonic() + self.retry_s
            raise CacheUnavailable(type(error).__name__) from None

    async def stamp(self) -> Stamp:
        async def work() -> Stamp:
            pipe = self.redis.pipeline(transaction=False)
            pipe.time()
            pipe.get(EPOCH)
            now, epoch = await pipe.execute()
            return Stamp(_microseconds(now), int(epoch or 0))

        return await self._guarded(work)

    async def read(self, caller: str, names: Sequence[str]) -> Reading:
        async def work() -> Reading:
            pipe = self.redis.pipeline(transaction=False)
            pipe.time()
            pipe.get(EPOCH)
            pipe.exists(f"{PREFIX}t:{caller}")
            if names:
                pipe.mget([f"{PREFIX}e:{caller}:{name}" for name in names])
            answers = await pipe.execute()
            stamp = Stamp(_microseconds(answers[0]), int(answers[1] or 0))
            trusted = bool(answers[2])
            if not trusted or not names:
                return Reading(stamp, trusted, {})
            candidates = {}
            for name, value in zip(names, answers[3], strict=True):
                if value is not None and (entry := _unpacked(value)) is not None and entry[1] == stamp.epoch:
                    candidates[name] = (entry[0], entry[2], entry[3])
            subjects = sorted({s for _, kept, _ in candidates.values() for s in kept})
            invalidated: dict[str, float] = {}
            if subjects:
                times = await self.redis.mget([f"{PREFIX}i:{s}" for s in subjects])
                invalidated = {s: _moment(t) for s, t in zip(subjects, times, strict=True) if t is not None}
            found = {
                name: record
                for name, (at, kept, record) in candidates.items()
                if all(invalidated.get(s, -1.0) < at for s in kept)
            }
            return Reading(stamp, trusted, found)

        return await self._guarded(work)

    async def write(
        self, caller: str, entries: Mapping[str, Entry], stamp: Stamp, trusted: bool, lifetimes: Lifetimes
    ) -> None:
        pipe = self.redis.pipeline(transaction=False)
        if trusted:
            pipe.set(f"{PREFIX}t:{caller}", b"1", px=max(1, int(lifetimes.trust_s * 1000)))
        if time.monotonic() - stamp.taken_at <= self.write_window_s:
            for name, entry in entries.items():
                value = pack(entry, stamp)
                if len(value) <= self.max_entry_bytes:
                    pipe.set(f"{PREFIX}e:{caller}:{name}", value, px=max(1, int(lifetimes.ttl_s * 1000)))
        if len(pipe):
            await self._guarded(pipe.execute)

    async def invalidate(self, subjects: Sequence[str]) -> None:
        async def work() -> None:
            now = int(_microseconds(await self.redis.time()))
            pipe = self.redis.pipeline(transaction=False)
            for subject in subjects:
                pipe.set(f"{PREFIX}i:{subject}", str(now).encode(), px=self.invalidation_ms)
            await pipe.execute()

        try:
            await self._guarded(work)
        except CacheUnavailable:
            self._missed_invalidation = True
            raise

    async def distrust(self, caller: str) -> None:
        await self._guarded(lambda: self.redis.delete(f"{PREFIX}t:{caller}"))

    async def sample_bytes(self) -> None:
        """Redis's memory in use (its whole database: entries, invalidations, the live service's ids)."""
        info = await self._guarded(lambda: self.redis.info("memory"))
        self._bytes = int(info["used_memory"])

    def bytes_held(self) -> int | None:
        return self._bytes
