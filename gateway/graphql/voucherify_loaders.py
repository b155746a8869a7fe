"""Dataloaders of one GraphQL request over Voucherify, made with the caller's keys (never shared).

- customers by ``id`` and by ``sourceId``, one loader for both since one GET takes either: a batch reads
  the ids first (concurrently), then only the source ids those answers did not already cover, so looking
  one customer up both ways costs one call. Every customer a list or a write returns is primed.
- segments and async actions by id, one call each, concurrently within the caller's share of slots.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from functools import cached_property
from typing import TypeVar

from aiodataloader import DataLoader

from ..cache.records import Tally
from ..cache.voucherify import VoucherifyCache
from ..settings import Settings
from ..upstream import voucherify_records as records
from ..upstream.errors import UpstreamError, UpstreamNotFound, UpstreamValidation
from ..upstream.voucherify import VoucherifyClient, VoucherifyKeys
from .errors import from_upstream
from .federation import BY_ID, BY_SOURCE  # the two kinds of key of ``customer``
from .loaders import fan_out, observed
from .voucherify_types import Segment, VoucherifyCustomer

R = TypeVar("R")


class VoucherifyLoaders:
    def __init__(
        self, client: VoucherifyClient, keys: VoucherifyKeys, settings: Settings,
        cache: VoucherifyCache | None = None, tally: Tally | None = None,
    ) -> None:  # fmt: skip
        self.client = client
        self.keys = keys
        self.cache = cache if settings.batching else None
        self.tally = tally or Tally()
        self.batching = settings.batching
        self.concurrency = settings.voucherify_max_concurrency_per_caller
        self._seen: dict[str, VoucherifyCustomer] = {}  # by BY_ID + id and BY_SOURCE + source id
        self._listings: set[asyncio.Future[None]] = set()

    @cached_property
    def customer(self) -> DataLoader[str, VoucherifyCustomer | None]:
        """Keys are ``by_id(...)`` or ``by_source_id(...)``."""
        batch = observed("voucherify_customer", self._customers)
        return DataLoader(batch, batch=self.batching, cache=self.batching)

    @cached_property
    def segments(self) -> DataLoader[str, list[Segment] | None]:
        batch = observed("voucherify_segments", self._segments)
        return DataLoader(batch, batch=self.batching, cache=self.batching)

    @cached_property
    def async_action(self) -> DataLoader[str, records.AsyncAction | None]:
        batch = observed("voucherify_async_action", self._async_actions)
        return DataLoader(batch, batch=self.batching, cache=self.batching)

    def listing_started(self) -> asyncio.Future[None]:
        """Marks a listing in flight: lookups wait for it, then use what it primed (resolve it when done)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.batching:
            self._listings.add(done)
            done.add_done_callback(self._listings.discard)
        return done

    def prime(self, record: records.Customer) -> VoucherifyCustomer:
        """The customer as a GraphQL object, remembered for later lookups by either key."""
        customer = VoucherifyCustomer.of(record)
        if self.batching:
            self._remember(customer)
        return customer

    def _remember(self, customer: VoucherifyCustomer) -> None:
        """Kept by both keys, not primed into the loader: ``find`` looks here first, and a list of 50 made
        100 futures the loader held for lookups that mostly never came (a quarter of the list's CPU)."""
        for key in self._keys_of(customer):
            self._seen[key] = customer

    async def get(self, key: str) -> VoucherifyCustomer | None:
        """``find``, awaited: for code that needs the customer itself (a write finding its target)."""
        found = self.find(key)
        return found if found is None or isinstance(found, VoucherifyCustomer) else await found

    def find_by_source_id(self, source_id: str) -> VoucherifyCustomer | Awaitable[VoucherifyCustomer | None] | None:
        """The customer whose source id is exactly ``source_id`` (a Polar customer's external id)."""
        return self.find(by_source_id(source_id))

    def find(self, key: str) -> VoucherifyCustomer | Awaitable[VoucherifyCustomer | None] | None:
        """The customer of a ``customer`` key: at once when this request has seen it, else the loader's future."""
        if key in self._seen:
            return self._seen[key]
        return self.customer.load(key)

    @staticmethod
    def _keys_of(customer: VoucherifyCustomer | records.Customer) -> list[str]:
        """Both keys a customer is found by, whether the GraphQL object or the upstream's record."""
        keys = [by_id(str(customer.id))]
        if customer.source_id is not None:
            keys.append(by_source_id(customer.source_id))
        return keys

    def forget(self, customer_id: str, source_id: str | None) -> None:
        """After a deletion, later lookups of this request go upstream again (and find nothing)."""
        for key in (by_id(customer_id), *([by_source_id(source_id)] if source_id else [])):
            self._seen.pop(key, None)
            self.customer.clear(key)

    async def _customers(self, keys: list[str]) -> list[VoucherifyCustomer | Exception | None]:
        if self._listings:
            await asyncio.wait(set(self._listings))
        found: dict[str, VoucherifyCustomer | Exception | None] = {}
        for kind in (BY_ID, BY_SOURCE):  # source ids after ids: an id's answer may cover a source id asked for
            await self._fetch([key for key in keys if key.startswith(kind) and key not in self._seen], found)
        return [self._seen.get(key, found.get(key)) for key in keys]

    async def _fetch(self, asked: list[str], found: dict[str, VoucherifyCustomer | Exception | None]) -> None:
        """One GET per key the cache did not answer, concurrently. An answer counts only for the key it matches
        exactly: Voucherify's path takes an id or a source id, so a source id that is another customer's id
        finds that one."""

        def fetch(key: str) -> Awaitable[records.Customer]:
            return self.client.get_customer(self.keys, identifier_of(key))

        credential = self.keys.encode()
        cached = await self.cache.customers(credential, asked, self.tally) if self.cache and asked else None
        for key, record in (cached.hits if cached else {}).items():
            found[key] = self.prime(record)
        keys = [key for key in asked if key not in found]
        fetched = await fan_out(keys, fetch, self.concurrency)
        if self.cache is not None and fetched:
            answered = [answer for answer in fetched.values() if isinstance(answer, records.Customer)]
            by_key = {key: customer for customer in answered for key in self._keys_of(customer)}
            await self.cache.keep_customers(
                credential, cached.stamp if cached else None, by_key, list(fetched.values())
            )
        for key in keys:
            answer = fetched[key]
            if isinstance(answer, UpstreamNotFound | UpstreamValidation):
                found[key] = None
            elif isinstance(answer, UpstreamError):
                found[key] = from_upstream(answer)
            elif isinstance(answer, BaseException):
                raise answer
            else:
                customer = self.prime(answer)
                found[key] = customer if key in self._keys_of(customer) else None

    async def _segments(self, ids: list[str]) -> list[list[Segment] | Exception | None]:
        found = await self._each(ids, lambda key: self.client.customer_segments(self.keys, key))
        return [[Segment.of(item) for item in each] if isinstance(each, list) else each for each in found]

    async def _async_actions(self, ids: list[str]) -> list[records.AsyncAction | Exception | None]:
        return await self._each(ids, lambda key: self.client.get_async_action(self.keys, key))

    async def _each(self, keys: Sequence[str], fetch: Callable[[str], Awaitable[R]]) -> list[R | Exception | None]:
        """One call per key, concurrently: each answer, None for a 404, or the GraphQL error of a failure."""
        answers = await fan_out(keys, fetch, self.concurrency)
        results: list[R | Exception | None] = []
        for key in keys:
            answer = answers[key]
            if isinstance(answer, UpstreamNotFound):
                results.append(None)
            elif isinstance(answer, UpstreamError):
                results.append(from_upstream(answer))
            elif isinstance(answer, BaseException):
                raise answer
            else:
                results.append(answer)
        return results


__all__ = ["BY_ID", "BY_SOURCE", "VoucherifyLoaders", "by_id", "by_source_id", "identifier_of"]


def by_id(customer_id: str) -> str:
    return BY_ID + customer_id


def by_source_id(source_id: str) -> str:
    return BY_SOURCE + source_id


def identifier_of(key: str) -> str:
    """The id or source id a key of ``customer`` holds, as a path takes it."""
    return key.removeprefix(BY_ID) if key.startswith(BY_ID) else key.removeprefix(BY_SOURCE)
