"""Upstream records in and out of the store, per caller: what a loader asks before it calls an upstream, and
tells after. A failure of the store is a miss here, never an error (only ``invalidate`` reports one, since
its caller must know that an entry may outlive a change).

Records are written as JSON by pydantic's ``TypeAdapter``, which reads and writes the upstream layer's frozen
dataclasses as they are: no second definition of any record. An entry that no longer reads (another version
of the gateway wrote it) is a miss."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter, ValidationError

from ..observability.metrics import CACHE_FAILURES, CACHE_HITS, CACHE_INVALIDATIONS, CACHE_MISSES
from .names import Names
from .store import CacheUnavailable, Entry, Lifetimes, Stamp, Store

T = TypeVar("T")
log = logging.getLogger("gateway.cache")


@dataclass
class Tally:
    """One request's answers from the cache, for ``extensions.cache`` (setting ``cache_extensions``)."""

    hits: int = 0
    misses: int = 0


@dataclass(frozen=True)
class Kind(Generic[T]):
    name: str  # the metrics' label, and part of every entry's name
    adapter: TypeAdapter[T]


@dataclass(frozen=True)
class Found(Generic[T]):
    hits: dict[str, T]  # by the key asked for
    stamp: Stamp | None  # for writing what is fetched now; None: the store did not answer, write nothing


@dataclass(frozen=True)
class Keep(Generic[T]):
    """One record to write: looked up as ``kind`` by ``key``, about the subjects ``labels`` name."""

    kind: Kind[T]
    key: str
    record: T
    labels: Sequence[str]


class RecordCache:
    """One upstream's records in a store: its callers are known by a digest of their credential."""

    def __init__(self, upstream: str, store: Store, names: Names, lifetimes: Lifetimes) -> None:
        self.upstream = upstream
        self.store = store
        self.names = names
        self.lifetimes = lifetimes

    def _caller(self, credential: str) -> str:
        return self.names.caller(self.upstream, credential)

    def caller_digest(self, credential: str) -> str | None:
        """Who the caller is to this cache; None while names cannot be made (the store is unreachable)."""
        try:
            return self._caller(credential)
        except CacheUnavailable:
            return None

    async def lookup(self, credential: str, kind: Kind[T], keys: Sequence[str], tally: Tally) -> Found[T]:
        """The valid entries of ``keys``; the caller must have been accepted upstream lately, else none."""
        if not keys:
            return Found({}, None)
        try:
            names = {self.names.entry(kind.name, key): key for key in keys}
            reading = await self.store.read(self._caller(credential), list(names))
        except CacheUnavailable:
            CACHE_FAILURES.labels("read").inc()
            self._count(kind, tally, hits=0, misses=len(keys))
            return Found({}, None)
        hits: dict[str, T] = {}
        for name, record in reading.found.items():
            try:
                hits[names[name]] = kind.adapter.validate_json(record)
            except ValidationError:
                continue
        self._count(kind, tally, hits=len(hits), misses=len(keys) - len(hits))
        return Found(hits, reading.stamp)

    async def stamp(self) -> Stamp | None:
        """For a read whose keys are learned from its answer (a list page): taken before it is sent."""
        try:
            return await self.store.stamp()
        except CacheUnavailable:
            CACHE_FAILURES.labels("stamp").inc()
            return None

    async def keep(self, credential: str, stamp: Stamp | None, kept: Iterable[Keep[Any]], accepted: bool) -> None:
        """Writes what the upstream answered to a read begun at ``stamp``; ``accepted``: it accepted the
        credential (an answer, or a 404), so this caller's entries may be served for ``trust_s``."""
        if stamp is None:
            return
        try:
            entries = {
                self.names.entry(item.kind.name, item.key): Entry(
                    tuple(self.names.subject(label) for label in item.labels), item.kind.adapter.dump_json(item.record)
                )
                for item in kept
            }
            if not entries and not accepted:
                return
            await self.store.write(self._caller(credential), entries, stamp, accepted, self.lifetimes)
        except CacheUnavailable:
            CACHE_FAILURES.labels("write").inc()

    async def refused(self, credential: str) -> None:
        """The upstream refused the credential: none of its entries is served again before it accepts it."""
        try:
            await self.store.distrust(self._caller(credential))
        except CacheUnavailable:
            CACHE_FAILURES.labels("distrust").inc()  # its trust then ends with trust_s
        else:
            CACHE_INVALIDATIONS.labels("token_refused").inc()

    async def invalidate(self, labels: Sequence[str], cause: str, ahead_s: float = 0.0) -> None:
        """Every entry about these subjects, under every caller, stops being served (and so does any stamped
        within ``ahead_s`` from now: a change the upstream applies later). Raises ``CacheUnavailable`` when
        that could not be written."""
        try:
            subjects = [self.names.subject(label) for label in labels]
        except CacheUnavailable:  # the store's naming key is not known yet: the store is unreachable
            self.store.missed_invalidation()
            CACHE_FAILURES.labels("invalidate").inc()
            raise
        try:
            await self.store.invalidate(subjects, ahead_s)
        except CacheUnavailable:
            CACHE_FAILURES.labels("invalidate").inc()
            raise
        CACHE_INVALIDATIONS.labels(cause).inc()

    async def invalidate_quietly(self, labels: Sequence[str], cause: str, ahead_s: float = 0.0) -> None:
        """``invalidate`` after a write through the gateway, whose caller must get its answer anyway: the
        failure is logged, and the store drops every older entry once it answers again (``redis_store``)."""
        try:
            await self.invalidate(labels, cause, ahead_s)
        except CacheUnavailable as failure:
            log.warning("cache invalidation after a write failed (%s); entries end when Redis is back", failure)

    @staticmethod
    def _count(kind: Kind[T], tally: Tally, hits: int, misses: int) -> None:
        tally.hits += hits
        tally.misses += misses
        if hits:
            CACHE_HITS.labels(kind.name).inc(hits)
        if misses:
            CACHE_MISSES.labels(kind.name).inc(misses)
