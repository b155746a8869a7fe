"""Typed Voucherify operations over the transport: one method per REST call, records in and records out
(``voucherify_records``, ``voucherify_requests``); a 400 is an ``UpstreamValidation`` whose ``problems`` say
what was refused. No other layer sees Voucherify's JSON, paths or query parameters.

Every customer path takes an ``id`` or a ``source_id``: the caller's value is one percent-encoded segment.
The caller's keys travel as ``VoucherifyKeys.encode()``; client keys reach only the client-side consents.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

from .budget import caller_key
from .errors import UpstreamUnavailable
from .transport import UNPROVEN, Files, QueryParams, Transport
from .voucherify_records import (
    ActivityPage,
    AsyncAction,
    Customer,
    CustomerPage,
    DeletionReport,
    Json,
    Segment,
    read_activity_page,
    read_async_action,
    read_async_action_id,
    read_customer,
    read_customer_page,
    read_deletion,
    read_segments,
)
from .voucherify_requests import BulkCustomer, CustomerFields, CustomerQuery, CustomerUpsert, instant
from .voucherify_wire import VoucherifyKeys

T = TypeVar("T")
LIST_LIMIT = 100  # the most customers one page of the list holds
MAX_PAGE = 99  # the deepest page number the list takes; ``starting_after`` reaches further


def segment(value: str) -> str:
    """``value`` as one path segment: every character but the unreserved ones percent-encoded, and a
    segment of dots too (``.`` and ``..`` would be resolved away by clients and proxies)."""
    encoded = quote(value, safe="")
    return encoded.replace(".", "%2E") if value in {".", ".."} else encoded


def _read(read: Callable[[Json], T], answer: Any) -> T:
    """An answer as a record; one the contract does not describe is an upstream failure, not a crash."""
    try:
        return read(answer)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        failure = UpstreamUnavailable(f"an answer Voucherify's contract does not have ({type(error).__name__})")
        failure.upstream = "Voucherify"
        raise failure from None


class VoucherifyClient:
    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    async def _call(
        self,
        method: str,
        path: str,
        keys: VoucherifyKeys,
        *,
        params: QueryParams | None = None,
        json: Any = None,
        files: Files | None = None,
        repeatable: bool | None = None,
    ) -> Any:
        return await self.transport.request(
            method, path, keys.encode(), params=params, json=json, files=files, repeatable=repeatable
        )

    def caller_of(self, keys: VoucherifyKeys) -> str:
        """Who the keys are, for slots shared by callers: their digest once Voucherify has accepted them
        lately, else one name that every unproven key pair shares (made-up keys are one caller)."""
        caller = caller_key(keys.encode())
        return caller if self.transport.trust.accepted(caller) else UNPROVEN

    async def prove_keys(self, keys: VoucherifyKeys) -> None:
        """One small call with keys Voucherify has not accepted lately (``UpstreamUnauthorized`` when it
        refuses them): an upload is read only once its keys are good."""
        if not self.transport.trust.accepted(caller_key(keys.encode())):
            await self._call("GET", "/v1/customers", keys, params=[("limit", 1)])

    # Customers ---------------------------------------------------------------------------------

    async def customers_page(self, keys: VoucherifyKeys, query: CustomerQuery, page: int, size: int) -> CustomerPage:
        """Page ``page`` (1 to ``MAX_PAGE``) of ``size`` customers (at most ``LIST_LIMIT``)."""
        params = [*query.params(), ("page", page), ("limit", size)]
        return _read(read_customer_page, await self._call("GET", "/v1/customers", keys, params=params))

    async def customers_after(
        self, keys: VoucherifyKeys, query: CustomerQuery, created: datetime, size: int
    ) -> CustomerPage:
        """``size`` customers after one created at ``created``, in a list in creation order: Voucherify's
        ``starting_after`` goes to older customers in a descending order, and to newer ones in an ascending."""
        params = [*query.params(), ("starting_after", instant(created)), ("limit", size)]
        return _read(read_customer_page, await self._call("GET", "/v1/customers", keys, params=params))

    async def get_customer(self, keys: VoucherifyKeys, id_or_source_id: str) -> Customer:
        answer = await self._call("GET", f"/v1/customers/{segment(id_or_source_id)}", keys)
        return _read(read_customer, answer)

    async def upsert_customer(self, keys: VoucherifyKeys, customer: CustomerUpsert) -> Customer:
        """An upsert by ``id`` or ``source_id`` leaves the same customer however often it is sent, so it is
        retried like a PUT; one with neither creates a customer each time, so it is not."""
        repeatable = customer.id is not None or customer.source_id is not None
        answer = await self._call("POST", "/v1/customers", keys, json=customer.body(), repeatable=repeatable)
        return _read(read_customer, answer)

    async def update_customer(self, keys: VoucherifyKeys, id_or_source_id: str, change: CustomerFields) -> Customer:
        path = f"/v1/customers/{segment(id_or_source_id)}"
        return _read(read_customer, await self._call("PUT", path, keys, json=change.body(), repeatable=True))

    async def delete_customer(self, keys: VoucherifyKeys, id_or_source_id: str) -> None:
        """Not retried: a retry after an unknown outcome would answer 404 for a customer it deleted."""
        await self._call("DELETE", f"/v1/customers/{segment(id_or_source_id)}", keys)

    async def permanently_delete_customer(self, keys: VoucherifyKeys, id_or_source_id: str) -> DeletionReport:
        path = f"/v1/customers/{segment(id_or_source_id)}/permanent-deletion"
        return _read(read_deletion, await self._call("POST", path, keys))

    async def customer_segments(self, keys: VoucherifyKeys, customer_id: str) -> list[Segment]:
        answer = await self._call("GET", f"/v1/customers/{segment(customer_id)}/segments", keys)
        return _read(read_segments, answer)

    async def customer_activity(
        self, keys: VoucherifyKeys, customer_id: str, size: int, after: str | None, filters: QueryParams
    ) -> ActivityPage:
        """A page of the customer's events, newest first; ``after``: the id of the event to continue after."""
        params: QueryParams = [*filters, ("limit", size), ("order", "-created_at")]
        if after is not None:
            params.append(("starting_after_id", after))
        answer = await self._call("GET", f"/v1/customers/{segment(customer_id)}/activity", keys, params=params)
        return _read(read_activity_page, answer)

    async def update_consents(
        self, keys: VoucherifyKeys, id_or_source_id: str, consents: dict[str, bool], unsubscribed: bool
    ) -> None:
        """Grants and revocations by consent id; ``unsubscribed`` opts out of all first. With client keys,
        the client-side path, which Voucherify accepts from the allowed origins without a secret."""
        body: Json = {"unsubscribed": True} if unsubscribed else {}
        body.update(consents)
        prefix = "/client/v1" if keys.client_side else "/v1"
        await self._call("PUT", f"{prefix}/customers/{segment(id_or_source_id)}/consents", keys, json=body,
                         repeatable=True)  # fmt: skip

    # Bulk work, as async actions -----------------------------------------------------------------

    async def bulk_update(self, keys: VoucherifyKeys, customers: list[BulkCustomer]) -> str:
        """The async action's id. Not retried: a repeat would queue the work twice."""
        body = [customer.body() for customer in customers]
        return _read(read_async_action_id, await self._call("POST", "/v1/customers/bulk/async", keys, json=body))

    async def metadata_bulk_update(self, keys: VoucherifyKeys, source_ids: list[str], metadata: Json) -> str:
        body = {"source_ids": source_ids, "metadata": metadata}
        answer = await self._call("POST", "/v1/customers/metadata/async", keys, json=body)
        return _read(read_async_action_id, answer)

    async def import_customers(self, keys: VoucherifyKeys, file_name: str, content: bytes) -> str:
        files: Files = {"file": (file_name, content, "text/csv")}
        answer = await self._call("POST", "/v1/customers/importCSV", keys, files=files)
        return _read(read_async_action_id, answer)

    async def get_async_action(self, keys: VoucherifyKeys, action_id: str) -> AsyncAction:
        answer = await self._call("GET", f"/v1/async-actions/{segment(action_id)}", keys)
        return _read(read_async_action, answer)


__all__ = ["LIST_LIMIT", "MAX_PAGE", "Segment", "VoucherifyClient", "VoucherifyKeys"]
