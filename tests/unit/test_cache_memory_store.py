"""``MemoryStore``, the cache in this process: hits and misses, TTL, the LRU bound in bytes, the race rule (an
entry is valid only if every subject's last invalidation is strictly before its stamp), trust, the memory of
invalidations and its flood guard, and the write window. Its clock is moved by the test (``Clock``), never
waited for."""

from __future__ import annotations

import tracemalloc

import pytest

from gateway.cache import store as store_module
from gateway.cache.store import ENTRY_OVERHEAD_BYTES, Entry, Lifetimes, MemoryStore, Stamp
from tests.unit.cache_helpers import (
    CALLER,
    LIFETIMES,
    LONGEST_TTL_S,
    OTHER_CALLER,
    WINDOW_S,
    Clock,
    entry,
    name,
    subject,
)

MAX_BYTES = 64 * 1024
MAX_ENTRY_BYTES = 4 * 1024


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    moved = Clock()
    monkeypatch.setattr(store_module, "time", moved)  # the module's ``time.monotonic()`` calls only
    return moved


@pytest.fixture
def store(clock: Clock) -> MemoryStore:
    return MemoryStore(MAX_BYTES, MAX_ENTRY_BYTES, WINDOW_S, LONGEST_TTL_S)


def _stamp(clock: Clock) -> Stamp:
    """A stamp on the moved clock, ``taken_at`` included (``store.stamp`` leaves that on the real one)."""
    now = clock.monotonic()
    return Stamp(now, taken_at=now)


async def _keep(store: MemoryStore, key: str, kept: Entry, stamp: Stamp | None = None, caller: str = CALLER) -> None:
    await store.write(caller, {name(key): kept}, stamp or await store.stamp(), True, LIFETIMES)


async def _found(store: MemoryStore, *keys: str, caller: str = CALLER) -> dict[str, bytes]:
    names = {name(key): key for key in keys}
    reading = await store.read(caller, list(names))
    return {names[found]: record for found, record in reading.found.items()}


# Hits, misses, callers ---------------------------------------------------------------------------


async def test_an_entry_is_served_to_its_caller_and_an_unknown_one_is_a_miss(store: MemoryStore) -> None:
    await _keep(store, "c1", entry(b"one"))
    assert await _found(store, "c1", "c2") == {"c1": b"one"}
    reading = await store.read(CALLER, [name("c2")])
    assert reading.trusted
    assert reading.found == {}


async def test_a_newer_write_replaces_the_entry_and_its_bytes(store: MemoryStore) -> None:
    await _keep(store, "c1", entry(b"one"))
    held = store.bytes_held()
    await _keep(store, "c1", entry(b"two"))
    assert await _found(store, "c1") == {"c1": b"two"}
    assert store.bytes_held() == held  # replaced, not counted twice


async def test_another_callers_entries_are_never_served(store: MemoryStore) -> None:
    await _keep(store, "c1", entry(b"secret of A"))
    await store.write(OTHER_CALLER, {}, await store.stamp(), True, LIFETIMES)  # B is trusted too
    reading = await store.read(OTHER_CALLER, [name("c1")])
    assert reading.trusted
    assert reading.found == {}


async def test_an_untrusted_caller_gets_nothing_even_of_its_own_entries(store: MemoryStore) -> None:
    await store.write(CALLER, {name("c1"): entry()}, await store.stamp(), False, LIFETIMES)
    reading = await store.read(CALLER, [name("c1")])
    assert not reading.trusted
    assert reading.found == {}
    assert store.bytes_held() != 0  # kept: served once the upstream accepts the caller
    await store.write(CALLER, {}, await store.stamp(), True, LIFETIMES)
    assert await _found(store, "c1") == {"c1": b'{"id":"c1"}'}


async def test_a_caller_never_accepted_is_not_trusted(store: MemoryStore) -> None:
    reading = await store.read(CALLER, [name("c1")])
    assert (reading.trusted, reading.found) == (False, {})


# Lifetimes ---------------------------------------------------------------------------------------


async def test_an_entry_ends_with_its_ttl(store: MemoryStore, clock: Clock) -> None:
    short = Lifetimes(ttl_s=30.0, trust_s=3600.0)
    await store.write(CALLER, {name("c1"): entry()}, await store.stamp(), True, short)
    clock.advance(29.0)
    assert await _found(store, "c1") == {"c1": b'{"id":"c1"}'}
    clock.advance(1.5)
    assert await _found(store, "c1") == {}
    assert store.bytes_held() == 0  # dropped when found expired


async def test_trust_ends_after_trust_s_and_comes_back_with_an_acceptance(store: MemoryStore, clock: Clock) -> None:
    lifetimes = Lifetimes(ttl_s=3600.0, trust_s=60.0)
    await store.write(CALLER, {name("c1"): entry()}, await store.stamp(), True, lifetimes)
    clock.advance(59.0)
    assert (await store.read(CALLER, [name("c1")])).trusted
    clock.advance(1.5)
    reading = await store.read(CALLER, [name("c1")])
    assert (reading.trusted, reading.found) == (False, {})
    await store.write(CALLER, {}, _stamp(clock), True, lifetimes)  # the upstream accepted the token again
    assert await _found(store, "c1") == {"c1": b'{"id":"c1"}'}


async def test_distrust_ends_service_at_once(store: MemoryStore) -> None:
    await _keep(store, "c1", entry())
    await store.distrust(CALLER)
    reading = await store.read(CALLER, [name("c1")])
    assert (reading.trusted, reading.found) == (False, {})
    await store.distrust(OTHER_CALLER)  # a caller never trusted: nothing to do, no error


async def test_trust_is_remembered_for_a_bounded_number_of_callers(
    store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "MAX_CALLERS_TRUSTED", 10)
    for n in range(10):
        await store.write(f"caller-{n}", {}, await store.stamp(), True, LIFETIMES)
    await store.write("caller-0", {}, await store.stamp(), True, LIFETIMES)  # used lately: kept
    await store.write("caller-10", {}, await store.stamp(), True, LIFETIMES)
    assert len(store._trusted) == 10
    assert (await store.read("caller-1", [])).trusted is False  # the least lately accepted went
    assert (await store.read("caller-0", [])).trusted
    assert (await store.read("caller-10", [])).trusted


# The bound in bytes -------------------------------------------------------------------------------


async def test_many_entries_stay_within_max_bytes_least_recently_used_out_first(store: MemoryStore) -> None:
    """The attack's shape: a caller fills the store with far more than it holds."""
    record = b"x" * 900
    for n in range(2_000):
        await _keep(store, f"c{n}", entry(record, f"polar:customer:c{n}"))
        held = store.bytes_held()
        assert held is not None
        assert held <= MAX_BYTES
    assert sum(held.size for held in store._entries.values()) == store.bytes_held()
    assert await _found(store, "c0", "c1") == {}  # the first ones went
    assert await _found(store, "c1999") == {"c1999": record}
    kept = [key for key in (f"c{n}" for n in range(2_000)) if await _found(store, key)]
    assert 10 < len(kept) < 2_000


async def test_a_read_keeps_an_entry_from_being_evicted(store: MemoryStore) -> None:
    record = b"x" * 900
    await _keep(store, "hot", entry(record, "polar:customer:hot"))
    for n in range(500):
        assert await _found(store, "hot") == {"hot": record}  # read between every write: most recently used
        await _keep(store, f"c{n}", entry(record, f"polar:customer:c{n}"))
    assert await _found(store, "hot") == {"hot": record}


async def test_an_entry_over_max_entry_bytes_is_refused_and_evicts_nothing(store: MemoryStore) -> None:
    await _keep(store, "small", entry(b"s"))
    held = store.bytes_held()
    for size in (MAX_ENTRY_BYTES, MAX_ENTRY_BYTES * 10, MAX_BYTES * 2):
        await _keep(store, f"huge-{size}", entry(b"h" * size, "polar:customer:huge"))
    assert store.bytes_held() == held
    assert await _found(store, "small", f"huge-{MAX_ENTRY_BYTES}") == {"small": b"s"}


async def test_the_size_limit_counts_the_key_the_subjects_and_the_overhead(store: MemoryStore) -> None:
    fits = MAX_ENTRY_BYTES - ENTRY_OVERHEAD_BYTES - len(f"{CALLER}:{name('edge')}") - 32
    await _keep(store, "edge", entry(b"e" * fits))
    assert await _found(store, "edge") == {"edge": b"e" * fits}
    await _keep(store, "over", entry(b"e" * (fits + 1)))
    assert await _found(store, "over") == {}


async def test_max_bytes_zero_keeps_nothing(clock: Clock) -> None:
    store = MemoryStore(0, MAX_ENTRY_BYTES, WINDOW_S, LONGEST_TTL_S)
    await _keep(store, "c1", entry())
    assert await _found(store, "c1") == {}
    assert store.bytes_held() == 0


# The race rule -----------------------------------------------------------------------------------


async def test_a_read_stamped_before_an_invalidation_and_written_after_it_is_never_served(
    store: MemoryStore,
) -> None:
    stamp = await store.stamp()  # the read begins: old data is on its way
    await store.invalidate([subject("polar:customer:c1")])  # the change lands meanwhile
    await _keep(store, "c1", entry(b"old"), stamp)
    assert await _found(store, "c1") == {}


async def test_an_entry_written_before_an_invalidation_is_not_served_after_it(store: MemoryStore) -> None:
    await _keep(store, "c1", entry(b"old"))
    await store.invalidate([subject("polar:customer:c1")])
    assert await _found(store, "c1") == {}
    assert store.bytes_held() == 0  # dropped when found stale


async def test_a_read_stamped_after_the_invalidation_is_served(store: MemoryStore, clock: Clock) -> None:
    await store.invalidate([subject("polar:customer:c1")])
    clock.advance(0.001)
    await _keep(store, "c1", entry(b"new"))
    assert await _found(store, "c1") == {"c1": b"new"}


async def test_a_stamp_equal_to_the_invalidation_is_not_valid(store: MemoryStore, clock: Clock) -> None:
    """Strictly before: a read stamped at the very instant of the invalidation may have raced it."""
    clock.freeze()
    stamp = await store.stamp()
    await store.invalidate([subject("polar:customer:c1")])
    await _keep(store, "c1", entry(b"raced"), stamp)
    assert await _found(store, "c1") == {}
    clock.advance(0.001)
    await _keep(store, "c1", entry(b"after"), Stamp(clock.monotonic(), taken_at=stamp.taken_at))
    assert await _found(store, "c1") == {"c1": b"after"}


async def test_any_one_subject_of_an_entry_invalidates_it_and_others_do_not(store: MemoryStore) -> None:
    both = ("polar:customer:c1", "polar:external:ext-1")
    await _keep(store, "by-id", entry(b"c1", *both))
    await _keep(store, "other", entry(b"c2", "polar:customer:c2"))
    await store.invalidate([subject("polar:external:ext-1")])
    assert await _found(store, "by-id", "other") == {"other": b"c2"}


async def test_an_invalidation_reaches_every_callers_entries(store: MemoryStore) -> None:
    await _keep(store, "c1", entry(b"a"))
    await _keep(store, "c1", entry(b"b"), caller=OTHER_CALLER)
    await store.invalidate([subject("polar:customer:c1")])
    assert await _found(store, "c1") == {}
    assert await _found(store, "c1", caller=OTHER_CALLER) == {}


# The write window and the memory of invalidations ------------------------------------------------------


async def test_a_write_later_than_the_window_is_dropped_but_trust_is_kept(store: MemoryStore, clock: Clock) -> None:
    stamp = _stamp(clock)
    clock.advance(WINDOW_S + 0.5)
    await store.write(CALLER, {name("c1"): entry()}, stamp, True, LIFETIMES)
    reading = await store.read(CALLER, [name("c1")])
    assert reading.trusted  # the answer was fresh: the caller's token was accepted
    assert reading.found == {}
    assert store.bytes_held() == 0


async def test_a_write_within_the_window_is_kept(store: MemoryStore, clock: Clock) -> None:
    stamp = _stamp(clock)
    clock.advance(WINDOW_S - 0.5)
    await store.write(CALLER, {name("c1"): entry()}, stamp, True, LIFETIMES)
    assert await _found(store, "c1") == {"c1": b'{"id":"c1"}'}


async def test_invalidations_are_forgotten_past_the_horizon(store: MemoryStore, clock: Clock) -> None:
    assert store.invalidation_horizon_s == WINDOW_S + LONGEST_TTL_S
    await store.invalidate([subject("polar:customer:old")])
    clock.advance(store.invalidation_horizon_s - 1)
    await store.invalidate([subject("polar:customer:recent")])
    assert subject("polar:customer:old") in store._invalidated  # still within the horizon
    clock.advance(2)
    await store.invalidate([subject("polar:customer:newest")])
    assert subject("polar:customer:old") not in store._invalidated
    assert list(store._invalidated) == [subject("polar:customer:recent"), subject("polar:customer:newest")]


async def test_an_entry_that_could_outlive_a_forgotten_invalidation_is_never_written(
    store: MemoryStore, clock: Clock
) -> None:
    """Forgetting is safe: a read stamped before the invalidation cannot be written once it is forgotten."""
    stamp = _stamp(clock)
    await store.invalidate([subject("polar:customer:c1")])
    clock.advance(store.invalidation_horizon_s + 1)
    await store.invalidate([subject("polar:customer:other")])  # prunes c1's
    assert subject("polar:customer:c1") not in store._invalidated
    await store.write(CALLER, {name("c1"): entry(b"old")}, stamp, True, LIFETIMES)
    assert await _found(store, "c1") == {}


async def test_a_flood_of_invalidations_drops_everything(store: MemoryStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.max_invalidations = 100
    await _keep(store, "unrelated", entry(b"u", "polar:customer:unrelated"))
    await store.invalidate([subject(f"polar:customer:f{n}") for n in range(100)])
    assert await _found(store, "unrelated") == {"unrelated": b"u"}  # at the limit: nothing dropped yet
    await store.invalidate([subject("polar:customer:one-more")])
    assert store._invalidated == {}
    assert store.bytes_held() == 0
    assert await _found(store, "unrelated") == {}


# Found by the attacker's review (these fail while the problems are there) -----------------------------------


async def test_a_flood_of_invalidations_lets_no_read_begun_before_it_write_what_it_read(
    store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The flood guard forgets every invalidation, including the ones that in-flight reads must still be
    checked against: a read stamped before a change, and written after the flood, is served as fresh. An
    anonymous caller can cause the flood (``tests/cache_attacks``)."""
    store.max_invalidations = 100
    stamp = await store.stamp()  # a victim's read begins
    await store.invalidate([subject("polar:customer:c1")])  # the customer changes
    await store.invalidate([subject(f"polar:customer:flood-{n}") for n in range(101)])  # the flood
    await _keep(store, "c1", entry(b"before the change"), stamp)  # the victim's read ends
    assert await _found(store, "c1") == {}


async def test_an_invalidated_entry_is_not_held_after_the_invalidation(store: MemoryStore) -> None:
    """Erasure: once the customer's subjects are invalidated, its personal data is no longer in the
    process. It is only dropped when read again or pushed out by newer entries, which may be never."""
    await _keep(store, "c1", entry(b'{"email":"erased@example.com"}'))
    await store.invalidate([subject("polar:customer:c1")])
    assert store.bytes_held() == 0
    assert not any(b"erased@example.com" in held.record for held in store._entries.values())


async def test_an_expired_entry_is_not_held_long_past_its_ttl(store: MemoryStore, clock: Clock) -> None:
    """Expired entries stay in memory, with their personal data, until read or evicted: another caller's
    writes and invalidations go on, and the expired one is still there a day later."""
    await store.write(CALLER, {name("c1"): entry(b'{"email":"gone@example.com"}')}, await store.stamp(), True,
                      Lifetimes(ttl_s=60.0, trust_s=60.0))  # fmt: skip
    for hour in range(24):
        clock.advance(3600)
        await store.write(OTHER_CALLER, {name(f"o{hour}"): entry(b"o", f"polar:customer:o{hour}")}, _stamp(clock),
                          True, LIFETIMES)  # fmt: skip
        await store.invalidate([subject(f"polar:customer:x{hour}")])
    assert not any(b"gone@example.com" in held.record for held in store._entries.values())


async def test_a_refusal_is_not_undone_by_an_acceptance_read_before_it(store: MemoryStore) -> None:
    """A 401 ends a caller's trust at once (``distrust``); an answer to a read that was sent before the token
    was revoked, arriving after the 401, makes it trusted again for ``trust_s``."""
    await _keep(store, "c1", entry())
    stamp = await store.stamp()  # a slow read is sent while the token is still valid
    await store.distrust(CALLER)  # the token is revoked: another request got a 401
    await store.write(CALLER, {}, stamp, True, LIFETIMES)  # the slow read's answer arrives
    reading = await store.read(CALLER, [name("c1")])
    assert (reading.trusted, reading.found) == (False, {})


async def test_the_memory_of_invalidations_stays_within_the_stores_bound(clock: Clock) -> None:
    """``cache_max_bytes`` bounds entries only: each invalidation remembered (up to a million, for the
    TTL plus the window) costs memory outside it, and a caller without a valid token can make them
    (``tests/cache_attacks``)."""
    store = MemoryStore(MAX_BYTES, MAX_ENTRY_BYTES, WINDOW_S, LONGEST_TTL_S)
    subjects = [subject(f"polar:external:made-up-{n}") for n in range(20_000)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for each in subjects:
            await store.invalidate([each])
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held <= MAX_BYTES, f"{held} bytes of invalidations for a store of {MAX_BYTES}"
