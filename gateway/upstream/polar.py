"""Typed Polar operations over the transport: one method per REST call, id and external-id twins
side by side. Answers stay Polar's JSON (dicts); the GraphQL layer reads them directly.

Every value put in a path goes through ``segment``, so that Polar's server reads back exactly the value
given, whatever it holds; an external id that no path can carry (one with a ``/``) is found by listing.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, TypedDict
from urllib.parse import quote

import httpx

from .budget import caller_key
from .errors import UpstreamError, UpstreamLookupTooBroad, UpstreamNotFound
from .transport import QueryParams, Transport

Json = dict[str, Any]


class Page(TypedDict):
    items: list[Json]
    pagination: dict[str, int]


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

    # Customers ---------------------------------------------------------------------------------

    async def list_customers(self, token: str, params: QueryParams) -> Page:
        page: Page = await self.transport.request("GET", "/v1/customers/", token, params=params)
        return page

    async def get_customer(self, token: str, customer_id: str) -> Json:
        customer: Json = await self.transport.request("GET", f"/v1/customers/{segment(customer_id)}", token)
        return customer

    async def get_customer_by_external_id(self, token: str, external_id: str) -> Json:
        if not fits_in_path(external_id):
            return await self._find_by_external_id(token, external_id)
        customer: Json = await self.transport.request("GET", f"/v1/customers/external/{segment(external_id)}", token)
        return customer

    async def _find_by_external_id(self, token: str, external_id: str) -> Json:
        """The customer whose external id is exactly ``external_id``, from the list, for ids no path can carry.

        The list's ``query`` matches external ids by prefix (``ILIKE 'query%'``, case-insensitively, with
        ``%`` and ``_`` as wildcards), besides parts of emails and names: every match of the exact id is
        among its answers. A backslash escapes in ``LIKE``, so the query stops before the first one."""
        query = external_id.split("\\", 1)[0]
        for page in range(1, MAX_SEARCH_PAGES + 1):
            params: QueryParams = [("query", query), ("sorting", "created_at"), ("page", page), ("limit", LIST_LIMIT)]
            listing = await self.list_customers(token, params)
            for item in listing["items"]:
                if item.get("external_id") == external_id:
                    return item
            if page >= listing["pagination"]["max_page"]:
                raise UpstreamNotFound("no customer has this external id")
        # An empty or short prefix matches most customers: reading them all was hundreds of calls a lookup.
        raise UpstreamLookupTooBroad(f"the search for this external id matched over {MAX_SEARCH_PAGES * LIST_LIMIT}")

    async def create_customer(self, token: str, body: Json) -> Json:
        customer: Json = await self.transport.request("POST", "/v1/customers/", token, json=body)
        return customer

    async def update_customer(self, token: str, customer_id: str, body: Json) -> Json:
        path = f"/v1/customers/{segment(customer_id)}"
        customer: Json = await self.transport.request("PATCH", path, token, json=body, repeatable=True)
        return customer

    async def update_customer_by_external_id(self, token: str, external_id: str, body: Json) -> Json:
        if not fits_in_path(external_id):
            found = await self._find_by_external_id(token, external_id)
            return await self.update_customer(token, found["id"], body)
        path = f"/v1/customers/external/{segment(external_id)}"
        customer: Json = await self.transport.request("PATCH", path, token, json=body, repeatable=True)
        return customer

    async def delete_customer(self, token: str, customer_id: str, *, anonymize: bool) -> None:
        await self._delete(f"/v1/customers/{segment(customer_id)}", token, anonymize)

    async def delete_customer_by_external_id(self, token: str, external_id: str, *, anonymize: bool) -> None:
        if not fits_in_path(external_id):
            found = await self._find_by_external_id(token, external_id)
            await self.delete_customer(token, found["id"], anonymize=anonymize)
            return
        await self._delete(f"/v1/customers/external/{segment(external_id)}", token, anonymize)

    async def _delete(self, path: str, token: str, anonymize: bool) -> None:
        """Retried like PATCH; a 404 after an attempt whose outcome is unknown means that attempt
        deleted the customer, so it is a success, not a NOT_FOUND."""
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

    async def get_customer_state(self, token: str, customer_id: str) -> Json:
        state: Json = await self.transport.request("GET", f"/v1/customers/{segment(customer_id)}/state", token)
        return state

    # Sessions and the customer portal (customer session tokens) ------------------------------------

    async def create_customer_session(self, token: str, body: Json) -> Json:
        session: Json = await self.transport.request("POST", "/v1/customer-sessions/", token, json=body)
        return session

    async def get_portal_customer(self, token: str) -> Json:
        customer: Json = await self.transport.request("GET", "/v1/customer-portal/customers/me", token)
        return customer

    async def list_portal_orders(self, token: str, params: QueryParams) -> Page:
        page: Page = await self.transport.request("GET", "/v1/customer-portal/orders/", token, params=params)
        return page

    async def get_portal_order(self, token: str, order_id: str) -> Json:
        order: Json = await self.transport.request(
            "GET", f"/v1/customer-portal/orders/{segment(order_id)}", token
        )
        return order

    async def update_portal_order(self, token: str, order_id: str, body: Json) -> Json:
        path = f"/v1/customer-portal/orders/{segment(order_id)}"
        order: Json = await self.transport.request("PATCH", path, token, json=body, repeatable=True)
        return order

    # Multi-customer lists (for batched state) --------------------------------------------------

    async def list_subscriptions(self, token: str, params: QueryParams) -> Page:
        page: Page = await self.transport.request("GET", "/v1/subscriptions/", token, params=params)
        return page

    async def list_benefit_grants(self, token: str, params: QueryParams) -> Page:
        page: Page = await self.transport.request("GET", "/v1/benefit-grants/", token, params=params)
        return page

    async def list_customer_meters(self, token: str, params: QueryParams) -> Page:
        page: Page = await self.transport.request("GET", "/v1/customer-meters/", token, params=params)
        return page


def _any_unknown(failures: tuple[UpstreamError, ...]) -> bool:
    return any(failure.outcome_unknown for failure in failures)
