"""Dataloaders of one GraphQL request, one per (resource, key), batch functions answering in key order.

- customers by id and by external id: deduplicated and concurrent (Polar has no batch get), and
  primed with every customer the request has already seen;
- state by customer id: rebuilt from ``/v1/subscriptions/``, ``/v1/benefit-grants/`` and
  ``/v1/customer-meters/`` with repeated ``customer_id`` (100 ids a call, following pages), falling
  back to one ``/state`` per customer when the token lacks those endpoints' scopes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from functools import cached_property
from typing import Any, TypeVar

from aiodataloader import DataLoader

from ..observability import tracing
from ..observability.metrics import LOADER_BATCH_SIZE
from ..settings import Settings
from ..upstream.errors import (
    UpstreamCallLimit,
    UpstreamError,
    UpstreamForbidden,
    UpstreamNotFound,
    UpstreamRequestEnded,
    UpstreamUnauthorized,
    UpstreamValidation,
)
from ..upstream.polar import Json, Page, PolarClient
from ..upstream.transport import QueryParams
from .errors import from_upstream
from .scopes import ScopeMemory
from .types import Customer, CustomerState
from .types import CustomerStateBenefitGrant as Grant
from .types import CustomerStateMeter as Meter
from .types import CustomerStateSubscription as Subscription

PAGE_LIMIT = 100
T = TypeVar("T")
Owned = list[tuple[str, T]]  # (customer id, item) pairs


def observed(loader: str, batch: Callable[[list[str]], Awaitable[list[Any]]]) -> Any:
    """The batch function, with its size in the ``gateway_dataloader_batch_size`` histogram and a span."""

    async def run(keys: list[str]) -> list[Any]:
        LOADER_BATCH_SIZE.labels(loader).observe(len(keys))
        with tracing.span(f"loader {loader}", attributes={"loader.name": loader, "loader.batch_size": len(keys)}):
            return await batch(keys)

    return run


async def fan_out(
    keys: Sequence[str], fetch: Callable[[str], Awaitable[Json]], concurrency: int
) -> dict[str, Json | BaseException]:
    """One call per key, at most ``concurrency`` at a time (the caller's share of upstream slots: more
    would only wait there), each answer or failure by key. Once a call fails for a reason that is the
    whole request's (its token refused, its calls spent), the keys left fail the same way without a call:
    2,050 keys had made 2,050 waiting tasks, most of the CPU of a request that could make one call."""
    answers: dict[str, Json | BaseException] = {}
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
    def __init__(self, polar: PolarClient, token: str, settings: Settings, scopes: ScopeMemory) -> None:
        self.polar = polar
        self.token = token
        self.scopes = scopes
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

    def prime(self, data: Json) -> Customer:
        """The customer as a GraphQL object, remembered for later lookups in this request."""
        customer = Customer.from_json(data)
        if self.batching:
            self._seen_by_id[str(customer.id)] = customer
            self.customer_by_id.prime(str(customer.id), customer)
            if customer.external_id is not None:
                self._seen_by_external_id[customer.external_id] = customer
                self.customer_by_external_id.prime(customer.external_id, customer)
        return customer

    # Customers ---------------------------------------------------------------------------------

    async def _customers_by_id(self, ids: list[str]) -> list[Customer | Exception | None]:
        return await self._each(ids, self._seen_by_id, lambda key: self.polar.get_customer(self.token, key))

    async def _customers_by_external_id(self, ids: list[str]) -> list[Customer | Exception | None]:
        return await self._each(
            ids, self._seen_by_external_id, lambda key: self.polar.get_customer_by_external_id(self.token, key)
        )

    async def _each(
        self, keys: Sequence[str], seen: dict[str, Customer], fetch: Callable[[str], Awaitable[Json]]
    ) -> list[Customer | Exception | None]:
        """One GET per key not seen yet, concurrently, after any listing in flight has primed ``seen``."""
        if self._listings:
            await asyncio.wait(set(self._listings))
        unseen = [key for key in keys if key not in seen]
        answers = await fan_out(unseen, fetch, self.concurrency)
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
        if self.batching and not self.scopes.lacks_batch_scopes(self.token):
            try:
                rebuilt = await self._states_from_lists(ids)
            except UpstreamForbidden:
                self.scopes.remember_lacking(self.token)
            except UpstreamError as error:
                return [from_upstream(error)] * len(ids)
            else:
                return [rebuilt[customer_id] for customer_id in ids]
        by_id = await fan_out(ids, lambda i: self.polar.get_customer_state(self.token, i), self.concurrency)
        results: list[CustomerState | Exception] = []
        for answer in (by_id[i] for i in ids):
            if isinstance(answer, UpstreamError):
                results.append(from_upstream(answer))
            elif isinstance(answer, BaseException):
                raise answer
            else:
                results.append(CustomerState.from_json(answer))
        return results

    async def _states_from_lists(self, ids: list[str]) -> dict[str, CustomerState]:
        chunks = [ids[start : start + self.batch_size] for start in range(0, len(ids), self.batch_size)]
        states = {i: CustomerState(active_subscriptions=[], granted_benefits=[], active_meters=[]) for i in ids}
        results = await asyncio.gather(*(self._chunk(chunk) for chunk in chunks), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            forbidden = next((e for e in errors if isinstance(e, UpstreamForbidden)), None)
            raise forbidden or errors[0]
        for subscriptions, grants, meters in (r for r in results if not isinstance(r, BaseException)):
            for customer_id, subscription in subscriptions:
                states[customer_id].active_subscriptions.append(subscription)
            for customer_id, grant in grants:
                states[customer_id].granted_benefits.append(grant)
            for customer_id, meter in meters:
                states[customer_id].active_meters.append(meter)
        return states

    async def _chunk(self, ids: list[str]) -> tuple[Owned[Subscription], Owned[Grant], Owned[Meter]]:
        """The three lists for up to 100 customers, concurrently; every call completes before any
        refusal is raised, so a token without the scopes is refused once per endpoint."""
        by_customer: QueryParams = [("customer_id", i) for i in ids]
        subscriptions, grants, meters = await asyncio.gather(
            self._all_pages(
                self.polar.list_subscriptions,
                [*by_customer, ("status", "active"), ("status", "trialing")],
                lambda s: (s["customer_id"], Subscription.from_list_item(s)),
            ),
            self._all_pages(
                self.polar.list_benefit_grants,
                [*by_customer, ("is_granted", "true")],
                lambda g: (g["customer_id"], Grant.from_list_item(g)),
            ),
            self._all_pages(
                self.polar.list_customer_meters, by_customer, lambda m: (m["customer_id"], Meter.from_json(m))
            ),
            return_exceptions=True,
        )
        if (
            isinstance(subscriptions, BaseException)
            or isinstance(grants, BaseException)
            or isinstance(meters, BaseException)
        ):
            failures = [c for c in (subscriptions, grants, meters) if isinstance(c, BaseException)]
            raise next((f for f in failures if isinstance(f, UpstreamForbidden)), failures[0])
        return subscriptions, grants, meters

    async def _all_pages(
        self, fetch: Callable[[str, QueryParams], Awaitable[Page]], params: QueryParams, project: Callable[[Json], T]
    ) -> list[T]:
        """Every page of a list, each projected as it arrives: Polar's items embed whole customers and
        products, and only what the state needs outlives the page."""

        async def page(number: int) -> tuple[list[T], int]:
            answer = await fetch(self.token, [*params, ("page", number), ("limit", PAGE_LIMIT)])
            return [project(item) for item in answer["items"]], answer["pagination"]["max_page"]

        items, last = await page(1)
        for more, _ in await asyncio.gather(*(page(number) for number in range(2, last + 1))):
            items.extend(more)
        return items
