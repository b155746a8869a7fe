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
from typing import Any

from aiodataloader import DataLoader

from ..observability import tracing
from ..observability.metrics import LOADER_BATCH_SIZE
from ..settings import Settings
from ..upstream.errors import UpstreamError, UpstreamForbidden, UpstreamNotFound, UpstreamValidation
from ..upstream.polar import Json, Page, PolarClient
from ..upstream.transport import QueryParams
from .errors import from_upstream
from .scopes import ScopeMemory
from .types import Customer, CustomerState

PAGE_LIMIT = 100
_STATE_SUBSCRIPTION_KEYS = (
    "id", "created_at", "modified_at", "custom_field_data", "metadata", "status", "amount", "currency",
    "recurring_interval", "current_period_start", "current_period_end", "trial_start", "trial_end",
    "cancel_at_period_end", "canceled_at", "started_at", "ends_at", "product_id", "discount_id", "seats", "units",
)  # fmt: skip


def observed(loader: str, batch: Callable[[list[str]], Awaitable[list[Any]]]) -> Any:
    """The batch function, with its size in the ``gateway_dataloader_batch_size`` histogram and a span."""

    async def run(keys: list[str]) -> list[Any]:
        LOADER_BATCH_SIZE.labels(loader).observe(len(keys))
        with tracing.span(f"loader {loader}", attributes={"loader.name": loader, "loader.batch_size": len(keys)}):
            return await batch(keys)

    return run


class Loaders:
    def __init__(self, polar: PolarClient, token: str, settings: Settings, scopes: ScopeMemory) -> None:
        self.polar = polar
        self.token = token
        self.scopes = scopes
        self.batch_size = settings.state_batch_size
        self.batching = settings.batching
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
        fetched = await asyncio.gather(*(fetch(key) for key in unseen), return_exceptions=True)
        answers = dict(zip(unseen, fetched, strict=True))
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
                return [CustomerState.from_json(rebuilt[customer_id]) for customer_id in ids]
        answers = await asyncio.gather(
            *(self.polar.get_customer_state(self.token, i) for i in ids), return_exceptions=True
        )
        results: list[CustomerState | Exception] = []
        for answer in answers:
            if isinstance(answer, UpstreamError):
                results.append(from_upstream(answer))
            elif isinstance(answer, BaseException):
                raise answer
            else:
                results.append(CustomerState.from_json(answer))
        return results

    async def _states_from_lists(self, ids: list[str]) -> dict[str, Json]:
        chunks = [ids[start : start + self.batch_size] for start in range(0, len(ids), self.batch_size)]
        states: dict[str, Json] = {
            i: {"active_subscriptions": [], "granted_benefits": [], "active_meters": []} for i in ids
        }
        results = await asyncio.gather(*(self._chunk(chunk) for chunk in chunks), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            forbidden = next((e for e in errors if isinstance(e, UpstreamForbidden)), None)
            raise forbidden or errors[0]
        for subscriptions, grants, meters in (r for r in results if not isinstance(r, BaseException)):
            for s in subscriptions:
                item = {key: s.get(key) for key in _STATE_SUBSCRIPTION_KEYS}
                item["price_id"] = s["prices"][0]["id"] if s.get("prices") else None
                item["meters"] = [{k: v for k, v in m.items() if k != "meter"} for m in s.get("meters", [])]
                states[s["customer_id"]]["active_subscriptions"].append(item)
            for g in grants:
                states[g["customer_id"]]["granted_benefits"].append({
                    "id": g["id"], "created_at": g["created_at"], "modified_at": g["modified_at"],
                    "granted_at": g["granted_at"], "benefit_id": g["benefit_id"],
                    "benefit_type": g["benefit"]["type"], "benefit_metadata": g["benefit"].get("metadata", {}),
                    "properties": g.get("properties", {}),
                })  # fmt: skip
            for m in meters:
                states[m["customer_id"]]["active_meters"].append(
                    {k: v for k, v in m.items() if k not in {"customer", "meter", "customer_id"}}
                )
        return states

    async def _chunk(self, ids: list[str]) -> tuple[list[Json], list[Json], list[Json]]:
        """The three lists for up to 100 customers, concurrently; every call completes before any
        refusal is raised, so a token without the scopes is refused once per endpoint."""
        by_customer: QueryParams = [("customer_id", i) for i in ids]
        calls = await asyncio.gather(
            self._all_pages(
                self.polar.list_subscriptions, [*by_customer, ("status", "active"), ("status", "trialing")]
            ),
            self._all_pages(self.polar.list_benefit_grants, [*by_customer, ("is_granted", "true")]),
            self._all_pages(self.polar.list_customer_meters, by_customer),
            return_exceptions=True,
        )
        errors = [c for c in calls if isinstance(c, BaseException)]
        if errors:
            forbidden = next((e for e in errors if isinstance(e, UpstreamForbidden)), None)
            raise forbidden or errors[0]
        subscriptions, grants, meters = (c for c in calls if not isinstance(c, BaseException))
        return subscriptions, grants, meters

    async def _all_pages(self, fetch: Callable[[str, QueryParams], Awaitable[Page]], params: QueryParams) -> list[Json]:
        first = await fetch(self.token, [*params, ("page", 1), ("limit", PAGE_LIMIT)])
        rest = await asyncio.gather(
            *(fetch(self.token, [*params, ("page", page), ("limit", PAGE_LIMIT)])
              for page in range(2, first["pagination"]["max_page"] + 1))
        )  # fmt: skip
        items: list[Json] = list(first["items"])
        for page in rest:
            items.extend(page["items"])
        return items
