"""Which tokens Polar has accepted lately. A token it has not accepted yet is tried one call at a time,
so a made-up token costs Polar one call per request, however many calls that request would have made
at once (``_entities`` with 2,050 representations made 2,050 with ``not_a_real_token``).

Callers are keyed digests of their tokens (``budget.caller_key``); the table is bounded.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

MAX_REMEMBERED = 10_000


class TokenTrust:
    def __init__(self, remember_s: float) -> None:
        self.remember_s = remember_s
        self._accepted: OrderedDict[str, float] = OrderedDict()  # caller -> accepted until (monotonic)
        self._probes: dict[str, tuple[asyncio.Lock, int]] = {}  # caller -> (lock, users)

    def accepted(self, caller: str) -> bool:
        until = self._accepted.get(caller)
        if until is None:
            return False
        if until < time.monotonic():
            del self._accepted[caller]
            return False
        return True

    def forget(self, caller: str) -> None:
        """Polar refused the token (401): revoked, say."""
        self._accepted.pop(caller, None)

    def accept(self, caller: str) -> None:
        """Polar answered a call with this token with a success."""
        self._accepted[caller] = time.monotonic() + self.remember_s
        self._accepted.move_to_end(caller)
        if len(self._accepted) > MAX_REMEMBERED:
            self._accepted.popitem(last=False)

    @asynccontextmanager
    async def probing(self, caller: str, wait_s: float | None) -> AsyncIterator[None]:
        """One call at a time for this caller, across requests, until Polar has accepted its token. Waiting
        for the turn raises TimeoutError after ``wait_s``; the turn itself is not timed here."""
        lock, users = self._probes.get(caller, (asyncio.Lock(), 0))
        self._probes[caller] = (lock, users + 1)
        try:
            async with asyncio.timeout(wait_s):
                await lock.acquire()
            try:
                yield
            finally:
                lock.release()
        finally:
            lock, users = self._probes[caller]
            if users == 1:
                del self._probes[caller]
            else:
                self._probes[caller] = (lock, users - 1)
