"""Typed Polar operations over the transport: one method per REST call, id and external-id twins side by
side, records in and records out (``polar_records``, ``polar_orders``, ``polar_requests``); a 422 is an
``UpstreamValidation`` whose ``problems`` say what was refused. No other layer sees Polar's JSON, paths or
query parameters.

Every value put in a path goes through ``segment``, so that Polar's server reads back exactly the value
given, whatever it holds; an external id that no path can carry (one with a ``/``) is found by listing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TypeVar
from urllib.parse import quote

import httpx

from .budget import caller_key
from .errors import UpstreamError, UpstreamForbidden, UpstreamLookupTooBroad, UpstreamNotFound
from .pages import Page
from .polar_orders import Order, read_order
from .polar_records import (
    ActiveSubscription,
    BenefitGrant,
    Customer,
    CustomerMeter,
    CustomerSession,
    CustomerState,
    Json,
    PortalCustomer,
    WebhookEndpoint,
    last_page,
    read_customer,
    read_listed_grant,
    read_listed_meter,
    read_listed_subscription,
    read_page,
    read_portal_customer,
    read_session,
    read_state,
    read_webhook_endpoint,
)
from .polar_requests import CustomerCreate, CustomerQuery, CustomerUpdate, OrderQuery, OrderUpdate, SessionCreate
from .transport import QueryParams, Transport

T = TypeVar("T")
Owned = list[tuple[str, T]]  # (customer id, item) pairs
MAX_SEARCH_PAGES = 5  # pages of the list a lookup by an external id with '/' may read
LIST_LIMIT = 100  # Polar's largest page


def segment(value: str) -> str:
    """``value`` as one path segment that Polar's server reads back unchanged.

    Every character but the unreserved ones (letters, digits, ``-._~``) is percent-encoded as UTF-8, and so
    is a segment of only dots: ``.`` and ``..`` are dot segments that clients and proxies resolve away
    (RFC 3986, 5.2.4), while ``%2E%2E`` is data. uvicorn percent-decodes the whole path before Starlette
    routes it, so a ``/`` (even as ``%2F``) splits the segment there: see ``fits_in_path``."""
    if "/" in value:
        raise ValueError("a '/' cannot travel inside one path segment to Polar's server")
    encoded = quote(value, safe="")
    return encoded.replace(".", "%2E") if value in {".", ".."} else encoded


def fits_in_path(value: str) -> bool:
    """Whether ``value`` can be a path segment: Starlette routes on the decoded path, so not with a ``/``."""
    return "/" not in value


class PolarClient:
    def __init__(self, transport: Transport, exports: Transport | None = None) -> None:
        """``exports``: the transport of the CSV export, with connections of its own."""
        self.transport = transport
        self.exports = exports or transport

    async def _get(self, path: str, token: str, params: QueryParams | None = None) -> Json:
        answer: Json = await self.transport.request("GET", path, token, params=params)
        return answer

    async def _patch(self, path: str, token: str, body: Json) -> Json:
        answer: Json = await self.transport.request("PATCH", path, token, json=body, repeatable=True)
        return answer

    async def _post(self, path: str, token: str, body: Json) -> Json:
        answer: Json = await self.transport.request("POST", path, token, json=body)
        return answer

    # Customers ---------------------------------------------------------------------------------

    async def customers_page(self, token: str, query: CustomerQuery, page: int, size: int) -> Page[Customer]:
        """Page ``page`` (from 1) of ``size`` customers (at most ``LIST_LIMIT``), with the list's total."""
        params = [*query.params(), ("page", page), ("limit", size)]
        return read_page(await self._get("/v1/customers/", token, params), read_customer)

    async def get_customer(self, token: str, customer_id: str) -> Customer:
        return read_customer(await self._get(f"/v1/customers/{segment(customer_id)}", token))

    async def get_customer_by_external_id(self, token: str, external_id: str) -> Customer:
        if not fits_in_path(external_id):
            return await self._find_by_external_id(token, external_id)
        return read_customer(await self._get(f"/v1/customers/external/{segment(external_id)}", token))

    async def _find_by_external_id(self, token: str, external_id: str) -> Customer:
        """The customer whose external id is exactly ``external_id``, from the list, for ids no path can carry.

        The list's ``query`` matches external ids by prefix (``ILIKE 'query%'``, case-insensitively, with
        ``%`` and ``_`` as wildcards), besides parts of emails and names: every match of the exact id is
        among its answers. A backslash escapes in ``LIKE``, so the query stops before the first one."""
        query = external_id.split("\\", 1)[0]
        for page in range(1, MAX_SEARCH_PAGES + 1):
            params: QueryParams = [("query", query), ("sorting", "created_at"), ("page", page), ("limit", LIST_LIMIT)]
            listing = await self._get("/v1/customers/", token, params)
            for item in listing["items"]:
                if item.get("external_id") == external_id:
                    return read_customer(item)
            if page >= last_page(listing):
                raise UpstreamNotFound("no customer has this external id")
        # An empty or short prefix matches most customers: reading them all was hundreds of calls a lookup.
        raise UpstreamLookupTooBroad(f"the search for this external id matched over {MAX_SEARCH_PAGES * LIST_LIMIT}")

    async def create_customer(self, token: str, customer: CustomerCreate) -> Customer:
        return read_customer(await self._post("/v1/customers/", token, customer.body()))

    async def update_customer(self, token: str, customer_id: str, change: CustomerUpdate) -> Customer:
        return read_customer(await self._patch(f"/v1/customers/{segment(customer_id)}", token, change.body()))

    async def update_customer_by_external_id(self, token: str, external_id: str, change: CustomerUpdate) -> Customer:
        """Polar's body by external id has no external id or type: those changes are not sent."""
        body = change.body(by_external_id=True)
        if not fits_in_path(external_id):
            found = await self._find_by_external_id(token, external_id)
            return read_customer(await self._patch(f"/v1/customers/{segment(found.id)}", token, body))
        return read_customer(await self._patch(f"/v1/customers/external/{segment(external_id)}", token, body))

    async def delete_customer(self, token: str, customer_id: str, *, anonymize: bool) -> None:
        """Retried like PATCH; a 404 after an attempt whose outcome is unknown means that attempt
        deleted the customer, so it is a success, not a NOT_FOUND."""
        path = f"/v1/customers/{segment(customer_id)}"
        try:
            await self.transport.request("DELETE", path, token, params=[("anonymize", anonymize)], repeatable=True)
        except UpstreamNotFound as error:
            if not _any_unknown(error.earlier):
                raise

    async def prove_token(self, token: str) -> None:
        """One small call with a token Polar has not accepted lately (``UpstreamUnauthorized`` when it refuses
        it), so that a made-up token never takes one of the export's few connections."""
        if not self.transport.trust.accepted(caller_key(token)):
            await self.transport.request("GET", "/v1/customers/", token, params=[("limit", 1)])

    def open_customer_export(self, token: str, read_timeout_s: float) -> AbstractAsyncContextManager[httpx.Response]:
        """The CSV export as a streaming response: read its body with ``aiter_bytes``."""
        return self.exports.stream("/v1/customers/export", token, read_timeout_s)

    # State -------------------------------------------------------------------------------------

    async def get_customer_state(self, token: str, customer_id: str) -> CustomerState:
        return read_state(await self._get(f"/v1/customers/{segment(customer_id)}/state", token))

    async def customer_states(self, token: str, customer_ids: Sequence[str], chunk: int) -> dict[str, CustomerState]:
        """The state of each customer, rebuilt from the subscription, benefit-grant and customer-meter lists
        (``chunk`` customers a call, every page), for far fewer calls than one ``/state`` each. Those lists
        need scopes ``/state`` does not: ``UpstreamForbidden`` when the token lacks them."""
        ids = list(customer_ids)
        states = {i: CustomerState(active_subscriptions=[], granted_benefits=[], active_meters=[]) for i in ids}
        chunks = [ids[start : start + chunk] for start in range(0, len(ids), chunk)]
        results = await asyncio.gather(*(self._states_of(token, part) for part in chunks), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise next((e for e in errors if isinstance(e, UpstreamForbidden)), errors[0])
        for subscriptions, grants, meters in (r for r in results if not isinstance(r, BaseException)):
            for customer_id, subscription in subscriptions:
                states[customer_id].active_subscriptions.append(subscription)
            for customer_id, grant in grants:
                states[customer_id].granted_benefits.append(grant)
            for customer_id, meter in meters:
                states[customer_id].active_meters.append(meter)
        return states

    async def _states_of(
        self, token: str, ids: list[str]
    ) -> tuple[Owned[ActiveSubscription], Owned[BenefitGrant], Owned[CustomerMeter]]:
        """The three lists for up to 100 customers, concurrently; every call completes before any refusal is
        raised, so a token without the scopes is refused once per endpoint."""
        by_customer: QueryParams = [("customer_id", i) for i in ids]
        lists = await asyncio.gather(
            self._every_page(
                "/v1/subscriptions/", token, [*by_customer, ("status", "active"), ("status", "trialing")],
                read_listed_subscription,
            ),
            self._every_page("/v1/benefit-grants/", token, [*by_customer, ("is_granted", "true")], read_listed_grant),
            self._every_page("/v1/customer-meters/", token, by_customer, read_listed_meter),
            return_exceptions=True,
        )  # fmt: skip
        failures = [answer for answer in lists if isinstance(answer, BaseException)]
        if failures:
            raise next((f for f in failures if isinstance(f, UpstreamForbidden)), failures[0])
        subscriptions, grants, meters = lists
        assert not isinstance(subscriptions, BaseException)
        assert not isinstance(grants, BaseException)
        assert not isinstance(meters, BaseException)
        return subscriptions, grants, meters

    async def _every_page(
        self, path: str, token: str, params: QueryParams, read: Callable[[Json], tuple[str, T]]
    ) -> Owned[T]:
        """Every page of a list, each read as it arrives: Polar's items embed whole customers and products,
        and only the record outlives the page."""

        async def page(number: int) -> tuple[Owned[T], int]:
            answer = await self._get(path, token, [*params, ("page", number), ("limit", LIST_LIMIT)])
            return [read(item) for item in answer["items"]], last_page(answer)

        items, last = await page(1)
        for more, _ in await asyncio.gather(*(page(number) for number in range(2, last + 1))):
            items.extend(more)
        return items

    # Sessions (organization tokens) ----------------------------------------------------------------

    async def create_customer_session(self, token: str, session: SessionCreate) -> CustomerSession:
        return read_session(await self._post("/v1/customer-sessions/", token, session.body()))

    # The customer portal (customer session tokens) -------------------------------------------------

    # Webhook endpoints (webhooks:write) ----------------------------------------------------------

    async def create_webhook_endpoint(self, token: str, url: str, events: Sequence[str]) -> WebhookEndpoint:
        """An endpoint receiving ``events`` as Polar's raw JSON; its answer holds the secret deliveries are
        signed with, shown this once."""
        body = {"url": url, "format": "raw", "events": list(events)}
        return read_webhook_endpoint(await self._post("/v1/webhooks/endpoints", token, body))

    async def get_portal_customer(self, token: str) -> PortalCustomer:
        return read_portal_customer(await self._get("/v1/customer-portal/customers/me", token))

    async def portal_orders_page(self, token: str, query: OrderQuery, page: int, size: int) -> Page[Order]:
        params = [*query.params(), ("page", page), ("limit", size)]
        return read_page(await self._get("/v1/customer-portal/orders/", token, params), read_order)

    async def get_portal_order(self, token: str, order_id: str) -> Order:
        return read_order(await self._get(f"/v1/customer-portal/orders/{segment(order_id)}", token))

    async def update_portal_order(self, token: str, order_id: str, change: OrderUpdate) -> Order:
        return read_order(await self._patch(f"/v1/customer-portal/orders/{segment(order_id)}", token, change.body()))


def _any_unknown(failures: tuple[UpstreamError, ...]) -> bool:
    return any(failure.outcome_unknown for failure in failures)
