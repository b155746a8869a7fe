"""Polar's customers (by id and by external id) and their states, cached per token.

Every entry about a customer names two subjects, its id and its external id, so that a change known by
either (a webhook carries both; a write through the gateway knows at least the one it was made by)
invalidates it however it was looked up. External ids are unique per organization only: the same one in two
organizations shares a subject, which costs a miss, never a stale answer."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter

from ..upstream import polar_records as records
from ..upstream.errors import UpstreamNotFound, UpstreamUnauthorized
from .records import Found, Keep, Kind, RecordCache, Tally
from .store import Stamp

UPSTREAM = "polar"
LISTED_MEMORY_S = 30.0  # a listed customer written lately is not written again by a list page for this long
LISTED_REMEMBERED = 10_000
_CUSTOMER = TypeAdapter(records.Customer)
CUSTOMER = Kind("polar_customer", _CUSTOMER)
CUSTOMER_BY_EXTERNAL_ID = Kind("polar_customer_by_external_id", _CUSTOMER)
STATE = Kind("polar_customer_state", TypeAdapter(records.CustomerState))


def customer_labels(customer_id: str | None, external_id: str | None) -> list[str]:
    labels = [f"polar:customer:{customer_id}"] if customer_id is not None else []
    return labels + ([f"polar:external:{external_id}"] if external_id is not None else [])


def _customer_entries(customer: records.Customer) -> list[Keep[Any]]:
    labels = customer_labels(customer.id, customer.external_id)
    kept: list[Keep[Any]] = [Keep(CUSTOMER, customer.id, customer, labels)]
    if customer.external_id is not None:
        kept.append(Keep(CUSTOMER_BY_EXTERNAL_ID, customer.external_id, customer, labels))
    return kept


class PolarCache:
    def __init__(self, cache: RecordCache) -> None:
        self.cache = cache
        # Customers a list page wrote lately, as they were (caller and id -> modified_at, when): the same page
        # read again does not write them all again. Skipping a write can only cost a miss, never serve stale.
        self._listed: OrderedDict[tuple[str, str], tuple[datetime | None, float]] = OrderedDict()
        self.relist_after_s = min(LISTED_MEMORY_S, cache.lifetimes.ttl_s / 10)

    async def customers(self, token: str, ids: Sequence[str], tally: Tally) -> Found[records.Customer]:
        return await self.cache.lookup(token, CUSTOMER, ids, tally)

    async def customers_by_external_id(
        self, token: str, external_ids: Sequence[str], tally: Tally
    ) -> Found[records.Customer]:
        return await self.cache.lookup(token, CUSTOMER_BY_EXTERNAL_ID, external_ids, tally)

    async def states(self, token: str, ids: Sequence[str], tally: Tally) -> Found[records.CustomerState]:
        return await self.cache.lookup(token, STATE, ids, tally)

    async def stamp(self) -> Stamp | None:
        return await self.cache.stamp()

    async def keep_customers(self, token: str, stamp: Stamp | None, answers: Mapping[str, object]) -> None:
        """What lookups (or a list page) answered, by key: customers are kept by id and by external id; a
        404 or an answer at all proves the token; a 401 ends its trust."""
        customers = [answer for answer in answers.values() if isinstance(answer, records.Customer)]
        await self._learned(token, stamp, answers.values(), [e for c in customers for e in _customer_entries(c)])

    async def keep_listed(self, token: str, stamp: Stamp | None, customers: Sequence[records.Customer]) -> None:
        """A list page's customers, but for those this process wrote lately as they are now."""
        if stamp is None:
            return
        now = time.monotonic()
        caller = self.cache.caller_digest(token)
        if caller is None:
            return
        fresh = []
        for customer in customers:
            key = (caller, customer.id)
            listed = self._listed.get(key)
            if listed is None or listed[0] != customer.modified_at or now - listed[1] > self.relist_after_s:
                fresh.append(customer)
                self._listed[key] = (customer.modified_at, now)
                self._listed.move_to_end(key)
        while len(self._listed) > LISTED_REMEMBERED:
            self._listed.popitem(last=False)
        if fresh:
            await self.keep_customers(token, stamp, {customer.id: customer for customer in fresh})

    async def keep_states(self, token: str, stamp: Stamp | None, answers: Mapping[str, object]) -> None:
        kept: list[Keep[Any]] = [
            Keep(STATE, customer_id, state, customer_labels(customer_id, None))
            for customer_id, state in answers.items()
            if isinstance(state, records.CustomerState)
        ]
        await self._learned(token, stamp, answers.values(), kept)

    async def _learned(self, token: str, stamp: Stamp | None, answers: Iterable[object], kept: list[Keep[Any]]) -> None:
        outcomes = list(answers)
        if any(isinstance(answer, UpstreamUnauthorized) for answer in outcomes):
            await self.cache.refused(token)
            return
        accepted = bool(kept) or any(isinstance(a, UpstreamNotFound) and a.looked_up for a in outcomes)
        await self.cache.keep(token, stamp, kept, accepted)

    async def changed(self, customer_id: str | None, external_id: str | None, cause: str) -> None:
        """Raises ``CacheUnavailable`` when the invalidation could not be written (a webhook then answers 503)."""
        await self.cache.invalidate(customer_labels(customer_id, external_id), cause)

    async def written(self, customer_id: str | None, external_id: str | None) -> None:
        """After a write through the gateway, whatever its outcome: before the caller has its answer."""
        await self.cache.invalidate_quietly(customer_labels(customer_id, external_id), "write")
