"""``PersistedDocuments.resolve``: which document a request runs, decided before anything parses it. Every branch,
on the in-process store: a hash alone (miss, hit), a hash with its document (registered only once ``register``
is called, as the view does after the document ran), a mismatch, per-caller scoping, the manifest by id and by
digest, ``documentId``, ``trusted_only`` (refusing text, hashes and ids it does not hold, accepting identical
text), automatic persisted queries off, and malformed ``persistedQuery`` or ``extensions``."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from prometheus_client import REGISTRY

from gateway.persisted.documents import (
    NOT_FOUND,
    NOT_SUPPORTED,
    PersistedDocuments,
    Refusal,
    Registration,
    Resolved,
)
from gateway.persisted.manifest import Manifest
from gateway.persisted.store import MemoryQueryStore, caller_of

ALICE = caller_of("polar_oat_alice")
BOB = caller_of("polar_oat_bob")
AD_HOC = "query AdHoc { customers(first: 1) { totalCount } }"
TRUSTED = "query Trusted { customers(first: 2) { nodes { id } } }"
TRUSTED_ID = "relay-trusted-1"  # the manifest's own id, as Relay's compiler chooses them
UNPARSABLE = "query { this is not GraphQL (((("


def by(caller: str) -> Callable[[], str]:
    """The caller's digest as the view hands it over: made only when a store is asked."""
    return lambda: caller


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def ext(digest: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


MANIFEST = Manifest({TRUSTED_ID: TRUSTED}, {sha(TRUSTED): TRUSTED})


class RecordingStore(MemoryQueryStore):
    """The in-process store, counting what it is asked (a refusal must not reach it)."""

    def __init__(self, max_bytes: int = 1 << 20) -> None:
        super().__init__(max_bytes)
        self.gets = 0
        self.puts = 0

    async def get(self, caller: str, digest: str) -> str | None:
        self.gets += 1
        return await super().get(caller, digest)

    async def put(self, caller: str, digest: str, text: str) -> None:
        self.puts += 1
        await super().put(caller, digest, text)


class LyingStore(MemoryQueryStore):
    """A store whose bytes are not the document of the hash (a corrupted or tampered Redis)."""

    async def get(self, caller: str, digest: str) -> str | None:
        return "{ __typename }"


@pytest.fixture
def store() -> RecordingStore:
    return RecordingStore()


@pytest.fixture
def apq(store: RecordingStore) -> PersistedDocuments:
    """Automatic persisted queries on, no manifest."""
    return PersistedDocuments(store, None, trusted_only=False)


@pytest.fixture
def with_manifest(store: RecordingStore) -> PersistedDocuments:
    return PersistedDocuments(store, MANIFEST, trusted_only=False)


@pytest.fixture
def trusted_only() -> PersistedDocuments:
    """As the service makes it: no store when only trusted documents run."""
    return PersistedDocuments(None, MANIFEST, trusted_only=True)


def outcome(name: str) -> float:
    return REGISTRY.get_sample_value("gateway_persisted_queries_total", {"outcome": name}) or 0.0


async def refusal(documents: PersistedDocuments, operation: dict[str, Any], caller: str = ALICE) -> Refusal:
    with pytest.raises(Refusal) as refused:
        await documents.resolve(operation, by(caller))
    return refused.value


# A plain request ----------------------------------------------------------------------------------------


async def test_a_document_without_a_hash_runs_as_sent_and_is_not_registered(
    apq: PersistedDocuments, store: RecordingStore
) -> None:
    assert await apq.resolve({"query": AD_HOC}, by(ALICE)) == Resolved(AD_HOC)
    assert await apq.resolve({"query": AD_HOC, "extensions": None}, by(ALICE)) == Resolved(AD_HOC)
    assert await apq.resolve({"query": AD_HOC, "extensions": {"tracing": True}}, by(ALICE)) == Resolved(AD_HOC)
    assert (store.gets, store.puts) == (0, 0)


async def test_no_document_at_all_is_left_for_strawberry_to_answer(apq: PersistedDocuments) -> None:
    assert await apq.resolve({}, by(ALICE)) == Resolved(None)


# Automatic persisted queries ------------------------------------------------------------------------------


async def test_an_unknown_hash_alone_is_persisted_query_not_found(
    apq: PersistedDocuments, store: RecordingStore
) -> None:
    misses = outcome("miss")
    refused = await refusal(apq, {"extensions": ext(sha(AD_HOC))})
    assert (refused.status, refused.code, refused.message, refused.malformed) == (
        404, "PERSISTED_QUERY_NOT_FOUND", NOT_FOUND, False
    )  # fmt: skip
    assert store.gets == 1
    assert outcome("miss") == misses + 1


async def test_a_hash_with_its_document_is_registered_only_once_it_ran(
    apq: PersistedDocuments, store: RecordingStore
) -> None:
    resolved = await apq.resolve({"query": AD_HOC, "extensions": ext(sha(AD_HOC))}, by(ALICE))
    assert resolved == Resolved(AD_HOC, Registration(ALICE, sha(AD_HOC), AD_HOC))
    assert store.puts == 0
    assert (await refusal(apq, {"extensions": ext(sha(AD_HOC))})).code == "PERSISTED_QUERY_NOT_FOUND"

    registered, hits = outcome("registered"), outcome("hit")
    assert resolved.register is not None
    await apq.register(resolved.register)
    assert outcome("registered") == registered + 1
    assert await apq.resolve({"extensions": ext(sha(AD_HOC))}, by(ALICE)) == Resolved(AD_HOC)
    assert outcome("hit") == hits + 1


async def test_a_hash_that_is_not_the_documents_is_refused_and_nothing_is_registered(
    apq: PersistedDocuments, store: RecordingStore
) -> None:
    refused_before = outcome("refused")
    for digest in (sha(AD_HOC + " "), sha(TRUSTED), "0" * 64, sha(AD_HOC).upper()):
        refused = await refusal(apq, {"query": AD_HOC, "extensions": ext(digest)})
        assert (refused.status, refused.code, refused.malformed) == (400, "PERSISTED_QUERY_HASH_MISMATCH", False)
    assert outcome("refused") == refused_before + 4
    assert (store.puts, store.size) == (0, 0)
    assert (await refusal(apq, {"extensions": ext(sha(AD_HOC))})).code == "PERSISTED_QUERY_NOT_FOUND"


async def test_a_hash_runs_only_for_the_caller_that_registered_it(apq: PersistedDocuments) -> None:
    resolved = await apq.resolve({"query": AD_HOC, "extensions": ext(sha(AD_HOC))}, by(ALICE))
    assert resolved.register is not None
    await apq.register(resolved.register)
    assert (await apq.resolve({"extensions": ext(sha(AD_HOC))}, by(ALICE))).query == AD_HOC
    assert (await refusal(apq, {"extensions": ext(sha(AD_HOC))}, BOB)).code == "PERSISTED_QUERY_NOT_FOUND"
    anonymous = caller_of("\n\n\n")  # the view's caller for a request with no credentials at all
    assert (await refusal(apq, {"extensions": ext(sha(AD_HOC))}, anonymous)).code == "PERSISTED_QUERY_NOT_FOUND"

    resolved = await apq.resolve({"query": AD_HOC, "extensions": ext(sha(AD_HOC))}, by(BOB))
    assert resolved == Resolved(AD_HOC, Registration(BOB, sha(AD_HOC), AD_HOC))
    assert resolved.register is not None
    await apq.register(resolved.register)
    assert (await apq.resolve({"extensions": ext(sha(AD_HOC))}, by(BOB))).query == AD_HOC


@pytest.mark.parametrize("digest", ["abc", "sha256:" + "a" * 64, "A" * 64, "a" * 63, "g" * 64])
async def test_a_hash_that_cannot_be_a_sha256_is_a_miss_without_asking_the_store(
    apq: PersistedDocuments, store: RecordingStore, digest: str
) -> None:
    assert (await refusal(apq, {"extensions": ext(digest)})).code == "PERSISTED_QUERY_NOT_FOUND"
    assert store.gets == 0


async def test_bytes_from_the_store_that_are_not_the_hashs_document_are_a_miss() -> None:
    documents = PersistedDocuments(LyingStore(1 << 20), None, trusted_only=False)
    assert (await refusal(documents, {"extensions": ext(sha(AD_HOC))})).code == "PERSISTED_QUERY_NOT_FOUND"


async def test_with_automatic_persisted_queries_off_a_hash_alone_is_not_supported() -> None:
    off = PersistedDocuments(None, None, trusted_only=False)
    refused = await refusal(off, {"extensions": ext(sha(AD_HOC))})
    assert (refused.status, refused.code, refused.message, refused.malformed) == (
        400, "PERSISTED_QUERY_NOT_SUPPORTED", NOT_SUPPORTED, False
    )  # fmt: skip
    # A document sent with its hash still runs (its hash checked), with nothing to register.
    assert await off.resolve({"query": AD_HOC, "extensions": ext(sha(AD_HOC))}, by(ALICE)) == Resolved(AD_HOC)
    assert (await refusal(off, {"query": AD_HOC, "extensions": ext(sha(TRUSTED))})).code == (
        "PERSISTED_QUERY_HASH_MISMATCH"
    )
    await off.register(Registration(ALICE, sha(AD_HOC), AD_HOC))  # no store: nothing happens, no error


async def test_with_automatic_persisted_queries_off_the_manifest_still_answers_by_hash() -> None:
    off = PersistedDocuments(None, MANIFEST, trusted_only=False)
    assert await off.resolve({"extensions": ext(sha(TRUSTED))}, by(ALICE)) == Resolved(TRUSTED)
    assert (await refusal(off, {"extensions": ext(sha(AD_HOC))})).code == "PERSISTED_QUERY_NOT_SUPPORTED"


# The manifest ------------------------------------------------------------------------------------------------


async def test_the_manifest_answers_a_hash_alone_by_digest_and_by_id_for_any_caller(
    with_manifest: PersistedDocuments, store: RecordingStore
) -> None:
    trusted = outcome("trusted")
    for caller in (ALICE, BOB):
        assert await with_manifest.resolve({"extensions": ext(sha(TRUSTED))}, by(caller)) == Resolved(TRUSTED)
        assert await with_manifest.resolve({"extensions": ext(TRUSTED_ID)}, by(caller)) == Resolved(TRUSTED)
    assert outcome("trusted") == trusted + 4
    assert store.gets == 0


async def test_a_manifest_document_sent_with_its_hash_or_id_is_not_registered(
    with_manifest: PersistedDocuments, store: RecordingStore
) -> None:
    assert await with_manifest.resolve({"query": TRUSTED, "extensions": ext(sha(TRUSTED))}, by(ALICE)) == Resolved(TRUSTED)
    assert await with_manifest.resolve({"query": TRUSTED, "extensions": ext(TRUSTED_ID)}, by(ALICE)) == Resolved(TRUSTED)
    # Another text under the manifest's id is neither that document nor the hash of its own text.
    refused = await refusal(with_manifest, {"query": AD_HOC, "extensions": ext(TRUSTED_ID)})
    assert refused.code == "PERSISTED_QUERY_HASH_MISMATCH"
    assert store.puts == 0


async def test_beside_a_manifest_other_documents_still_register(with_manifest: PersistedDocuments) -> None:
    resolved = await with_manifest.resolve({"query": AD_HOC, "extensions": ext(sha(AD_HOC))}, by(ALICE))
    assert resolved == Resolved(AD_HOC, Registration(ALICE, sha(AD_HOC), AD_HOC))
    assert await with_manifest.resolve({"query": AD_HOC}, by(ALICE)) == Resolved(AD_HOC)


async def test_a_document_id_is_looked_up_in_the_manifest(with_manifest: PersistedDocuments) -> None:
    assert await with_manifest.resolve({"documentId": TRUSTED_ID}, by(ALICE)) == Resolved(TRUSTED)
    assert await with_manifest.resolve({"documentId": sha(TRUSTED)}, by(BOB)) == Resolved(TRUSTED)
    refused = await refusal(with_manifest, {"documentId": "relay-unknown"})
    assert (refused.status, refused.code, refused.malformed) == (404, "PERSISTED_QUERY_NOT_FOUND", False)


async def test_a_document_id_is_not_an_automatic_persisted_query(apq: PersistedDocuments) -> None:
    """Without a manifest nothing has a documentId, whatever was registered."""
    resolved = await apq.resolve({"query": AD_HOC, "extensions": ext(sha(AD_HOC))}, by(ALICE))
    assert resolved.register is not None
    await apq.register(resolved.register)
    assert (await refusal(apq, {"documentId": sha(AD_HOC)})).code == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize(
    "operation",
    [
        {"documentId": TRUSTED_ID, "query": TRUSTED},
        {"documentId": TRUSTED_ID, "extensions": ext(sha(TRUSTED))},
        {"documentId": 12345},
        {"documentId": ["relay-trusted-1"]},
        {"documentId": ""},
        {"documentId": "a" * 201},
        {"documentId": "has spaces"},
        {"documentId": "line\nbreak"},
    ],
    ids=["with-query", "with-hash", "number", "list", "empty", "201-chars", "spaces", "newline"],
)
async def test_a_malformed_document_id_is_a_bad_request(
    with_manifest: PersistedDocuments, operation: dict[str, Any]
) -> None:
    refused = await refusal(with_manifest, operation)
    assert (refused.status, refused.code, refused.malformed) == (400, "BAD_PERSISTED_QUERY", True)


# trusted_documents_only ------------------------------------------------------------------------------------


async def test_trusted_only_runs_the_manifests_documents_by_text_hash_id_and_document_id(
    trusted_only: PersistedDocuments,
) -> None:
    for operation in (
        {"query": TRUSTED},
        {"extensions": ext(sha(TRUSTED))},
        {"extensions": ext(TRUSTED_ID)},
        {"query": TRUSTED, "extensions": ext(sha(TRUSTED))},
        {"query": TRUSTED, "extensions": ext(TRUSTED_ID)},
        {"documentId": TRUSTED_ID},
        {"documentId": sha(TRUSTED)},
    ):
        assert await trusted_only.resolve(operation, by(ALICE)) == Resolved(TRUSTED), operation


@pytest.mark.parametrize(
    "operation",
    [
        {"query": AD_HOC},
        {"query": TRUSTED + " "},
        {"query": TRUSTED.replace("2", "3")},
        {"query": UNPARSABLE},
        {"query": "x" * 90_000},
        {"query": ""},
        {"extensions": ext(sha(AD_HOC))},
        {"extensions": ext("relay-unknown")},
        {"query": AD_HOC, "extensions": ext(sha(AD_HOC))},
        {"query": AD_HOC, "extensions": ext(TRUSTED_ID)},
        {"query": UNPARSABLE, "extensions": ext(sha(UNPARSABLE))},
        {"documentId": "relay-unknown"},
        {"documentId": sha(AD_HOC)},
    ],
    ids=[
        "ad-hoc", "trailing-space", "other-argument", "unparsable", "huge", "empty", "unknown-hash",
        "unknown-id", "ad-hoc-with-its-hash", "ad-hoc-under-a-trusted-id", "unparsable-with-its-hash",
        "unknown-document-id", "document-id-of-ad-hoc",
    ],
)  # fmt: skip
async def test_trusted_only_refuses_any_other_document(
    trusted_only: PersistedDocuments, operation: dict[str, Any]
) -> None:
    refused_before = outcome("refused")
    refused = await refusal(trusted_only, operation)
    assert (refused.status, refused.code, refused.malformed) == (403, "DOCUMENT_NOT_TRUSTED", False)
    assert "trusted_documents_only" in refused.message
    assert outcome("refused") == refused_before + 1


async def test_trusted_only_registers_nothing_even_with_a_store(store: RecordingStore) -> None:
    documents = PersistedDocuments(store, MANIFEST, trusted_only=True)
    assert await documents.resolve({"query": TRUSTED, "extensions": ext(sha(TRUSTED))}, by(ALICE)) == Resolved(TRUSTED)
    assert (await refusal(documents, {"query": AD_HOC, "extensions": ext(sha(AD_HOC))})).code == (
        "DOCUMENT_NOT_TRUSTED"
    )
    assert (await refusal(documents, {"extensions": ext(sha(AD_HOC))})).code == "DOCUMENT_NOT_TRUSTED"
    assert (store.gets, store.puts) == (0, 0)


async def test_trusted_only_still_leaves_a_request_without_a_document_to_strawberry(
    trusted_only: PersistedDocuments,
) -> None:
    assert await trusted_only.resolve({}, by(ALICE)) == Resolved(None)


# Malformed persistedQuery and extensions -------------------------------------------------------------------


@pytest.mark.parametrize(
    "extensions",
    [
        "persistedQuery",
        ["persistedQuery"],
        42,
        {"persistedQuery": "a" * 64},
        {"persistedQuery": ["a" * 64]},
        {"persistedQuery": {"sha256Hash": "a" * 64}},
        {"persistedQuery": {"version": 2, "sha256Hash": "a" * 64}},
        {"persistedQuery": {"version": "1", "sha256Hash": "a" * 64}},
        {"persistedQuery": {"version": 1}},
        {"persistedQuery": {"version": 1, "sha256Hash": 1234}},
        {"persistedQuery": {"version": 1, "sha256Hash": None}},
        {"persistedQuery": {"version": 1, "sha256Hash": ""}},
        {"persistedQuery": {"version": 1, "sha256Hash": "a" * 201}},
        {"persistedQuery": {"version": 1, "sha256Hash": "a b"}},
        {"persistedQuery": {"version": 1, "sha256Hash": "a\n" * 40}},
    ],
    ids=[
        "extensions-text", "extensions-list", "extensions-number", "reference-text", "reference-list",
        "no-version", "version-2", "version-text", "no-hash", "hash-number", "hash-null", "hash-empty",
        "hash-201-chars", "hash-space", "hash-newlines",
    ],
)  # fmt: skip
@pytest.mark.parametrize("with_query", [False, True])
async def test_a_malformed_persisted_query_is_a_bad_request_before_any_store_call(
    apq: PersistedDocuments, store: RecordingStore, extensions: object, with_query: bool
) -> None:
    operation: dict[str, Any] = {"extensions": extensions}
    if with_query:
        operation["query"] = AD_HOC
    refused = await refusal(apq, operation)
    assert (refused.status, refused.code, refused.malformed) == (400, "BAD_PERSISTED_QUERY", True)
    assert (store.gets, store.puts) == (0, 0)


async def test_a_malformed_persisted_query_is_refused_before_the_manifest_is_asked(
    trusted_only: PersistedDocuments,
) -> None:
    """Even for a trusted document: the request is malformed, not untrusted."""
    bad = {"persistedQuery": {"version": 2, "sha256Hash": sha(TRUSTED)}}
    assert (await refusal(trusted_only, {"query": TRUSTED, "extensions": bad})).code == "BAD_PERSISTED_QUERY"


async def test_the_callers_digest_is_made_only_when_a_store_is_asked() -> None:
    """Every POST goes through ``resolve``: one without a persisted query must not pay for hashing credentials."""

    def never() -> str:
        raise AssertionError("the caller's digest was made")

    documents = PersistedDocuments(MemoryQueryStore(1 << 20), None, trusted_only=False)
    assert await documents.resolve({"query": AD_HOC}, never) == Resolved(AD_HOC)
    assert await documents.resolve({"query": AD_HOC, "extensions": {"tracing": True}}, never) == Resolved(AD_HOC)
    with pytest.raises(AssertionError, match="digest was made"):
        await documents.resolve({"extensions": ext(sha(AD_HOC))}, never)


async def test_a_caller_without_credentials_costs_the_store_no_lookup() -> None:
    """Only callers with credentials an upstream accepted register, so a hash alone from a caller without any is
    not found without asking the store."""

    class Counting(MemoryQueryStore):
        asked = 0

        async def get(self, caller: str, digest: str) -> str | None:
            Counting.asked += 1
            return await super().get(caller, digest)

    store = Counting(1 << 20)
    await store.put(ALICE, sha(AD_HOC), AD_HOC)
    documents = PersistedDocuments(store, None, trusted_only=False)
    with pytest.raises(Refusal) as refused:
        await documents.resolve({"extensions": ext(sha(AD_HOC))}, by(ALICE), with_credentials=lambda: False)
    assert refused.value.code == "PERSISTED_QUERY_NOT_FOUND"
    assert Counting.asked == 0
    resolved = await documents.resolve({"extensions": ext(sha(AD_HOC))}, by(ALICE), with_credentials=lambda: True)
    assert resolved == Resolved(AD_HOC)
    assert Counting.asked == 1
