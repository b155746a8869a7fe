"""Where cached reads live, as bytes: this process's memory (``MemoryStore``, bounded in bytes, the least
recently used out first) or Redis (``redis_store.RedisStore``, shared by every instance). Both keep the same
three rules:

- an entry is stamped with the store's clock taken *before* the upstream was asked, and is valid only while
  that stamp is later than the last invalidation of each of its subjects: a read that raced a change can
  never be kept as fresh, however late it is written;
- a caller's entries are served only while its credential was accepted upstream within ``trust_s``;
- every entry ends with its TTL, whatever else happens.
"""

from __future__ import annotations

import struct
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ..observability.metrics import CACHE_BYTES

ENTRY_OVERHEAD_BYTES = 200  # the dictionary slot, tuple and key object around an entry's bytes, in this process
MAX_CALLERS_TRUSTED = 100_000  # callers whose acceptance this process remembers (each a few hundred bytes)
INVALIDATION_BYTES = 256  # what one remembered invalidation costs in this process, counted against max_bytes
MIN_INVALIDATIONS = 100  # remembered however small the store
SWEEP_EVERY_S = 30.0  # expired entries are looked for this often (at a write)
DIGEST_CHARS = 32  # a name's length: 128 bits, in hex (``names``)
_HEADER = struct.Struct(">dQB")  # stamp, epoch, number of subjects; then the subjects, then the record


class CacheUnavailable(Exception):
    """The store could not be reached in time (Redis down, frozen or slow): read upstream instead."""


@dataclass(frozen=True, slots=True)
class Stamp:
    """When a read began, by the store's clock, and in which epoch (Redis's: bumped after an outage).
    ``taken_at`` is this process's monotonic clock, for how late an entry may still be written."""

    at: float
    epoch: int = 0
    taken_at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True, slots=True)
class Entry:
    subjects: tuple[str, ...]  # digests (``Names.subject``)
    record: bytes


@dataclass(frozen=True, slots=True)
class Reading:
    stamp: Stamp
    trusted: bool  # the caller's credential was accepted upstream lately: its entries may be served
    found: dict[str, bytes]  # valid entries by name (none unless trusted)


@dataclass(frozen=True, slots=True)
class Lifetimes:
    ttl_s: float  # of an entry
    trust_s: float  # of a caller's acceptance


class Store(Protocol):
    kind: str  # "memory" or "redis", for metrics

    async def read(self, caller: str, names: Sequence[str]) -> Reading: ...

    async def stamp(self) -> Stamp: ...

    async def write(
        self, caller: str, entries: Mapping[str, Entry], stamp: Stamp, trusted: bool, lifetimes: Lifetimes
    ) -> None: ...

    async def invalidate(self, subjects: Sequence[str], ahead_s: float = 0.0) -> None:
        """Entries about these subjects stamped before now (plus ``ahead_s``) are stale. Raises
        ``CacheUnavailable`` when it could not be done: the caller decides what that means."""
        ...

    async def recover(self) -> None:
        """Whatever a failure left to do, done (the epoch bump after a missed invalidation)."""
        ...

    def missed_invalidation(self) -> None:
        """An invalidation could not even be sent: treat it as failed (``recover`` then makes up for it)."""
        ...

    async def distrust(self, caller: str) -> None: ...

    def bytes_held(self) -> int | None: ...


def pack(entry: Entry, stamp: Stamp) -> bytes:
    subjects = "".join(entry.subjects).encode()
    return _HEADER.pack(stamp.at, stamp.epoch, len(entry.subjects)) + subjects + entry.record


def unpack(value: bytes) -> tuple[float, int, list[str], bytes]:
    """Stamp, epoch, subjects and record of a packed entry."""
    at, epoch, count = _HEADER.unpack_from(value)
    start = _HEADER.size
    end = start + count * DIGEST_CHARS
    subjects = value[start:end].decode()
    return at, epoch, [subjects[i : i + DIGEST_CHARS] for i in range(0, len(subjects), DIGEST_CHARS)], value[end:]


@dataclass(slots=True)
class _Held:
    expires_at: float
    stamp: float
    subjects: tuple[str, ...]
    record: bytes
    size: int


class MemoryStore:
    """One process's entries, LRU within ``max_bytes``; its clock is ``time.monotonic``. Used alone only
    where this process sees every invalidation: one instance, or several that never share entries.

    Invalidated and expired entries are dropped, not just hidden: an erased customer's data leaves the
    process with the invalidation, and expired entries are swept every ``SWEEP_EVERY_S``."""

    kind = "memory"

    def __init__(self, max_bytes: int, max_entry_bytes: int, write_window_s: float, longest_ttl_s: float) -> None:
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_entry_bytes
        self.write_window_s = write_window_s  # a read older than this is not written (see ``write``)
        # An invalidation matters while an entry stamped before it may live: written up to write_window_s
        # after its stamp, then kept for its TTL.
        self.invalidation_horizon_s = write_window_s + longest_ttl_s
        # Invalidations remembered, within the store's own bound; beyond it, everything is dropped instead.
        self.max_invalidations = max(MIN_INVALIDATIONS, max_bytes // INVALIDATION_BYTES)
        self._entries: OrderedDict[str, _Held] = OrderedDict()
        self._bytes = 0
        self._by_subject: dict[str, set[str]] = {}  # subject -> keys of the entries about it
        self._invalidated: OrderedDict[str, float] = OrderedDict()  # subject -> until when, oldest first
        self._cleared_at = -1.0  # every entry stamped at or before it is gone (a flood of invalidations)
        self._trusted: OrderedDict[str, float] = OrderedDict()  # caller -> until when
        self._distrusted: OrderedDict[str, float] = OrderedDict()  # caller -> when the upstream refused it
        self._swept_at = time.monotonic()

    async def stamp(self) -> Stamp:
        return Stamp(time.monotonic())

    async def read(self, caller: str, names: Sequence[str]) -> Reading:
        now = time.monotonic()
        trusted = self._trusted.get(caller, 0.0) > now
        found: dict[str, bytes] = {}
        for name in names if trusted else ():
            key = f"{caller}:{name}"
            held = self._entries.get(key)
            if held is None:
                continue
            if held.expires_at <= now or self._stale(held.subjects, held.stamp):
                self._drop(key)
                continue
            self._entries.move_to_end(key)
            found[name] = held.record
        return Reading(Stamp(now), trusted, found)

    async def write(
        self, caller: str, entries: Mapping[str, Entry], stamp: Stamp, trusted: bool, lifetimes: Lifetimes
    ) -> None:
        now = time.monotonic()
        if now - self._swept_at > SWEEP_EVERY_S:
            self._sweep(now)
        if trusted and self._distrusted.get(caller, -1.0) < stamp.at:  # not an answer older than a refusal
            self._trusted[caller] = now + lifetimes.trust_s
            self._trusted.move_to_end(caller)
            while len(self._trusted) > MAX_CALLERS_TRUSTED:
                self._trusted.popitem(last=False)
        if now - stamp.taken_at > self.write_window_s:
            return  # invalidations are remembered for ttl + this window: an older read could outlive one
        for name, entry in entries.items():
            if self._stale(entry.subjects, stamp.at):
                continue  # changed since the read began
            key = f"{caller}:{name}"
            size = len(key) + len(entry.record) + DIGEST_CHARS * len(entry.subjects) + ENTRY_OVERHEAD_BYTES
            if size > self.max_entry_bytes:
                continue
            self._drop(key)
            self._entries[key] = _Held(now + lifetimes.ttl_s, stamp.at, entry.subjects, entry.record, size)
            self._bytes += size
            for subject in entry.subjects:
                self._by_subject.setdefault(subject, set()).add(key)
        while self._bytes > self.max_bytes and self._entries:
            self._drop(next(iter(self._entries)))
        CACHE_BYTES.labels(self.kind).set(self._bytes)

    async def invalidate(self, subjects: Sequence[str], ahead_s: float = 0.0) -> None:
        """``ahead_s``: entries stamped up to that long from now are stale too (a change applied later)."""
        now = time.monotonic()
        until = now + ahead_s
        for subject in subjects:
            self._invalidated[subject] = max(until, self._invalidated.get(subject, until))
            self._invalidated.move_to_end(subject)
            for key in list(self._by_subject.get(subject, ())):
                self._drop(key)
        horizon = now - self.invalidation_horizon_s
        while self._invalidated and next(iter(self._invalidated.values())) < horizon:
            self._invalidated.popitem(last=False)
        if len(self._invalidated) > self.max_invalidations:  # a flood of changes: forget everything instead
            self._entries.clear()
            self._by_subject.clear()
            self._invalidated.clear()
            self._bytes = 0
            self._cleared_at = until
        CACHE_BYTES.labels(self.kind).set(self._bytes)

    async def distrust(self, caller: str) -> None:
        self._trusted.pop(caller, None)
        self._distrusted[caller] = time.monotonic()
        self._distrusted.move_to_end(caller)
        while len(self._distrusted) > MAX_CALLERS_TRUSTED:
            self._distrusted.popitem(last=False)

    def bytes_held(self) -> int | None:
        return self._bytes

    async def recover(self) -> None:
        return None

    def missed_invalidation(self) -> None:
        return None  # this store never misses one

    def _stale(self, subjects: Sequence[str], stamp: float) -> bool:
        return stamp <= self._cleared_at or any(self._invalidated.get(s, -1.0) >= stamp for s in subjects)

    def _sweep(self, now: float) -> None:
        self._swept_at = now
        for key in [key for key, held in self._entries.items() if held.expires_at <= now]:
            self._drop(key)

    def _drop(self, key: str) -> None:
        held = self._entries.pop(key, None)
        if held is None:
            return
        self._bytes -= held.size
        for subject in held.subjects:
            keys = self._by_subject.get(subject)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_subject[subject]
