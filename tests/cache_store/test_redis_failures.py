"""``RedisStore`` when Redis fails: a frozen Redis costs each command at most its timeout and is a
``CacheUnavailable`` (a miss above it), never a hang; after a failure Redis is not asked again for
``retry_s``; an invalidation that failed bumps the epoch at the next command that succeeds, so that what it
would have removed is never served, by any instance; and once Redis is back every answer is its own command's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from gateway.cache import polar
from gateway.cache.polar import PolarCache
from gateway.cache.records import RecordCache, Tally
from gateway.cache.redis_store import EPOCH, RedisStore
from gateway.cache.store import CacheUnavailable
from gateway.sandbox.seed import DEMO_TOKEN
from tests.cache_store.helpers import (
    BOUND_S,
    CALLER,
    LIFETIMES,
    NAMES,
    entry,
    found,
    frozen,
    keep,
    make_store,
    name,
    raw,
    subject,
)
from tests.redis_server import RedisServer, free_port
from tests.unit.cache_helpers import OTHER_CALLER

TIMEOUT_S = 0.2  # the store's, for a frozen Redis; the tests wait up to BOUND_S for it to be kept


@pytest.fixture
async def quick(fresh_redis: RedisServer) -> AsyncIterator[RedisStore]:
    """A store with a short timeout and no retry window: every call tries Redis."""
    made = make_store(fresh_redis.url, timeout_s=TIMEOUT_S, retry_s=0.0)
    yield made
    await made.redis.aclose()


def _every_operation(store: RedisStore) -> dict[str, Callable[[], Awaitable[object]]]:
    async def write() -> None:
        await store.write(CALLER, {name("w"): entry()}, await store.stamp(), True, LIFETIMES)

    return {
        "stamp": store.stamp,
        "read": lambda: store.read(CALLER, [name("c1"), name("c2")]),
        "write": write,
        "invalidate": lambda: store.invalidate([subject("polar:customer:c1")]),
        "distrust": lambda: store.distrust(CALLER),
        "sample_bytes": store.sample_bytes,
    }


async def test_a_frozen_redis_is_unavailable_within_the_timeout_never_a_hang(
    quick: RedisStore, fresh_redis: RedisServer
) -> None:
    await keep(quick, "c1")
    stamp = await quick.stamp()
    operations = _every_operation(quick)
    operations["write"] = lambda: quick.write(CALLER, {name("w"): entry()}, stamp, True, LIFETIMES)
    unavailable = []
    with frozen(fresh_redis):
        for label, operation in operations.items():
            async with asyncio.timeout(BOUND_S):  # bounded: a hang fails the test, it does not stall it
                with pytest.raises(CacheUnavailable):
                    await operation()
            unavailable.append(label)
    assert unavailable == list(operations)


async def test_a_frozen_redis_is_a_miss_for_the_loaders(quick: RedisStore, fresh_redis: RedisServer) -> None:
    cache = PolarCache(RecordCache(polar.UPSTREAM, quick, NAMES, LIFETIMES))
    with frozen(fresh_redis):
        async with asyncio.timeout(BOUND_S):
            tally = Tally()
            lookup = await cache.customers(DEMO_TOKEN, ["c1", "c2"], tally)
            assert (lookup.hits, lookup.stamp, tally.misses) == ({}, None, 2)
            assert await cache.stamp() is None
            await cache.written("c1", "ext-1")  # logged, not raised: the write's caller gets its answer


async def test_after_a_freeze_every_answer_is_its_own_commands(quick: RedisStore, fresh_redis: RedisServer) -> None:
    """Commands cut by the timeout leave no answer behind for the next command on the connection."""
    with frozen(fresh_redis):
        for _ in range(5):
            async with asyncio.timeout(BOUND_S):
                with pytest.raises(CacheUnavailable):
                    await quick.read(CALLER, [name("c1")])
    await keep(quick, "a", entry(b"A's"))
    await keep(quick, "b", entry(b"B's"), caller=OTHER_CALLER)
    for _ in range(20):
        assert await found(quick, "a", "b") == {"a": b"A's"}
        assert await found(quick, "a", "b", caller=OTHER_CALLER) == {"b": b"B's"}
        stamp = await quick.stamp()
        assert stamp.epoch >= 0


async def test_a_failed_invalidation_bumps_the_epoch_before_anything_is_read_again(
    quick: RedisStore, other_instance: RedisStore, fresh_redis: RedisServer
) -> None:
    await keep(quick, "c1", entry(b"before the change"))
    await keep(quick, "unrelated", entry(b"u", "polar:customer:unrelated"))
    assert await found(other_instance, "c1") == {"c1": b"before the change"}
    with frozen(fresh_redis):
        async with asyncio.timeout(BOUND_S):
            with pytest.raises(CacheUnavailable):
                await quick.invalidate([subject("polar:customer:c1")])
    with raw(fresh_redis) as neighbour:
        assert neighbour.get(EPOCH) is None  # nothing bumped yet: no command has succeeded since
    assert await found(quick, "c1", "unrelated") == {}  # the first command bumps, then reads
    with raw(fresh_redis) as neighbour:
        assert neighbour.get(EPOCH) == b"1"
    assert await found(other_instance, "c1", "unrelated") == {}  # and no instance serves the old epoch
    await keep(quick, "c1", entry(b"after"))
    assert await found(other_instance, "c1") == {"c1": b"after"}
    await keep(quick, "c2")
    with raw(fresh_redis) as neighbour:
        assert neighbour.get(EPOCH) == b"1"  # bumped once


async def test_a_failed_write_or_read_bumps_nothing(quick: RedisStore, fresh_redis: RedisServer) -> None:
    await keep(quick, "c1")
    with frozen(fresh_redis):
        async with asyncio.timeout(BOUND_S):
            with pytest.raises(CacheUnavailable):
                await quick.read(CALLER, [name("c1")])
    assert await found(quick, "c1") == {"c1": b'{"id":"c1"}'}
    with raw(fresh_redis) as neighbour:
        assert neighbour.get(EPOCH) is None


class CountingPort:
    """A TCP port that accepts connections, counts them and closes them at once: a Redis that is not there."""

    def __init__(self) -> None:
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            writer.close()

        self.server = await asyncio.start_server(accepted, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"redis://127.0.0.1:{port}/0"

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@pytest.fixture
async def counting() -> AsyncIterator[CountingPort]:
    port = CountingPort()
    try:
        yield port
    finally:
        await port.stop()


async def test_no_connection_is_attempted_during_the_retry_window(counting: CountingPort) -> None:
    store = make_store(await counting.start(), timeout_s=1.0, retry_s=3600.0)
    try:
        async with asyncio.timeout(BOUND_S):
            with pytest.raises(CacheUnavailable):
                await store.read(CALLER, [name("c1")])
        tried = counting.connections
        assert tried >= 1
        # All but invalidations: they are asked even then (a missed one costs every entry), and only a verified
        # webhook or a write the upstream applied makes one.
        for kind, operation in _every_operation(store).items():
            if kind == "invalidate":
                continue
            for _ in range(50):
                with pytest.raises(CacheUnavailable):
                    await operation()
        await asyncio.sleep(0)  # a connection made meanwhile would have been accepted by now
        assert counting.connections == tried
    finally:
        await store.redis.aclose()


async def test_without_a_retry_window_each_call_tries_again(counting: CountingPort) -> None:
    """The control of the test above: the port does count what a store tries."""
    store = make_store(await counting.start(), timeout_s=1.0, retry_s=0.0)
    try:
        seen = []
        for _ in range(3):
            async with asyncio.timeout(BOUND_S):
                with pytest.raises(CacheUnavailable):
                    await store.read(CALLER, [name("c1")])
            seen.append(counting.connections)
        assert seen[0] >= 1
        assert seen[0] < seen[1] < seen[2]
    finally:
        await store.redis.aclose()


async def test_a_closed_port_is_unavailable_within_the_timeout() -> None:
    store = make_store(f"redis://127.0.0.1:{free_port()}/0", timeout_s=TIMEOUT_S, retry_s=0.0)
    try:
        for operation in _every_operation(store).values():
            async with asyncio.timeout(BOUND_S):
                with pytest.raises(CacheUnavailable):
                    await operation()
    finally:
        await store.redis.aclose()


# Found by the attacker's review (these fail while the problems are there) -----------------------------------


DEMO_CALLER = NAMES.caller("polar", DEMO_TOKEN)
GARBAGE = [
    ("an entry", lambda: f"gateway:cache:e:{DEMO_CALLER}:{name('c1')}", b"\x00junk"),
    ("an entry of another format", lambda: f"gateway:cache:e:{DEMO_CALLER}:{name('c1')}", b"x" * 17 + b"\xff" * 64),
    ("the epoch", lambda: EPOCH, b"not-a-number"),
    ("an invalidation", lambda: f"gateway:cache:i:{subject('polar:customer:c1')}", b"yesterday"),
]


@pytest.mark.parametrize(("what", "key", "value"), GARBAGE, ids=[g[0] for g in GARBAGE])
async def test_a_value_the_store_cannot_read_is_a_miss_never_an_error(
    store: RedisStore, fresh_redis: RedisServer, what: str, key: Callable[[], str], value: bytes
) -> None:
    """A neighbour's bug, another version of the gateway, or a partial write: whatever Redis holds under the
    cache's keys, the loaders get a miss (``records`` says an entry that no longer reads is a miss). The
    store lets ``struct.error``/``ValueError`` out of ``read`` and ``stamp``: the request fails."""
    cache = PolarCache(RecordCache(polar.UPSTREAM, store, NAMES, LIFETIMES))
    await keep(store, "c1", caller=DEMO_CALLER)
    with raw(fresh_redis) as neighbour:
        neighbour.set(key(), value)
    tally = Tally()
    lookup = await cache.customers(DEMO_TOKEN, ["c1"], tally)
    assert lookup.hits == {}
    await cache.stamp()  # a list page's stamp: a Stamp or None, never an exception
