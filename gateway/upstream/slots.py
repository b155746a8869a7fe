"""Slots for in-flight upstream requests, shared fairly between callers.

At most ``total`` requests are in flight, at most ``per_caller`` of them for one caller, and when a slot
frees it goes to the next waiting caller in turn, not to whoever queued the most. With one FIFO semaphore,
one caller's flood of 2,050 calls queued ahead of everyone, and another organization's lookup took 8-18 s
instead of 0.26 s. Callers are keyed digests of their tokens (``budget.caller_key``).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque


class FairSlots:
    def __init__(self, total: int, per_caller: int) -> None:
        self.total = total
        self.per_caller = min(per_caller, total)
        self.in_flight = 0
        self._held: dict[str, int] = {}
        self._waiting: OrderedDict[str, deque[asyncio.Future[None]]] = OrderedDict()

    def held(self, caller: str) -> int:
        return self._held.get(caller, 0)

    def try_acquire(self, caller: str) -> bool:
        """A slot now, or False without waiting (a caller's own waiters keep their turn)."""
        if self._waiting.get(caller) or not self._free_for(caller):
            return False
        self._take(caller)
        return True

    async def acquire(self, caller: str) -> None:
        """A slot, waiting for the caller's turn; cancelling the wait (a deadline) leaves nothing held."""
        if self.try_acquire(caller):
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(caller, deque()).append(granted)
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self.release(caller)  # granted as the wait was cancelled: hand it on
            else:
                self._forget(caller, granted)
            raise

    def release(self, caller: str) -> None:
        self.in_flight -= 1
        left = self._held[caller] - 1
        if left:
            self._held[caller] = left
        else:
            del self._held[caller]
        self._grant()

    def _free_for(self, caller: str) -> bool:
        return self.in_flight < self.total and self.held(caller) < self.per_caller

    def _take(self, caller: str) -> None:
        self.in_flight += 1
        self._held[caller] = self.held(caller) + 1

    def _grant(self) -> None:
        """Free slots to waiting callers, one each in turn; a served caller goes to the back."""
        for caller in list(self._waiting):
            if self.in_flight >= self.total:
                return
            if self.held(caller) >= self.per_caller:
                continue
            queue = self._waiting[caller]
            granted = queue.popleft()
            if queue:
                self._waiting.move_to_end(caller)
            else:
                del self._waiting[caller]
            self._take(caller)
            granted.set_result(None)

    def _forget(self, caller: str, granted: asyncio.Future[None]) -> None:
        queue = self._waiting.get(caller)
        if queue is None:
            return
        try:
            queue.remove(granted)
        except ValueError:
            return
        if not queue:
            del self._waiting[caller]
