"""``MemoryQueryStore``, automatic persisted queries kept in this process: per caller, bounded in bytes (least
recently used out first), each document held once however many callers registered it (a caller's
registration costs a marker), and a document larger than the whole bound held not at all rather than
emptying the store for nothing."""

from __future__ import annotations

import hashlib

import pytest
from prometheus_client import REGISTRY

from gateway.persisted.store import MARKER, OVERHEAD_BYTES, MemoryQueryStore, caller_of

ALICE = caller_of("polar_oat_alice")
BOB = caller_of("polar_oat_bob")
DIGEST_CHARS = 64
DOCUMENT_NAME_CHARS = len("d:") + DIGEST_CHARS
MARKER_NAME_CHARS = len("m:") + 64 + len(":") + DIGEST_CHARS  # m:<keyed scope, hex>:<digest>
MARKER_BYTES = MARKER_NAME_CHARS + len(MARKER) + OVERHEAD_BYTES


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def document_bytes(text: str) -> int:
    return DOCUMENT_NAME_CHARS + len(text.encode()) + OVERHEAD_BYTES


def document(number: int, size: int = 500) -> str:
    """A distinct valid document of about ``size`` characters."""
    head = f"query D{number} {{ "
    fields = ""
    alias = 0
    while len(head) + len(fields) + 2 < size:
        fields += f"a{alias}: __typename "
        alias += 1
    return head + fields + "}"


async def register(store: MemoryQueryStore, caller: str, text: str) -> None:
    await store.put(caller, sha(text), text)


def held_bytes() -> float | None:
    return REGISTRY.get_sample_value("gateway_persisted_query_bytes", {"store": "memory"})


async def test_a_registered_document_is_found_by_its_caller_only() -> None:
    store = MemoryQueryStore(1 << 20)
    text = document(1)
    await register(store, ALICE, text)
    assert await store.get(ALICE, sha(text)) == text
    assert await store.get(BOB, sha(text)) is None
    assert await store.get(ALICE, sha(document(2))) is None


async def test_the_size_counts_the_document_and_the_callers_marker_in_bytes() -> None:
    store = MemoryQueryStore(1 << 20)
    text = 'query Ünïcode { customers(first: 1, query: "øæå") { totalCount } }'
    await register(store, ALICE, text)
    assert store.size == document_bytes(text) + MARKER_BYTES
    assert len(text.encode()) > len(text)  # weighed in bytes, not characters
    assert held_bytes() == store.size


async def test_a_document_is_held_once_for_many_callers() -> None:
    store = MemoryQueryStore(1 << 20)
    text = document(1, size=4000)
    callers = [caller_of(f"polar_oat_caller_{n}") for n in range(50)]
    for caller in callers:
        await register(store, caller, text)
    assert store.size == document_bytes(text) + len(callers) * MARKER_BYTES
    assert store.size < 2 * document_bytes(text) + len(callers) * MARKER_BYTES  # not 50 copies
    for caller in callers:
        assert await store.get(caller, sha(text)) == text


async def test_registering_again_costs_nothing_more() -> None:
    store = MemoryQueryStore(1 << 20)
    text = document(1)
    await register(store, ALICE, text)
    size = store.size
    for _ in range(10):
        await register(store, ALICE, text)
    assert store.size == size


async def test_the_store_stays_within_its_bound_least_recently_used_out_first() -> None:
    max_bytes = 8 * 1024
    store = MemoryQueryStore(max_bytes)
    texts = [document(n) for n in range(100)]  # about 60 KB registered in all
    for number, text in enumerate(texts):
        await register(store, caller_of(f"polar_oat_{number}"), text)
        assert store.size <= max_bytes
    assert held_bytes() == store.size <= max_bytes
    kept = [n for n, text in enumerate(texts) if await store.get(caller_of(f"polar_oat_{n}"), sha(text)) is not None]
    assert kept, "the newest registrations are kept"
    assert kept == list(range(100 - len(kept), 100)), "the oldest went first"
    assert store.size + document_bytes(texts[0]) + MARKER_BYTES > max_bytes  # and no more than needed went


async def test_a_document_used_lately_outlives_older_ones() -> None:
    max_bytes = 8 * 1024
    store = MemoryQueryStore(max_bytes)
    favourite = document(0)
    await register(store, ALICE, favourite)
    for number in range(1, 60):
        assert await store.get(ALICE, sha(favourite)) == favourite  # used before each new registration
        await register(store, BOB, document(number))
        assert store.size <= max_bytes
    assert await store.get(ALICE, sha(favourite)) == favourite
    assert await store.get(BOB, sha(document(1))) is None


async def test_a_caller_whose_document_went_finds_nothing_until_it_registers_again() -> None:
    """The document is shared: when it goes, every caller's marker of it finds nothing (then the client sends
    the document again, as after any miss)."""
    max_bytes = 4 * 1024
    store = MemoryQueryStore(max_bytes)
    text = document(0)
    await register(store, ALICE, text)
    await register(store, BOB, text)
    for number in range(1, 20):
        await register(store, BOB, document(number))
    assert await store.get(ALICE, sha(text)) is None
    await register(store, ALICE, text)
    assert await store.get(ALICE, sha(text)) == text
    assert store.size <= max_bytes


async def test_a_bound_of_zero_holds_nothing() -> None:
    store = MemoryQueryStore(0)
    await register(store, ALICE, document(1))
    assert store.size == 0
    assert await store.get(ALICE, sha(document(1))) is None


@pytest.mark.parametrize("size", [8 * 1024, 20 * 1024])
async def test_a_document_larger_than_the_bound_is_not_held_and_evicts_nothing(size: int) -> None:
    max_bytes = 8 * 1024
    store = MemoryQueryStore(max_bytes)
    kept = [document(n) for n in range(5)]
    for text in kept:
        await register(store, ALICE, text)
    before = store.size
    huge = document(99, size=size)
    await register(store, BOB, huge)
    assert await store.get(BOB, sha(huge)) is None
    assert store.size == before
    for text in kept:
        assert await store.get(ALICE, sha(text)) == text


async def test_the_largest_document_that_fits_is_held() -> None:
    text = document(1, size=2000)
    store = MemoryQueryStore(document_bytes(text) + MARKER_BYTES)
    await register(store, ALICE, text)
    assert await store.get(ALICE, sha(text)) == text
    assert store.size == store.max_bytes


def test_callers_are_digests_that_quote_no_credential() -> None:
    assert caller_of("polar_oat_alice") == hashlib.sha256(b"polar_oat_alice").hexdigest()
    assert caller_of("polar_oat_alice") != caller_of("polar_oat_bob")
    assert "alice" not in caller_of("polar_oat_alice")


async def test_the_marker_names_hold_a_keyed_scope_not_the_callers_digest() -> None:
    """Two processes (two keys) name one caller's markers differently; neither names the caller's digest."""
    one, two = MemoryQueryStore(1 << 20), MemoryQueryStore(1 << 20)
    text = document(1)
    await register(one, ALICE, text)
    await register(two, ALICE, text)
    names = set(one._held) | set(two._held)
    assert not any(ALICE in name for name in names)
    assert len({name for name in names if name.startswith("m:")}) == 2
