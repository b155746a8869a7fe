"""Typed Polar operations over the transport: one method per REST call, id and external-id twins
side by side. Answers stay Polar's JSON (dicts); the GraphQL layer reads them directly."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, TypedDict
from urllib.parse import quote

import httpx

from .errors import UpstreamError, UpstreamNotFound
from .transport import QueryParams, Transport

Json = dict[str, Any]


class Page(TypedDict):
    items: list[Json]
    pagination: dict[str, int]


def _external(external_id: str) -> str:
    return quote(external_id, safe="")


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
        customer: Json = await self.transport.request("GET", f"/v1/customers/{quote(customer_id, safe='')}", token)
        return customer

    async def get_customer_by_external_id(self, token: str, external_id: str) -> Json:
        customer: Json = await self.transport.request("GET", f"/v1/customers/external/{_external(external_id)}", token)
        return customer

    async def create_customer(self, token: str, body: Json) -> Json:
        customer: Json = await self.transport.request("POST", "/v1/customers/", token, json=body)
        return customer

    async def update_customer(self, token: str, customer_id: str, body: Json) -> Json:
        path = f"/v1/customers/{quote(customer_id, safe='')}"
        customer: Json = await self.transport.request("PATCH", path, token, json=body, repeatable=True)
        return customer

    async def update_customer_by_external_id(self, token: str, external_id: str, body: Json) -> Json:
        path = f"/v1/customers/external/{_external(external_id)}"
        customer: Json = await self.transport.request("PATCH", path, token, json=body, repeatable=True)
        return customer

    async def delete_customer(self, token: str, customer_id: str, *, anonymize: bool) -> None:
        await self._delete(f"/v1/customers/{quote(customer_id, safe='')}", token, anonymize)

    async def delete_customer_by_external_id(self, token: str, external_id: str, *, anonymize: bool) -> None:
        await self._delete(f"/v1/customers/external/{_external(external_id)}", token, anonymize)

    async def _delete(self, path: str, token: str, anonymize: bool) -> None:
        """Retried like PATCH; a 404 after an attempt whose outcome is unknown means that attempt
        deleted the customer, so it is a success, not a NOT_FOUND."""
        try:
            await self.transport.request("DELETE", path, token, params=[("anonymize", anonymize)], repeatable=True)
        except UpstreamNotFound as error:
            if not _any_unknown(error.earlier):
                raise

    def open_customer_export(self, token: str, read_timeout_s: float) -> AbstractAsyncContextManager[httpx.Response]:
        """The CSV export as a streaming response: read its body with ``aiter_bytes``."""
        return self.exports.stream("/v1/customers/export", token, read_timeout_s)

    async def get_customer_state(self, token: str, customer_id: str) -> Json:
        state: Json = await self.transport.request("GET", f"/v1/customers/{quote(customer_id, safe='')}/state", token)
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
            "GET", f"/v1/customer-portal/orders/{quote(order_id, safe='')}", token
        )
        return order

    async def update_portal_order(self, token: str, order_id: str, body: Json) -> Json:
        path = f"/v1/customer-portal/orders/{quote(order_id, safe='')}"
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
