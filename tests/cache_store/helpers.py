"""``RedisStore`` on a real ``redis-server`` (``tests.redis_server``): stores made on a URL, the raw keys and
values a neighbour on the same Redis would see, and a Redis frozen (SIGSTOP) for a bounded block, always
thawed (SIGCONT) when the block ends."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import redis
from redis.asyncio import Redis

from gateway.cache.redis_store import PREFIX, RedisStore
from gateway.cache.store import Entry, Lifetimes, Stamp
from tests.redis_server import RedisServer
from tests.unit.cache_helpers import CALLER, LIFETIMES, NAMES, WINDOW_S, entry, name, subject

T = TypeVar("T")
MAX_ENTRY_BYTES = 16 * 1024
LONGEST_TTL_S = 300.0
SLOW_TIMEOUT_S = 5.0  # a command of a healthy Redis on a loaded machine: never what a test waits on
BOUND_S = 15.0  # the longest any test waits for something that should happen much sooner

__all__ = ["CALLER", "LIFETIMES", "NAMES", "WINDOW_S", "entry", "name", "subject"]  # shared with the unit tests


def client(url: str, timeout_s: float = SLOW_TIMEOUT_S) -> Redis:
    """As ``gateway.cache.service`` makes it."""
    return Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)


def make_store(
    url: str, timeout_s: float = SLOW_TIMEOUT_S, retry_s: float = 0.0, max_entry_bytes: int = MAX_ENTRY_BYTES
) -> RedisStore:
    return RedisStore(client(url, timeout_s), timeout_s, retry_s, max_entry_bytes, WINDOW_S, LONGEST_TTL_S)


def raw(server: RedisServer) -> redis.Redis:
    """What a neighbour sees: every key and value of the database, with a plain client."""
    return redis.Redis.from_url(server.url, socket_timeout=SLOW_TIMEOUT_S)


def cache_keys(server: RedisServer) -> dict[bytes, bytes | None]:
    with raw(server) as neighbour:
        found = sorted(neighbour.scan_iter(match=PREFIX + "*", count=1000))
        values = [
            b",".join(sorted(neighbour.smembers(key))) if neighbour.type(key) == b"set" else neighbour.get(key)
            for key in found
        ]
    return dict(zip(found, values, strict=True))


async def keep(
    store: RedisStore,
    key: str,
    kept: Entry | None = None,
    stamp: Stamp | None = None,
    caller: str = CALLER,
    lifetimes: Lifetimes = LIFETIMES,
) -> None:
    await store.write(caller, {name(key): kept or entry()}, stamp or await store.stamp(), True, lifetimes)


async def found(store: RedisStore, *keys: str, caller: str = CALLER) -> dict[str, bytes]:
    names = {name(key): key for key in keys}
    reading = await store.read(caller, list(names))
    return {names[each]: record for each, record in reading.found.items()}


async def until(check: Callable[[], Awaitable[T]], wanted: Callable[[T], bool], what: str) -> T:
    """Polls ``check`` until ``wanted`` holds, within ``BOUND_S``; fails if it never does."""
    deadline = time.monotonic() + BOUND_S
    while True:
        value = await check()
        if wanted(value):
            return value
        assert time.monotonic() < deadline, f"{what}: still {value!r} after {BOUND_S} s"
        await asyncio.sleep(0.02)


@contextmanager
def frozen(server: RedisServer) -> Iterator[None]:
    """Redis stopped in its tracks (SIGSTOP): connections stay open, nothing is answered. Thawed when the
    block ends, whatever happens in it."""
    assert server.pid is not None
    os.kill(server.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(server.pid, signal.SIGCONT)
