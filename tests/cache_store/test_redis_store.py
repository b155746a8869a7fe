"""``RedisStore`` keeps ``MemoryStore``'s rules on Redis's clock, shared by every instance: hits and misses per
caller, TTL and trust in Redis's own expiry, the race rule on Redis's ``TIME``, epochs, the write window, the
size limit; and nothing a neighbour on the same Redis reads names a token, a customer or an email."""

from __future__ import annotations

import pytest

from gateway.cache import polar
from gateway.cache import redis_store as redis_store_module
from gateway.cache.polar import PolarCache
from gateway.cache.records import RecordCache, Tally
from gateway.cache.redis_store import EPOCH, PREFIX, RedisStore
from gateway.cache.store import _HEADER, Lifetimes, Stamp, pack, unpack
from gateway.sandbox import render
from gateway.sandbox.seed import DEMO_TOKEN, build_store
from gateway.upstream import polar_records
from tests.cache_store.helpers import (
    CALLER,
    LIFETIMES,
    MAX_ENTRY_BYTES,
    NAMES,
    WINDOW_S,
    cache_keys,
    entry,
    found,
    keep,
    name,
    raw,
    subject,
    until,
)
from tests.redis_server import RedisServer
from tests.unit.cache_helpers import OTHER_CALLER, Clock

# Hits, misses, callers -------------------------------------------------------------------------------


async def test_an_entry_is_served_to_its_caller_only(store: RedisStore) -> None:
    await keep(store, "c1", entry(b"A's"))
    assert await found(store, "c1", "c2") == {"c1": b"A's"}
    await store.write(OTHER_CALLER, {}, await store.stamp(), True, LIFETIMES)
    reading = await store.read(OTHER_CALLER, [name("c1")])
    assert reading.trusted
    assert reading.found == {}


async def test_an_untrusted_caller_gets_nothing_of_its_own_entries(store: RedisStore) -> None:
    await store.write(CALLER, {name("c1"): entry()}, await store.stamp(), False, LIFETIMES)
    reading = await store.read(CALLER, [name("c1")])
    assert (reading.trusted, reading.found) == (False, {})
    await store.write(CALLER, {}, await store.stamp(), True, LIFETIMES)
    assert await found(store, "c1") == {"c1": b'{"id":"c1"}'}


async def test_distrust_ends_service_at_once(store: RedisStore) -> None:
    await keep(store, "c1")
    await store.distrust(CALLER)
    reading = await store.read(CALLER, [name("c1")])
    assert (reading.trusted, reading.found) == (False, {})


async def test_another_instance_reads_what_one_wrote_and_sees_its_invalidations(
    store: RedisStore, other_instance: RedisStore
) -> None:
    await keep(store, "c1", entry(b"shared"))
    assert await found(other_instance, "c1") == {"c1": b"shared"}
    await other_instance.invalidate([subject("polar:customer:c1")])
    assert await found(store, "c1") == {}


# Lifetimes, in Redis's own expiry -----------------------------------------------------------------------


async def test_entries_and_trust_carry_their_lifetimes(store: RedisStore, fresh_redis: RedisServer) -> None:
    await keep(store, "c1", lifetimes=Lifetimes(ttl_s=300.0, trust_s=60.0))
    with raw(fresh_redis) as neighbour:
        entry_ms = neighbour.pttl(f"{PREFIX}e:{CALLER}:{name('c1')}")
        trust_ms = neighbour.pttl(f"{PREFIX}t:{CALLER}")
    assert 290_000 < entry_ms <= 300_000
    assert 50_000 < trust_ms <= 60_000


async def test_an_entry_ends_with_its_ttl(store: RedisStore) -> None:
    await keep(store, "c1", lifetimes=Lifetimes(ttl_s=0.05, trust_s=3600.0))
    await until(lambda: found(store, "c1"), lambda hits: hits == {}, "the entry after its TTL")
    assert (await store.read(CALLER, [])).trusted


async def test_trust_ends_after_trust_s(store: RedisStore) -> None:
    await keep(store, "c1", lifetimes=Lifetimes(ttl_s=3600.0, trust_s=0.05))
    reading = await until(lambda: store.read(CALLER, [name("c1")]), lambda r: not r.trusted, "trust after trust_s")
    assert reading.found == {}


# The race rule on Redis's clock ---------------------------------------------------------------------------


async def test_a_read_stamped_before_an_invalidation_and_written_after_it_is_never_served(store: RedisStore) -> None:
    stamp = await store.stamp()
    await store.invalidate([subject("polar:customer:c1")])
    await keep(store, "c1", entry(b"old"), stamp)
    assert await found(store, "c1") == {}


async def test_an_entry_written_before_an_invalidation_is_not_served_after_it(store: RedisStore) -> None:
    await keep(store, "c1", entry(b"old"))
    await store.invalidate([subject("polar:customer:c1")])
    assert await found(store, "c1") == {}


async def test_a_read_stamped_after_the_invalidation_is_served(store: RedisStore) -> None:
    await store.invalidate([subject("polar:customer:c1")])
    await keep(store, "c1", entry(b"new"))
    assert await found(store, "c1") == {"c1": b"new"}


async def test_strictly_before_on_redis_microseconds(store: RedisStore, fresh_redis: RedisServer) -> None:
    """A stamp equal to the invalidation's microsecond is not valid; one microsecond later is."""
    await store.invalidate([subject("polar:customer:c1")])
    with raw(fresh_redis) as neighbour:
        at = float(neighbour.get(f"{PREFIX}i:{subject('polar:customer:c1')}") or b"nan")
    await keep(store, "same", entry(b"same", "polar:customer:c1"), Stamp(at))
    await keep(store, "after", entry(b"after", "polar:customer:c1"), Stamp(at + 1))
    assert await found(store, "same", "after") == {"after": b"after"}


async def test_either_subject_invalidates_an_entry_and_others_do_not(store: RedisStore) -> None:
    await keep(store, "both", entry(b"c1", "polar:customer:c1", "polar:external:ext-1"))
    await keep(store, "other", entry(b"c2", "polar:customer:c2"))
    await store.invalidate([subject("polar:external:ext-1")])
    assert await found(store, "both", "other") == {"other": b"c2"}


async def test_an_invalidation_is_remembered_while_an_entry_stamped_before_it_may_live(
    store: RedisStore, fresh_redis: RedisServer
) -> None:
    await store.invalidate([subject("polar:customer:c1")])
    with raw(fresh_redis) as neighbour:
        kept_ms = neighbour.pttl(f"{PREFIX}i:{subject('polar:customer:c1')}")
    assert store.invalidation_ms == int((WINDOW_S + 300.0) * 1000) + 1
    assert (WINDOW_S + 300.0) * 1000 - 10_000 < kept_ms <= store.invalidation_ms


async def test_entries_of_another_epoch_are_ignored(store: RedisStore, fresh_redis: RedisServer) -> None:
    await keep(store, "c1")
    with raw(fresh_redis) as neighbour:
        neighbour.incr(EPOCH)  # another instance recovered from a failed invalidation
    assert await found(store, "c1") == {}
    stamp = await store.stamp()
    assert stamp.epoch == 1
    await keep(store, "c1", entry(b"new epoch"), stamp)
    assert await found(store, "c1") == {"c1": b"new epoch"}


# The write window and the size limit ------------------------------------------------------------------------


async def test_a_write_later_than_the_window_is_dropped_but_trust_is_kept(
    store: RedisStore, fresh_redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    monkeypatch.setattr(redis_store_module, "time", clock)
    stamp = await store.stamp()
    clock.advance(WINDOW_S + 0.5)
    await store.write(CALLER, {name("c1"): entry()}, stamp, True, LIFETIMES)
    assert [key for key in cache_keys(fresh_redis) if key.startswith(f"{PREFIX}e:".encode())] == []
    assert (await store.read(CALLER, [])).trusted


async def test_an_entry_larger_than_max_entry_bytes_is_not_written(store: RedisStore, fresh_redis: RedisServer) -> None:
    header = len(pack(entry(b""), Stamp(0.0)))
    await keep(store, "fits", entry(b"f" * (MAX_ENTRY_BYTES - header)))
    await keep(store, "over", entry(b"o" * (MAX_ENTRY_BYTES - header + 1)))
    await keep(store, "huge", entry(b"h" * (MAX_ENTRY_BYTES * 64)))
    written = [key for key in cache_keys(fresh_redis) if key.startswith(f"{PREFIX}e:".encode())]
    assert written == [f"{PREFIX}e:{CALLER}:{name('fits')}".encode()]
    assert await found(store, "fits", "over", "huge") == {"fits": b"f" * (MAX_ENTRY_BYTES - header)}


# What a neighbour on the same Redis reads ---------------------------------------------------------------------


async def test_no_key_and_no_header_names_a_token_a_customer_or_an_email(
    store: RedisStore, fresh_redis: RedisServer
) -> None:
    seed = build_store()
    customers = [polar_records.read_customer(render.customer(c)) for c in seed.customers.values()][:20]
    customers = [c for c in customers if c.external_id and c.email]
    cache = PolarCache(RecordCache(polar.UPSTREAM, store, NAMES, LIFETIMES))
    await cache.keep_customers(DEMO_TOKEN, await cache.stamp(), {c.id: c for c in customers})
    states = {c.id: polar_records.read_state(render.customer_state(seed, seed.customers[c.id])) for c in customers}
    await cache.keep_states(DEMO_TOKEN, await cache.stamp(), states)
    await cache.written(customers[0].id, customers[0].external_id)
    assert (await cache.customers(DEMO_TOKEN, [customers[1].id], Tally())).hits  # the cache is in use

    secrets = [DEMO_TOKEN] + [text for c in customers for text in (c.id, c.external_id, c.email, c.name) if text]
    kept = cache_keys(fresh_redis)
    assert any(key.startswith(f"{PREFIX}e:".encode()) for key in kept)
    for key, value in kept.items():
        for secret in secrets:
            assert secret.encode() not in key, key
        if key.startswith(f"{PREFIX}e:".encode()):
            assert value is not None
            _at, _epoch, subjects, record = unpack(value)
            header = value[: len(value) - len(record)]
            assert len(header) == _HEADER.size + 32 * len(subjects)
            for secret in secrets:
                assert secret.encode() not in header, key
        elif key.startswith(f"{PREFIX}s:".encode()):  # the entries about a subject: their own keys
            assert value is not None
            for secret in secrets:
                assert secret.encode() not in value, key
        elif key == f"{PREFIX}run".encode():  # Redis's own run_id, as the cache last saw it
            assert value is not None
            assert len(value) == 40
        elif key == f"{PREFIX}names".encode():  # the naming key every instance shares
            assert value is not None
            assert len(value) == 64
        else:  # an invalidation's time, a trust's mark, the epoch
            assert value is not None
            assert value.isdigit(), (key, value)
