"""Found by the attacker's review of ``RedisStore``: ways an entry outlives the change that should have ended it,
or personal data outlives its erasure, on a real Redis. Each test fails while its problem is there."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from gateway.cache import polar
from gateway.cache.polar import PolarCache
from gateway.cache.records import RecordCache
from gateway.cache.redis_store import PREFIX, RedisStore
from gateway.cache.store import CacheUnavailable
from gateway.sandbox import render
from gateway.sandbox.seed import DEMO_TOKEN, build_store
from gateway.upstream import polar_records
from tests.cache_store.helpers import (
    BOUND_S,
    LIFETIMES,
    NAMES,
    cache_keys,
    entry,
    found,
    frozen,
    keep,
    make_store,
    raw,
    subject,
)
from tests.redis_server import RedisServer

T = TypeVar("T")


async def _once_up(call: Callable[[], Awaitable[T]]) -> T:
    """``call``'s answer once Redis answers again (a restarted Redis: the first commands may find the old
    connection gone)."""
    deadline = asyncio.get_running_loop().time() + BOUND_S
    while True:
        try:
            return await call()
        except CacheUnavailable:
            assert asyncio.get_running_loop().time() < deadline, "Redis did not answer again"
            await asyncio.sleep(0.05)


async def test_an_invalidation_is_not_lost_when_redis_comes_back_from_a_snapshot() -> None:
    """Redis restarts from its last RDB snapshot (a crash with Debian's default ``save`` rules, or a failover
    to a replica that had not received the last writes). Entries written before the snapshot come back; an
    invalidation written after it does not. The store's upkeep (``recover``, every ``cache_redis_retry_s``
    in the service) sees Redis's new ``run_id`` and bumps the epoch, so the entry is not served as fresh.
    (Eviction of ``i:`` keys under ``maxmemory`` is a loss no instance can see: README asks for
    ``noeviction``.)"""
    with RedisServer() as server:  # its own: the session's Redis must not get this snapshot on a restart
        store = make_store(server.url)
        try:
            await store.recover()  # the upkeep's first round: Redis's identity learned
            await keep(store, "c1", entry(b"before the change"))
            with raw(server) as neighbour:
                assert neighbour.save()
            await store.invalidate([subject("polar:customer:c1")])  # succeeded: nothing to recover from
            assert await found(store, "c1") == {}
            server.kill()
            server.start()
            await _once_up(store.recover)  # the upkeep's next round, once Redis answers
            assert await _once_up(lambda: found(store, "c1")) == {}
        finally:
            await store.redis.aclose()


async def test_invalidations_of_one_subject_are_never_written_out_of_order(
    store: RedisStore, other_instance: RedisStore, fresh_redis: RedisServer
) -> None:
    """Two invalidations of one subject (a write through one instance, a webhook through another) must leave
    the later time, whatever order they land in: one script reads ``TIME`` and keeps the later of the two.
    Here the later one is already there (an invalidation reaching ahead, as bulk work's does) when an
    earlier-timed one lands: a read stamped between them must stay invalid."""
    await other_instance.invalidate([subject("polar:customer:c1")], ahead_s=5.0)  # the later time, first
    stamp = await store.stamp()  # a read begins before that later time
    await store.invalidate([subject("polar:customer:c1")])  # the earlier time, landing last
    await store.write(polar_cache_caller(), {entry_name(): entry(b"between the two")}, stamp, True, LIFETIMES)
    reading = await store.read(polar_cache_caller(), [entry_name()])
    assert reading.found == {}
    with raw(fresh_redis) as neighbour:
        held = neighbour.get(f"{PREFIX}i:{subject('polar:customer:c1')}")
    assert held is not None
    assert float(held) > stamp.at


def polar_cache_caller() -> str:
    return NAMES.caller("polar", DEMO_TOKEN)


def entry_name() -> str:
    return NAMES.entry(polar.CUSTOMER.name, "c1")


async def test_an_invalidation_cut_short_by_its_callers_timeout_ends_the_entry_anyway(
    store: RedisStore, fresh_redis: RedisServer
) -> None:
    """The webhook receiver runs the invalidation inside its own 0.8 s ``asyncio.timeout``: when that fires
    first (Redis slow, so that deduplication took most of it; or ``cache_redis_timeout_s`` set above it),
    the store sees a ``CancelledError``, not a failure of its own, and does not mark the invalidation missed:
    no epoch is bumped, and the entry it should have ended is served again once Redis answers."""
    await keep(store, "c1", entry(b"before the change"))
    with frozen(fresh_redis), pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3):  # the caller's deadline, shorter than the store's own timeout
            await store.invalidate([subject("polar:customer:c1")])
    assert await _once_up(lambda: found(store, "c1")) == {}


async def test_an_erased_customers_personal_data_leaves_redis_with_the_invalidation(
    store: RedisStore, fresh_redis: RedisServer
) -> None:
    """``customerErase`` (and ``customerDelete``) invalidate the customer's subjects: its entries are no longer
    served, but their values, with the email, name and address, stay in Redis, readable by whoever reads
    Redis, until their TTL (``cache_ttl_s``, which an operator may set to hours)."""
    seed = build_store()
    record = next(c for c in seed.customers.values() if c.email and c.external_id)
    customer = polar_records.read_customer(render.customer(record))
    state = polar_records.read_state(render.customer_state(seed, record))
    cache = PolarCache(RecordCache(polar.UPSTREAM, store, NAMES, LIFETIMES))
    await cache.keep_customers(DEMO_TOKEN, await cache.stamp(), {customer.id: customer})
    await cache.keep_states(DEMO_TOKEN, await cache.stamp(), {customer.id: state})
    assert customer.email is not None
    assert any(customer.email.encode() in (value or b"") for value in cache_keys(fresh_redis).values())
    await cache.written(customer.id, customer.external_id)  # the erasure, through the gateway
    held = [key for key, value in cache_keys(fresh_redis).items() if key.startswith(f"{PREFIX}e:".encode())]
    assert held == [], f"{len(held)} entries of the erased customer still in Redis"
