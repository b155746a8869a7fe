"""This process's subscribers, and the hand-off of each customer change to those it concerns.

A subscriber follows either one customer (by id: Polar's ids are unique across organizations) or every
customer of one organization. An organization token whose organization has no customer yet cannot be told
its organization by Polar's customer API; its subscriber is offered the creations of customers (its own
organization's first change is one) until a read with its token says which organization is its own
(``Hub.learned``). Whatever it was offered, a subscriber takes only what ``concerns`` it.

Each subscriber holds at most ``limit`` changes waiting. One more means its reader has fallen behind (a slow
network, a stalled tab): it is ended, never buffered without bound.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from enum import Enum

from ..observability.metrics import LIVE_ENDED, LIVE_EVENTS, LIVE_SUBSCRIBERS
from ..upstream.polar_webhooks import ChangeKind, CustomerChange


class Ending(Enum):
    """Why the gateway ends a subscription; the GraphQL layer turns each into a close code or an error."""

    TOO_SLOW = "too_slow"  # the subscriber's queue overflowed
    BUS_LOST = "bus_lost"  # Redis went away: events may be missed from here on
    SHUTDOWN = "shutdown"  # the process is stopping
    REVOKED = "revoked"  # Polar no longer accepts the subscriber's token


class Ended(Exception):
    def __init__(self, reason: Ending) -> None:
        super().__init__(reason.value)
        self.reason = reason


class Subscriber:
    def __init__(self, limit: int, organization_id: str | None = None, customer_id: str | None = None) -> None:
        self.limit = limit
        self.organization_id = organization_id  # None with customer_id None: the organization is not known yet
        self.customer_id = customer_id
        self.foreign: set[str] = set()  # organizations found not to be this token's (while its own is unknown)
        self._waiting: deque[CustomerChange] = deque()
        self._ready = asyncio.Event()
        self.ending: Ending | None = None
        # Told at once when the subscriber falls behind: its reader may be blocked writing to a peer that
        # reads nothing, and would never come back to ``next`` to learn it.
        self.on_too_slow: Callable[[], None] | None = None

    @property
    def placed(self) -> bool:
        return self.customer_id is not None or self.organization_id is not None

    def concerns(self, change: CustomerChange) -> bool:
        """Whether the change is this subscriber's to see, as far as it is known yet (checked when offered and
        again when taken: its organization may have been learned in between)."""
        if self.customer_id is not None:
            return change.customer_id == self.customer_id
        if self.organization_id is not None:
            return change.organization_id == self.organization_id
        return change.kind is ChangeKind.CREATED and change.organization_id not in self.foreign

    def offer(self, change: CustomerChange) -> None:
        if self.ending is not None or not self.concerns(change):
            return
        if len(self._waiting) >= self.limit:
            if self.placed:
                self.end(Ending.TOO_SLOW)
            return  # an unplaced one is offered others' creations too: a burst of them is not its slowness
        self._waiting.append(change)
        self._ready.set()

    def end(self, reason: Ending) -> None:
        if self.ending is None:
            self.ending = reason
            LIVE_ENDED.labels(reason.value).inc()
            if reason is Ending.TOO_SLOW and self.on_too_slow is not None:
                self.on_too_slow()
        self._waiting.clear()
        self._ready.set()

    async def next(self, timeout_s: float) -> CustomerChange | None:
        """The next change, or None when ``timeout_s`` passes first; ``Ended`` once the subscription is over."""
        if not self._waiting and self.ending is None:
            self._ready.clear()
            try:
                async with asyncio.timeout(timeout_s):
                    await self._ready.wait()
            except TimeoutError:
                return None
        if self.ending is not None:
            raise Ended(self.ending)
        change = self._waiting.popleft()
        return change if self.concerns(change) else None


class Hub:
    def __init__(self) -> None:
        self._by_organization: dict[str, set[Subscriber]] = {}
        self._by_customer: dict[str, set[Subscriber]] = {}
        self._unplaced: set[Subscriber] = set()

    def __len__(self) -> int:
        return sum(map(len, self._by_organization.values())) + sum(map(len, self._by_customer.values())) + len(
            self._unplaced
        )

    def join(self, subscriber: Subscriber) -> None:
        self._place(subscriber, add=True)
        LIVE_SUBSCRIBERS.inc()

    def leave(self, subscriber: Subscriber) -> None:
        self._place(subscriber, add=False)
        LIVE_SUBSCRIBERS.dec()

    def learned(self, subscriber: Subscriber, organization_id: str) -> None:
        """The token's organization is now known: from here on it is offered only that one's changes."""
        self._unplaced.discard(subscriber)
        subscriber.organization_id = organization_id
        self._by_organization.setdefault(organization_id, set()).add(subscriber)

    def deliver(self, change: CustomerChange) -> None:
        LIVE_EVENTS.inc()
        for group in (
            self._by_organization.get(change.organization_id, ()),
            self._by_customer.get(change.customer_id, ()),
            self._unplaced,
        ):
            for subscriber in list(group):
                subscriber.offer(change)

    def end_all(self, reason: Ending) -> None:
        for subscriber in self._everyone():
            subscriber.end(reason)

    def _everyone(self) -> list[Subscriber]:
        found = [s for group in self._by_organization.values() for s in group]
        found += [s for group in self._by_customer.values() for s in group]
        return found + list(self._unplaced)

    def _place(self, subscriber: Subscriber, *, add: bool) -> None:
        if subscriber.customer_id is not None:
            key, groups = subscriber.customer_id, self._by_customer
        elif subscriber.organization_id is not None:
            key, groups = subscriber.organization_id, self._by_organization
        else:
            self._unplaced.add(subscriber) if add else self._unplaced.discard(subscriber)
            return
        if add:
            groups.setdefault(key, set()).add(subscriber)
            return
        group = groups.get(key, set())
        group.discard(subscriber)
        if not group:
            groups.pop(key, None)
