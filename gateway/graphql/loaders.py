"""Dataloaders of one GraphQL request, one per (resource, key), batch functions answering in key order.

- customers by id and by external id: deduplicated and concurrent (Polar has no batch get), and
  primed with every customer the request has already seen;
- state by customer id: rebuilt in batches from Polar's lists (``PolarClient.customer_states``), falling
  back to one state call per customer when the token lacks those lists' scopes (remembered a while).

With the cache on (``gateway.cache``), each batch asks it first, with one round trip, and calls Polar only
for the keys it did not answer; what Polar answers is written back, stamped with the time of that question.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from functools import cached_property
from typing import Any, TypeVar

from aiodataloader import DataLoader

from ..cache.polar import PolarCache
from ..cache.records import Found, Tally
from ..cache.store import Stamp
from ..observability import tracing
from ..observability.metrics import LOADER_BATCH_SIZE
from ..settings import Settings
from ..upstream import polar_records as records
from ..upstream.errors import (
    UpstreamCallLimit,
    UpstreamError,
    UpstreamForbidden,
    UpstreamNotFound,
    UpstreamRequestEnded,
    UpstreamUnauthorized,
    UpstreamValidation,
)
from ..upstream.polar import PolarClient
from .errors import from_upstream
from .scopes import ScopeMemory
from .types import Customer, CustomerState

R = TypeVar("R")


def observed(loader: str, batch: Callable[[list[str]], Awaitable[list[Any]]]) -> Any:
    """The batch function, with its size in the ``gateway_dataloader_batch_size`` histogram and a span."""

    async def run(keys: list[str]) -> list[Any]:
        LOADER_BATCH_SIZE.labels(loader).observe(len(keys))
        with tracing.span(f"loader {loader}", attributes={"loader.name": loader, "loader.batch_size": len(keys)}):
            return await batch(keys)

    return run


async def fan_out(
    keys: Sequence[str], fetch: Callable[[str], Awaitable[R]], concurrency: int
) -> dict[str, R | BaseException]:
    """One call per key, at most ``concurrency`` at a time (the caller's share of upstream slots: more
    would only wait there), each answer or failure by key. Once a call fails for a reason that is the
    whole request's (its token refused, its calls spent), the keys left fail the same way without a call:
    2,050 keys had made 2,050 waiting tasks, most of the CPU of a request that could make one call."""
    answers: dict[str, R | BaseException] = {}
    remaining = iter(keys)
    ended: BaseException | None = None

    async def worker() -> None:
        nonlocal ended
        for key in remaining:
            if ended is not None:
                answers[key] = ended
                continue
            try:
                answers[key] = await fetch(key)
            except (UpstreamUnauthorized, UpstreamCallLimit, UpstreamRequestEnded) as error:
                answers[key] = ended = error
            except Exception as error:
                answers[key] = error

    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(keys)))))
    return answers


class Loaders:
    def __init__(
        self, polar: PolarClient, token: str, settings: Settings, scopes: ScopeMemory,
        cache: PolarCache | None = None, tally: Tally | None = None,
    ) -> None:  # fmt: skip
        self.polar = polar
        self.token = token
        self.scopes = scopes
        self.cache = cache if settings.batching else None  # the naive gateway of the benchmark asks every time
        self.tally = tally or Tally()
        self.batch_size = settings.state_batch_size
        self.batching = settings.batching
        self.concurrency = settings.upstream_max_concurrency_per_caller
        self._seen_by_id: dict[str, Customer] = {}
        self._seen_by_external_id: dict[str, Customer] = {}
        self._listings: set[asyncio.Future[None]] = set()

    # Each loader is made when the request first uses it. A batch function may put an exception in place
    # of a value: only that key's load fails.

    @cached_property
    def customer_by_id(self) -> DataLoader[str, Customer | None]:
        batch = observed("customer_by_id", self._customers_by_id)
        return DataLoader(batch, batch=self.batching, cache=self.batching)

    @cached_property
    def customer_by_external_id(self) -> DataLoader[str, Customer | None]:
        batch = observed("customer_by_external_id", self._customers_by_external_id)
        return DataLoader(batch, batch=self.batching, cache=self.batching)

    @cached_property
    def state(self) -> DataLoader[str, CustomerState]:
        return DataLoader(observed("state", self._states), batch=self.batching, cache=self.batching)

    def listing_started(self) -> asyncio.Future[None]:
        """Marks a listing in flight: lookups of this request wait for it, then use what it primed.
        The caller resolves the returned future when the listing is done, however it ends."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.batching:
            self._listings.add(done)
            done.add_done_callback(self._listings.discard)
        return done

    def prime(self, record: records.Customer) -> Customer:
        """The customer as a GraphQL object, remembered for later lookups in this request."""
        customer = Customer.of(record)
        if self.batching:
            self._seen_by_id[str(customer.id)] = customer
            self.customer_by_id.prime(str(customer.id), customer)
            if customer.external_id is not None:
                self._seen_by_external_id[customer.external_id] = customer
                self.customer_by_external_id.prime(customer.external_id, customer)
        return customer

    async def listing_stamp(self) -> Stamp | None:
        """Before a list page is asked for: the cache's clock, which the customers it returns are kept with."""
        return await self.cache.stamp() if self.cache is not None else None

    async def keep_listed(self, customers: Sequence[records.Customer], stamp: Stamp | None) -> None:
        """A list page's customers, written to the cache (a page is not cached, its customers are)."""
        if self.cache is not None:
            await self.cache.keep_listed(self.token, stamp, customers)

    # Customers ---------------------------------------------------------------------------------

    async def _customers_by_id(self, ids: list[str]) -> list[Customer | Exception | None]:
        cached = self.cache.customers if self.cache is not None else None
        return await self._each(ids, self._seen_by_id, lambda key: self.polar.get_customer(self.token, key), cached)

    async def _customers_by_external_id(self, ids: list[str]) -> list[Customer | Exception | None]:
        cached = self.cache.customers_by_external_id if self.cache is not None else None
        return await self._each(
            ids, self._seen_by_external_id, lambda key: self.polar.get_customer_by_external_id(self.token, key), cached
        )

    async def _each(
        self, keys: Sequence[str], seen: dict[str, Customer], fetch: Callable[[str], Awaitable[records.Customer]],
        cached: Callable[[str, Sequence[str], Tally], Awaitable[Found[records.Customer]]] | None,
    ) -> list[Customer | Exception | None]:  # fmt: skip
        """One GET per key neither seen yet nor cached, concurrently, after any listing in flight has primed
        ``seen``."""
        if self._listings:
            await asyncio.wait(set(self._listings))
        unseen = [key for key in keys if key not in seen]
        found = await cached(self.token, unseen, self.tally) if cached is not None and unseen else NOTHING_CACHED
        for record in found.hits.values():
            self.prime(record)
        answers = await fan_out([key for key in unseen if key not in found.hits], fetch, self.concurrency)
        if self.cache is not None and answers:
            await self.cache.keep_customers(self.token, found.stamp, answers)
        results: list[Customer | Exception | None] = []
        for key in keys:
            if key in seen:
                results.append(seen[key])
                continue
            answer = answers[key]
            if isinstance(answer, UpstreamNotFound | UpstreamValidation):
                results.append(None)  # no such customer (a malformed id cannot match one either)
            elif isinstance(answer, UpstreamError):
                results.append(from_upstream(answer))
            elif isinstance(answer, BaseException):
                raise answer
            else:
                results.append(self.prime(answer))
        return results

    # State -------------------------------------------------------------------------------------

    async def _states(self, ids: list[str]) -> list[CustomerState | Exception]:
        found = await self.cache.states(self.token, ids, self.tally) if self.cache is not None else NOTHING_CACHED
        asked = [customer_id for customer_id in ids if customer_id not in found.hits]
        answers = await self._fetch_states(asked) if asked else {}
        if self.cache is not None and answers:
            await self.cache.keep_states(self.token, found.stamp, answers)
        results: list[CustomerState | Exception] = []
        for answer in (found.hits[i] if i in found.hits else answers[i] for i in ids):
            if isinstance(answer, UpstreamError):
                results.append(from_upstream(answer))
            elif isinstance(answer, BaseException):
                raise answer
            else:
                results.append(CustomerState.of(answer))
        return results

    async def _fetch_states(self, ids: list[str]) -> dict[str, records.CustomerState | BaseException]:
        """Each customer's state, or why it could not be read."""
        if self.batching and not self.scopes.lacks_batch_scopes(self.token):
            try:
                rebuilt = await self.polar.customer_states(self.token, ids, self.batch_size)
            except UpstreamForbidden:
                self.scopes.remember_lacking(self.token)
            except UpstreamError as error:
                return dict.fromkeys(ids, error)
            else:
                return {customer_id: rebuilt[customer_id] for customer_id in ids}
        return dict(await fan_out(ids, lambda i: self.polar.get_customer_state(self.token, i), self.concurrency))


NOTHING_CACHED: Found[Any] = Found({}, None)
