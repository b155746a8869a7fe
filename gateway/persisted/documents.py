"""Which document a request runs, before anything parses it: its text, a hash it registered earlier
(automatic persisted queries, Apollo's protocol), or an id of the trusted-documents manifest; and, with
``trusted_documents_only``, a refusal for any document the manifest does not hold, by id or by text.

Apollo's protocol: ``extensions.persistedQuery {version: 1, sha256Hash}``, with or without ``query``. A hash
alone that is not known answers ``PersistedQueryNotFound`` (code ``PERSISTED_QUERY_NOT_FOUND``) and the
client sends it again with the document, whose SHA-256 must be the hash; once it ran (it parsed and
validated), the hash is registered for that caller. Relay and the GraphQL-over-HTTP draft send
``documentId``, looked up in the manifest only."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..observability.metrics import PERSISTED_QUERIES
from .manifest import Manifest, sha256_hex
from .store import QueryStore

_SHA256 = re.compile(r"[0-9a-f]{64}")
_ID = re.compile(r"[A-Za-z0-9_.:/+=-]{1,200}")  # a manifest's ids: hashes, sometimes prefixed (sha256:...)
NOT_FOUND = "PersistedQueryNotFound"
NOT_SUPPORTED = "PersistedQueryNotSupported"


@dataclass
class Refusal(Exception):
    """Why a request's document cannot run. ``status`` is for clients that accept
    ``application/graphql-response+json``; under ``application/json`` a request that was well formed is
    answered 200, as GraphQL over HTTP says (``malformed`` ones are 400 either way)."""

    status: int
    code: str
    message: str
    malformed: bool = False


def not_trusted() -> Refusal:
    return Refusal(403, "DOCUMENT_NOT_TRUSTED", "Only trusted documents run here (setting trusted_documents_only): "
                   "this one is not in the manifest.")  # fmt: skip


def _malformed(message: str) -> Refusal:
    return Refusal(400, "BAD_PERSISTED_QUERY", message, malformed=True)


@dataclass(frozen=True)
class Registration:
    caller: str
    digest: str
    text: str


@dataclass(frozen=True)
class Resolved:
    query: str | None  # None: the request sent no document at all (answered as Strawberry does)
    register: Registration | None = None  # registered once the document ran


class PersistedDocuments:
    def __init__(self, store: QueryStore | None, manifest: Manifest | None, trusted_only: bool) -> None:
        self.store = store  # None: automatic persisted queries are off
        self.manifest = manifest
        self.trusted_only = trusted_only

    async def resolve(
        self,
        operation: Mapping[str, Any],
        caller: Callable[[], str],
        *,
        from_router: bool = False,
        with_credentials: Callable[[], bool] = lambda: True,
    ) -> Resolved:
        """The document ``operation`` runs (``query``, ``extensions``, ``documentId`` as sent, already of the
        right shape), for the caller whose digest ``caller`` makes (``store.caller_of`` of its credentials;
        made only when a store is asked). The federation router (``from_router``: it sent ``router_secret``)
        is not held to the manifest: its query planner writes the documents, and it does its own
        safelisting of what its clients send."""
        query = operation.get("query")
        if from_router and self.trusted_only:
            return Resolved(query)
        extensions = operation.get("extensions") or {}
        if not isinstance(extensions, dict):
            raise self._refused(_malformed("extensions must be an object."))
        reference = extensions.get("persistedQuery")
        document_id = operation.get("documentId")
        if document_id is not None:
            if query is not None or reference is not None:
                raise self._refused(_malformed("Send a documentId, or a query with its persistedQuery, not both."))
            return Resolved(self._from_manifest(document_id))
        if reference is None:
            if query is not None and self.trusted_only and not self._trusted(query):
                raise self._refused(not_trusted())
            return Resolved(query)
        digest = self._hash_of(reference)
        if query is not None:
            return self._checked(query, digest, caller)
        if self.manifest is not None and (text := self.manifest.find(digest)) is not None:
            PERSISTED_QUERIES.labels("trusted").inc()
            return Resolved(text)
        if self.trusted_only:
            raise self._refused(not_trusted())
        if self.store is None:
            raise Refusal(400, "PERSISTED_QUERY_NOT_SUPPORTED", NOT_SUPPORTED)
        # A caller without credentials cannot have registered anything (only callers an upstream accepted do):
        # it costs the store nothing. (Whether a token was accepted is known per process, and another instance
        # may have registered it: those are looked up.)
        lookup = _SHA256.fullmatch(digest) and with_credentials()
        text = await self.store.get(caller(), digest) if lookup else None
        if text is None or sha256_hex(text) != digest:  # a store's bytes are checked, not believed
            PERSISTED_QUERIES.labels("miss").inc()
            raise Refusal(404, "PERSISTED_QUERY_NOT_FOUND", NOT_FOUND)
        PERSISTED_QUERIES.labels("hit").inc()
        return Resolved(text)

    def _from_manifest(self, document_id: object) -> str:
        if not isinstance(document_id, str) or not _ID.fullmatch(document_id):
            raise self._refused(_malformed("documentId must be a string of at most 200 letters, digits and -_.:/+=."))
        text = self.manifest.find(document_id) if self.manifest is not None else None
        if text is None:
            if self.trusted_only:
                raise self._refused(not_trusted())
            PERSISTED_QUERIES.labels("miss").inc()
            raise Refusal(404, "PERSISTED_QUERY_NOT_FOUND", "No trusted document has this documentId.")
        PERSISTED_QUERIES.labels("trusted").inc()
        return text

    def _hash_of(self, reference: object) -> str:
        if not isinstance(reference, dict) or reference.get("version") != 1:
            raise self._refused(_malformed("extensions.persistedQuery must be {version: 1, sha256Hash: <hex>}."))
        digest = reference.get("sha256Hash")
        if not isinstance(digest, str) or not _ID.fullmatch(digest):
            raise self._refused(_malformed("extensions.persistedQuery.sha256Hash must be a hash (64 hex digits)."))
        return digest

    def _checked(self, query: str, digest: str, caller: Callable[[], str]) -> Resolved:
        """A document sent with its hash: the hash must be its SHA-256 (or its id in the manifest)."""
        trusted = self.manifest is not None and self.manifest.find(digest) == query
        if self.trusted_only and not (trusted or self._trusted(query)):
            raise self._refused(not_trusted())
        if not trusted and sha256_hex(query) != digest:
            raise self._refused(Refusal(400, "PERSISTED_QUERY_HASH_MISMATCH",
                                        "The document's SHA-256 is not the sha256Hash sent with it."))  # fmt: skip
        if trusted or self.store is None or self._trusted(query):
            return Resolved(query)  # nothing to register: the manifest holds it, or there is no store
        return Resolved(query, Registration(caller(), digest, query))

    def _trusted(self, query: str) -> bool:
        return self.manifest is not None and self.manifest.trusts(query)

    @staticmethod
    def _refused(refusal: Refusal) -> Refusal:
        PERSISTED_QUERIES.labels("refused").inc()
        return refusal

    async def register(self, registration: Registration) -> None:
        if self.store is not None:
            await self.store.put(registration.caller, registration.digest, registration.text)
            PERSISTED_QUERIES.labels("registered").inc()
