"""Where automatic persisted queries are kept: by document hash, and for each caller the hashes it has
registered, so that a caller runs by hash only what it sent in full itself (the convention for anything
kept longer than a request: scoped by a keyed digest of the credential). A document is held once however
many callers registered it; each registration costs a small marker.

Both stores are bounded in bytes, least recently used out first (a registration larger than the whole bound is
not held, rather than evicting everything before itself): in this process, or in Redis, shared by every
instance, so that a hash registered through one is known to all. Redis failing is a miss (the client
sends the document again), never an error, and costs a request at most ``timeout_s``."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from ..observability.metrics import PERSISTED_QUERIES, PERSISTED_QUERY_BYTES

T = TypeVar("T")
OVERHEAD_BYTES = 100  # per key held in process, beside its name and value: the table's entry that finds and ages it
# In Redis a key's name is held three times (the key, its place in the LRU index, its size) and each has Redis's
# own structures: measured at 2.9 times the in-process weight for markers when counted as above.
REDIS_NAME_COPIES = 3
REDIS_OVERHEAD_BYTES = 200


def redis_weight(name: str | bytes, value: str | bytes) -> int:
    """What one key costs the Redis store's bound (as its script counts it)."""
    encoded = [part.encode() if isinstance(part, str) else part for part in (name, value)]
    return REDIS_NAME_COPIES * len(encoded[0]) + len(encoded[1]) + REDIS_OVERHEAD_BYTES
MARKER = "1"


class QueryStore(Protocol):
    async def get(self, caller: str, digest: str) -> str | None:
        """The document of ``digest`` if ``caller`` registered it; None when not (or the store is down)."""
        ...

    async def put(self, caller: str, digest: str, text: str) -> None:
        """Registers ``text`` (whose SHA-256 is ``digest``, checked by the caller) for ``caller``."""
        ...


def caller_of(credentials: str) -> str:
    """An unkeyed digest of the caller's credentials, as the stores receive them: each store keys it again
    (``MemoryQueryStore`` with a key of this process, Redis with one kept in Redis)."""
    return hashlib.sha256(credentials.encode()).hexdigest()


class MemoryQueryStore:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._key = secrets.token_bytes(32)
        self._held: OrderedDict[str, str] = OrderedDict()  # "d:<digest>" -> text, "m:<scope>:<digest>" -> MARKER

    def _marker(self, caller: str, digest: str) -> str:
        return f"m:{hmac.new(self._key, caller.encode(), hashlib.sha256).hexdigest()}:{digest}"

    async def get(self, caller: str, digest: str) -> str | None:
        marker, document = self._marker(caller, digest), f"d:{digest}"
        if marker not in self._held or document not in self._held:
            return None
        self._held.move_to_end(marker)
        self._held.move_to_end(document)
        return self._held[document]

    async def put(self, caller: str, digest: str, text: str) -> None:
        held = ((f"d:{digest}", text), (self._marker(caller, digest), MARKER))
        if sum(_weight(name, value) for name, value in held) > self.max_bytes:
            return  # it cannot be held: making room for it would only have evicted every other caller's
        for name, value in held:
            if name in self._held:
                self._held.move_to_end(name)
            else:
                self._held[name] = value
                self.size += _weight(name, value)
        while self.size > self.max_bytes and self._held:
            name, value = self._held.popitem(last=False)
            self.size -= _weight(name, value)
        PERSISTED_QUERY_BYTES.labels("memory").set(self.size)


def _weight(name: str, value: str) -> int:
    return len(name) + len(value.encode()) + OVERHEAD_BYTES


PREFIX = "gateway:apq:"
# The keyed scope of a caller, made in Redis from the key only Redis holds (made by the first instance to
# register anything): no instance needs a setting to agree with the others, and no credential, not even its
# digest, is part of a key name.
def _scope(make_key: bool) -> str:
    """Lua that sets ``marker``, ``document`` and ``now`` (Redis's clock, µs); ``make_key``: ARGV[3] becomes
    the key when Redis has none, else the script answers nil (nothing was registered under any key)."""
    missing = f"secret = ARGV[3]\n  redis.call('SET', '{PREFIX}key', secret)" if make_key else "return false"
    return f"""
local secret = redis.call('GET', '{PREFIX}key')
if not secret then
  {missing}
end
local marker = '{PREFIX}m:' .. redis.sha1hex(secret .. ARGV[1]) .. ':' .. ARGV[2]
local document = '{PREFIX}d:' .. ARGV[2]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
"""


# ARGV: caller, digest. The document, when the caller registered it; both keys are used now.
_GET = _scope(make_key=False) + f"""
if redis.call('EXISTS', marker) == 0 then return false end
local text = redis.call('GET', document)
if not text then return false end
redis.call('ZADD', '{PREFIX}lru', now, marker, now, document)
return text
"""
# ARGV: caller, digest, a fresh key (used if Redis has none), text, most bytes held, overhead per key.
# Sizes are kept per key so that what a key cost is given back when it goes (or when Redis evicted it).
_PUT = _scope(make_key=True) + f"""
local function hold(name, value)
  if redis.call('EXISTS', name) == 0 then
    local before = tonumber(redis.call('HGET', '{PREFIX}size', name) or '0')
    local size = {REDIS_NAME_COPIES} * #name + #value + tonumber(ARGV[6])
    redis.call('SET', name, value)
    redis.call('HSET', '{PREFIX}size', name, size)
    redis.call('INCRBY', '{PREFIX}bytes', size - before)
  end
  redis.call('ZADD', '{PREFIX}lru', now, name)
end
if {REDIS_NAME_COPIES} * (#document + #marker) + #ARGV[4] + #'{MARKER}' + 2 * tonumber(ARGV[6]) > tonumber(ARGV[5]) then
  return tonumber(redis.call('GET', '{PREFIX}bytes') or '0')  -- it cannot be held: evict nothing for it
end
hold(document, ARGV[4])
hold(marker, '{MARKER}')
local total = tonumber(redis.call('GET', '{PREFIX}bytes') or '0')
while total > tonumber(ARGV[5]) do
  local oldest = redis.call('ZPOPMIN', '{PREFIX}lru')
  if #oldest == 0 then
    redis.call('SET', '{PREFIX}bytes', 0)
    break
  end
  local size = tonumber(redis.call('HGET', '{PREFIX}size', oldest[1]) or '0')
  redis.call('HDEL', '{PREFIX}size', oldest[1])
  redis.call('DEL', oldest[1])
  total = tonumber(redis.call('DECRBY', '{PREFIX}bytes', size))
end
return total
"""


class RedisQueryStore:
    """The store in Redis (keys under ``gateway:apq:``; a standalone Redis: the scripts touch keys they make
    up). Each call is one script, bounded by ``timeout_s``; after a failure Redis is left alone for
    ``retry_s``."""

    def __init__(self, redis: Redis, max_bytes: int, timeout_s: float, retry_s: float) -> None:
        self.redis = redis
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s
        self.retry_s = retry_s
        self._failed_at = -float("inf")
        self._get = redis.register_script(_GET)
        self._put = redis.register_script(_PUT)

    async def get(self, caller: str, digest: str) -> str | None:
        text = await self._guarded(lambda: self._get(args=[caller, digest]))
        return text.decode() if isinstance(text, bytes) else None

    async def put(self, caller: str, digest: str, text: str) -> None:
        fresh = secrets.token_hex(32)
        held = await self._guarded(
            lambda: self._put(args=[caller, digest, fresh, text, self.max_bytes, REDIS_OVERHEAD_BYTES])
        )
        if isinstance(held, int):
            PERSISTED_QUERY_BYTES.labels("redis").set(held)

    async def _guarded(self, call: Callable[[], Awaitable[T]]) -> T | None:
        if time.monotonic() - self._failed_at < self.retry_s:
            return None
        try:
            async with asyncio.timeout(self.timeout_s):
                return await call()
        except (RedisError, OSError, TimeoutError):
            PERSISTED_QUERIES.labels("store_failed").inc()
            self._failed_at = time.monotonic()
            return None
