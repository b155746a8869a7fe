"""The cache in Redis, shared by every instance, on Redis's own clock (``TIME``, in microseconds), so that
instances whose clocks disagree still order reads and invalidations alike. Keys:

- ``gateway:cache:e:<caller>:<name>``: a packed entry (``store.pack``), expiring with its TTL;
- ``gateway:cache:i:<subject>``: when that subject was last invalidated, kept while an entry stamped before
  it could still live (its TTL plus the write window); written by one script that reads ``TIME`` and keeps
  the later of two times, so concurrent invalidations of one subject never land out of order;
- ``gateway:cache:s:<subject>``: the entries about it, deleted with its invalidation (an erased customer's
  data leaves Redis then, not with its TTL);
- ``gateway:cache:names``: the key every instance names things with (``names.Names``), made by the first;
- ``gateway:cache:t:<caller>``: present while the caller's credential counts as accepted upstream;
- ``gateway:cache:run``: the ``run_id`` of the Redis the cache last saw; the first instance to see another one
  (a restart, maybe from a snapshot older than its last invalidations) bumps the epoch, once;
- ``gateway:cache:epoch``: entries of an older epoch are ignored. An instance that failed to write an
  invalidation bumps it once Redis answers again, before it reads anything: what that invalidation would
  have removed is then removed with everything else, instead of being served.

Every command is bounded by ``timeout_s``; after a failure Redis is not asked again for ``retry_s`` (but
for invalidations, which are worth a timeout), so a dead or frozen Redis costs a request at most one
timeout, and costs most requests nothing.
"""

from __future__ import annotations

import asyncio
import secrets
import struct
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from ..observability.metrics import CACHE_INVALIDATIONS
from .store import CacheUnavailable, Entry, Lifetimes, Reading, Stamp, pack, unpack

T = TypeVar("T")
PREFIX = "gateway:cache:"
EPOCH = PREFIX + "epoch"
NAMES_KEY = PREFIX + "names"
RUN = PREFIX + "run"  # the run_id of the Redis the cache last saw
# Absent: a Redis that never held the cache, or lost everything with it (the run is recorded before any entry
# is written): nothing to bump.
_ADOPT_RUN = """
local held = redis.call('GET', KEYS[1])
if held == ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
if held then redis.call('INCR', KEYS[2]) return 1 end
return 0
"""
# KEYS: pairs of (invalidation key, index key); ARGV: how long invalidations are kept (ms), how far ahead
# they reach (µs). Redis's time, the later of two invalidations kept, the entries about the subject deleted.
# The index's members are entry keys not declared in KEYS: a standalone Redis runs it (Cluster would not).
_INVALIDATE = """
local now = redis.call('TIME')
local upto = tonumber(now[1]) * 1000000 + tonumber(now[2]) + tonumber(ARGV[2])
for i = 1, #KEYS, 2 do
  local held = tonumber(redis.call('GET', KEYS[i]) or '-1') or -1
  redis.call('SET', KEYS[i], string.format('%.0f', math.max(upto, held)), 'PX', ARGV[1])
  local entries = redis.call('SMEMBERS', KEYS[i + 1])
  for start = 1, #entries, 500 do
    redis.call('DEL', unpack(entries, start, math.min(start + 499, #entries)))
  end
  redis.call('DEL', KEYS[i + 1])
end
return 1
"""


def _microseconds(answer: tuple[int, int]) -> float:
    seconds, micros = answer
    return float(int(seconds) * 1_000_000 + int(micros))


def _unpacked(value: bytes) -> tuple[float, int, list[str], bytes] | None:
    """An entry as written, or None for bytes that are not one (written by something else): a miss."""
    try:
        return unpack(value)
    except (struct.error, UnicodeDecodeError):
        return None


def _epoch(value: bytes | None) -> int:
    """The epoch; one that does not read (written by something else) makes the store unavailable."""
    try:
        return int(value or 0)
    except ValueError:
        raise CacheUnavailable("the cache's epoch does not read") from None


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
        longest_ttl_s: float, invalidation_timeout_s: float | None = None,
    ) -> None:  # fmt: skip
        self.redis = redis
        self.timeout_s = timeout_s
        self.invalidation_timeout_s = max(timeout_s, invalidation_timeout_s or timeout_s)
        self.retry_s = retry_s
        self.max_entry_bytes = max_entry_bytes
        self.write_window_s = write_window_s
        self.invalidation_ms = int((write_window_s + longest_ttl_s) * 1000) + 1
        self._down_until = 0.0
        self._missed_invalidation = False  # an invalidation failed: bump the epoch before trusting any entry
        self._bytes: int | None = None
        self._invalidate = redis.register_script(_INVALIDATE)
        self._unsure_of_identity = True  # Redis's run_id is checked before anything else (``_check_identity``)
        self._adopt_run = redis.register_script(_ADOPT_RUN)

    async def _guarded(
        self, work: Callable[[], Awaitable[T]], *, even_if_down: bool = False, timeout_s: float | None = None
    ) -> T:
        """``even_if_down``: asked even within ``retry_s`` of a failure (an invalidation is worth a timeout)."""
        if time.monotonic() < self._down_until and not even_if_down:
            raise CacheUnavailable("redis failed lately")
        try:
            async with asyncio.timeout(timeout_s or self.timeout_s):
                if self._unsure_of_identity:
                    await self._check_identity()
                if self._missed_invalidation:
                    await self.redis.incr(EPOCH)
                    self._missed_invalidation = False
                    CACHE_INVALIDATIONS.labels("redis_recovered").inc()
                return await work()
        except (RedisError, OSError, TimeoutError) as error:
            self._down_until = time.monotonic() + self.retry_s
            self._unsure_of_identity = True  # it may come back as another Redis (restarted, from a snapshot)
            raise CacheUnavailable(type(error).__name__) from None

    async def _check_identity(self) -> None:
        """Redis's ``run_id`` against the one the cache last recorded in it: a Redis that restarted may have
        come back from a snapshot older than its last invalidations, with entries they had removed. The
        first instance to see a new ``run_id`` bumps the epoch, once (compare and set, one script)."""
        try:
            identity = str((await self.redis.info("server"))["run_id"])
        except (ResponseError, KeyError):  # INFO renamed or restricted (some managed Redis): not checked
            self._unsure_of_identity = False
            return
        if await self._adopt_run(keys=[RUN, EPOCH], args=[identity]):
            CACHE_INVALIDATIONS.labels("redis_restarted").inc()
        self._unsure_of_identity = False

    async def stamp(self) -> Stamp:
        async def work() -> Stamp:
            pipe = self.redis.pipeline(transaction=False)
            pipe.time()
            pipe.get(EPOCH)
            now, epoch = await pipe.execute()
            return Stamp(_microseconds(now), _epoch(epoch))

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
            stamp = Stamp(_microseconds(answers[0]), _epoch(answers[1]))
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
            ttl_ms = max(1, int(lifetimes.ttl_s * 1000))
            indexed: set[str] = set()
            for name, entry in entries.items():
                value = pack(entry, stamp)
                if len(value) <= self.max_entry_bytes:
                    key = f"{PREFIX}e:{caller}:{name}"
                    pipe.set(key, value, px=ttl_ms)
                    if entry.subjects:  # the first subject is the customer's id: every change reaches it
                        pipe.sadd(f"{PREFIX}s:{entry.subjects[0]}", key)
                        indexed.add(entry.subjects[0])
            for subject in indexed:
                pipe.pexpire(f"{PREFIX}s:{subject}", self.invalidation_ms)
        if len(pipe):
            await self._guarded(pipe.execute)

    async def invalidate(self, subjects: Sequence[str], ahead_s: float = 0.0) -> None:
        keys = [key for subject in subjects for key in (f"{PREFIX}i:{subject}", f"{PREFIX}s:{subject}")]
        hold_ms = self.invalidation_ms + int(ahead_s * 1000)
        try:
            await self._guarded(
                lambda: self._invalidate(keys=keys, args=[hold_ms, int(ahead_s * 1_000_000)]),
                even_if_down=True,
                timeout_s=self.invalidation_timeout_s,
            )
        except BaseException:  # failed, or cut short by its caller's timeout: it may not have landed
            self._missed_invalidation = True
            raise

    def missed_invalidation(self) -> None:
        self._missed_invalidation = True

    async def recover(self) -> None:
        """Called every ``retry_s`` (``service``). After a missed invalidation, the epoch is bumped as soon as
        Redis answers, not only at this instance's next request: the others read meanwhile. And a Redis that
        restarted (a new ``run_id``) may have come back from a snapshot older than its last invalidations,
        with the entries they had removed: the epoch is bumped then too."""
        self._unsure_of_identity = True  # an idle instance checks too: it may be the first to see the restart
        await self._guarded(self.redis.ping)

    async def names_key(self, mine: str | None = None) -> str:
        """The naming key every instance shares: made by the first (``SET NX``), read by the others; ``mine``,
        the key this instance uses, is the one it puts back after Redis lost it."""

        async def work() -> str:
            await self.redis.set(NAMES_KEY, (mine or secrets.token_hex(32)).encode(), nx=True)
            key = await self.redis.get(NAMES_KEY)
            if not key:
                raise CacheUnavailable("the naming key vanished")
            return key.decode() if isinstance(key, bytes) else str(key)

        return await self._guarded(work)

    async def distrust(self, caller: str) -> None:
        await self._guarded(lambda: self.redis.delete(f"{PREFIX}t:{caller}"))

    async def sample_bytes(self) -> None:
        """Redis's memory in use (its whole database: entries, invalidations, the live service's ids)."""
        info = await self._guarded(lambda: self.redis.info("memory"))
        self._bytes = int(info["used_memory"])

    def bytes_held(self) -> int | None:
        return self._bytes
