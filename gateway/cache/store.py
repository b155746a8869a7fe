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
from .names import DIGEST_CHARS

ENTRY_OVERHEAD_BYTES = 200  # the dictionary slot, tuple and key object around an entry's bytes, in this process
MAX_CALLERS_TRUSTED = 100_000  # callers whose acceptance this process remembers (each a few hundred bytes)
MAX_SUBJECTS_INVALIDATED = 1_000_000  # invalidations remembered; beyond it every entry is dropped instead
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

    async def invalidate(self, subjects: Sequence[str]) -> None:
        """Raises ``CacheUnavailable`` when it could not be done: the caller decides what that means."""
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
    where this process sees every invalidation: one instance, or several that never share entries."""

    kind = "memory"

    def __init__(self, max_bytes: int, max_entry_bytes: int, write_window_s: float, longest_ttl_s: float) -> None:
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_entry_bytes
        self.write_window_s = write_window_s  # a read older than this is not written (see ``write``)
        # An invalidation matters while an entry stamped before it may live: written up to write_window_s
        # after its stamp, then kept for its TTL.
        self.invalidation_horizon_s = write_window_s + longest_ttl_s
        self._entries: OrderedDict[str, _Held] = OrderedDict()
        self._bytes = 0
        self._invalidated: OrderedDict[str, float] = OrderedDict()  # subject -> when, oldest first
        self._trusted: OrderedDict[str, float] = OrderedDict()  # caller -> until when

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
            if held.expires_at <= now or any(self._invalidated.get(s, -1.0) >= held.stamp for s in held.subjects):
                self._drop(key)
                continue
            self._entries.move_to_end(key)
            found[name] = held.record
        return Reading(Stamp(now), trusted, found)

    async def write(
        self, caller: str, entries: Mapping[str, Entry], stamp: Stamp, trusted: bool, lifetimes: Lifetimes
    ) -> None:
        now = time.monotonic()
        if trusted:
            self._trusted[caller] = now + lifetimes.trust_s
            self._trusted.move_to_end(caller)
            while len(self._trusted) > MAX_CALLERS_TRUSTED:
                self._trusted.popitem(last=False)
        if now - stamp.taken_at > self.write_window_s:
            return  # invalidations are remembered for ttl + this window: an older read could outlive one
        for name, entry in entries.items():
            if any(self._invalidated.get(s, -1.0) >= stamp.at for s in entry.subjects):
                continue  # changed since the read began
            key = f"{caller}:{name}"
            size = len(key) + len(entry.record) + DIGEST_CHARS * len(entry.subjects) + ENTRY_OVERHEAD_BYTES
            if size > self.max_entry_bytes:
                continue
            self._drop(key)
            self._entries[key] = _Held(now + lifetimes.ttl_s, stamp.at, entry.subjects, entry.record, size)
            self._bytes += size
        while self._bytes > self.max_bytes and self._entries:
            self._drop(next(iter(self._entries)))
        CACHE_BYTES.labels(self.kind).set(self._bytes)

    async def invalidate(self, subjects: Sequence[str]) -> None:
        now = time.monotonic()
        for subject in subjects:
            self._invalidated[subject] = now
            self._invalidated.move_to_end(subject)
        horizon = now - self.invalidation_horizon_s
        while self._invalidated and next(iter(self._invalidated.values())) < horizon:
            self._invalidated.popitem(last=False)
        if len(self._invalidated) > MAX_SUBJECTS_INVALIDATED:  # a flood of changes: forget everything instead
            self._entries.clear()
            self._invalidated.clear()
            self._bytes = 0

    async def distrust(self, caller: str) -> None:
        self._trusted.pop(caller, None)

    def bytes_held(self) -> int | None:
        return self._bytes

    def _drop(self, key: str) -> None:
        held = self._entries.pop(key, None)
        if held is not None:
            self._bytes -= held.size
