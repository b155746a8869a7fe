"""Voucherify customers: the lookup and the connection.

The list pages by number up to page 99 only, and also by ``starting_after``, a creation time. In creation
order (the default, or ``sortKey: CREATED_AT``) a cursor holds its customer's position and creation time,
so every page after the first is one ``starting_after`` call, however deep: a walk reaches every customer.
Sorted by ``UPDATED_AT`` or ``SOURCE_ID`` only numbered pages exist, so a walk ends at Voucherify's deepest
page (9,900 customers at most) with a clear error.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import TYPE_CHECKING, cast

import strawberry

from ..upstream.errors import UpstreamError, UpstreamValidation
from ..upstream.pages import Page
from ..upstream.voucherify import LIST_LIMIT, MAX_PAGE
from ..upstream.voucherify_records import Customer as CustomerRecord
from ..upstream.voucherify_records import CustomerPage, moment
from ..upstream.voucherify_requests import CustomerQuery, SortKey, instant
from .arguments import checked_text
from .connections import DEFAULT_PAGE_SIZE, Connection, Edge, page_info
from .context import Context
from .errors import bad_input, from_upstream
from .pagination import BeyondLastPage, PageArguments, Slice, check_arguments, fingerprint, read_tail, read_window
from .voucherify_loaders import by_id, by_source_id
from .voucherify_types import VoucherifyCustomer

if TYPE_CHECKING:
    from .pagination import Cursors
    from .voucherify_loaders import VoucherifyLoaders

Info = strawberry.Info[Context, None]


@strawberry.type(description="A page of Voucherify customers. Cursors are opaque and tied to the filter and sort.")
class VoucherifyCustomerConnection(Connection[VoucherifyCustomer]):
    total_count: int = strawberry.field(description="Customers matching the filter, over every page.")


# The upstream's sort keys as a GraphQL enum: GraphQL sees the names, Voucherify gets the values.
strawberry.enum(SortKey, name="VoucherifyCustomerSortKey")


@strawberry.input(description="Every filter of Voucherify's customer list; all given filters must hold.")
class VoucherifyCustomerFilter:
    email: str | None = None
    name: str | None = None
    city: str | None = None
    segment_id: strawberry.ID | None = strawberry.field(default=None, description="Members of this segment.")
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None


def customer_query(
    filter_: VoucherifyCustomerFilter | None, sort_key: SortKey | None, reverse: bool, limit: int
) -> CustomerQuery:
    sort = sort_key
    if filter_ is None:
        return CustomerQuery(sort_key=sort, reverse=reverse)
    given = {"email": filter_.email, "name": filter_.name, "city": filter_.city, "segmentId": filter_.segment_id}
    for label, value in given.items():
        if value is not None:
            checked_text(str(value), f"filter.{label}", limit)
    return CustomerQuery(
        email=filter_.email, name=filter_.name, city=filter_.city,
        segment_id=str(filter_.segment_id) if filter_.segment_id is not None else None,
        created_after=filter_.created_after, created_before=filter_.created_before,
        updated_after=filter_.updated_after, updated_before=filter_.updated_before,
        sort_key=sort, reverse=reverse,
    )  # fmt: skip


# The connection ------------------------------------------------------------------------------------


def _mark(position: int, record: CustomerRecord) -> str:
    return f"{position}|{instant(record.created_at)}"


def _read_mark(cursors: Cursors, cursor: str, print_: str, argument: str) -> tuple[int, datetime]:
    mark = cursors.decode_mark(cursor, print_, argument)
    position, _, created = mark.partition("|")
    if not position.isascii() or not position.isdigit():
        raise bad_input(f"'{argument}' is not a cursor this API issued.", argument)
    return int(position), moment(created)


class Listing:
    """One request's walk over the list ``query`` names, with the caller's keys."""

    def __init__(self, context: Context, query: CustomerQuery) -> None:
        self.context = context
        self.query = query
        self.keys = context.voucherify_keys
        self.client = context.voucherify
        self.print_ = fingerprint(query)

    async def _call(self, page: Awaitable[CustomerPage]) -> CustomerPage:
        try:
            return await page
        except UpstreamValidation as error:  # a filter Voucherify refused (its words name the parameter)
            raise bad_input(error.problems[0].message if error.problems else "Voucherify refused the filter.") from None
        except UpstreamError as error:
            raise from_upstream(error) from error

    async def numbered(self, page: int, size: int) -> Page[CustomerRecord]:
        answer = await self._call(self.client.customers_page(self.keys, self.query, page, size))
        return Page(items=answer.items, total=answer.total)

    async def window(self, args: PageArguments) -> Slice[CustomerRecord]:
        """The page ``args`` ask for. In creation order, one call whatever its depth (a cursor's creation time
        is ``starting_after``); in another order, numbered pages, as deep as Voucherify numbers them."""
        backwards = args.last is not None or args.before is not None
        size = args.last if backwards else args.first
        count = DEFAULT_PAGE_SIZE if size is None else size
        argument = "before" if backwards else "after"
        cursor = args.before if backwards else args.after
        mark = _read_mark(self.context.cursors, cursor, self.print_, argument) if cursor is not None else None
        by_time = self.query.by_creation and count > 0
        try:
            if mark is None:
                if not backwards:
                    return await read_window(self.numbered, 0, count, MAX_PAGE)
                return await (self._tail(count) if by_time else read_tail(self.numbered, count))
            if by_time:
                return await self._next_to(mark, count, flipped=backwards)
            start = mark[0] + 1 if not backwards else max(0, mark[0] - count)
            return await read_window(self.numbered, start, count if not backwards else mark[0] - start, MAX_PAGE)
        except BeyondLastPage:
            raise bad_input(
                f"Voucherify numbers pages up to {MAX_PAGE} ({MAX_PAGE * LIST_LIMIT:,} customers at most); sort by "
                "CREATED_AT (the default) to walk further.",
                argument,
            ) from None

    async def _next_to(self, mark: tuple[int, datetime], count: int, *, flipped: bool) -> Slice[CustomerRecord]:
        """The ``count`` customers after the cursor's (or, ``flipped``, before it), in one call."""
        position, created = mark
        query = self.query.flipped() if flipped else self.query
        answer = await self._call(self.client.customers_after(self.keys, query, created, count))
        # Whether more customers lie beyond the page, in the direction read: customers created or deleted since
        # the cursor was issued have moved positions, so ask the page, not the arithmetic of positions.
        more = False if len(answer.items) < count else answer.has_more
        if not flipped:
            return Slice(start=position + 1, items=answer.items, total=max(answer.total, position + 1), more_after=more)
        items = list(reversed(answer.items))
        return Slice(start=max(0, position - len(items)), items=items, total=answer.total, more_before=more)

    async def _tail(self, count: int) -> Slice[CustomerRecord]:
        """The last ``count`` customers, as the first page of the list in the other direction, reversed."""
        page = self.client.customers_page(self.keys, self.query.flipped(), 1, count)
        answer = await self._call(page)
        items = list(reversed(answer.items))
        return Slice(start=answer.total - len(items), items=items, total=answer.total)


async def resolve_customers(
    info: Info,
    filter_: VoucherifyCustomerFilter | None,
    sort_key: SortKey | None,
    reverse: bool,
    args: PageArguments,
) -> VoucherifyCustomerConnection:
    context = info.context
    args = check_arguments(args, min(context.settings.max_page_size, LIST_LIMIT))
    listing = Listing(context, customer_query(filter_, sort_key, reverse, context.settings.max_identifier_chars))
    loaders = context.voucherify_loaders
    listed = loaders.listing_started()
    try:
        window = await listing.window(args)
    finally:
        listed.set_result(None)
    return _connection(window, listing.print_, loaders, context.cursors)


def _connection(
    window: Slice[CustomerRecord], print_: str, loaders: VoucherifyLoaders, cursors: Cursors
) -> VoucherifyCustomerConnection:
    edges = [
        Edge(cursor=cursors.encode_mark(_mark(window.start + index, record), print_), node=loaders.prime(record))
        for index, record in enumerate(window.items)
    ]
    return VoucherifyCustomerConnection(edges=edges, page_info=page_info(edges, window), total_count=window.total)


# The lookup -----------------------------------------------------------------------------------------


def identifier(id_: strawberry.ID | None, source_id: str | None, limit: int) -> str:
    """The loader key of exactly one of ``id`` and ``sourceId``; a mistake is an error before any call."""
    if (id_ is None) == (source_id is None):
        raise bad_input("Pass exactly one of 'id' or 'sourceId'.")
    if id_ is not None:
        return by_id(checked_text(str(id_), "id", limit))
    return by_source_id(checked_text(str(source_id), "sourceId", limit))


def resolve_customer(
    info: Info, id_: strawberry.ID | None, source_id: str | None
) -> VoucherifyCustomer | Awaitable[VoucherifyCustomer | None] | None:
    key = identifier(id_, source_id, info.context.settings.max_identifier_chars)
    return info.context.voucherify_loaders.find(key)


@strawberry.type
class VoucherifyQueries:
    @strawberry.field(
        description="One Voucherify customer by `id` or by `sourceId` (exactly one); null when none matches."
    )
    def voucherify_customer(
        self, info: Info, id: strawberry.ID | None = None, source_id: str | None = None
    ) -> VoucherifyCustomer | None:
        return cast(VoucherifyCustomer | None, resolve_customer(info, id, source_id))

    @strawberry.field(
        description=(
            "Voucherify customers, newest first unless sorted; at most 100 a page. Null, with an error, when "
            "Voucherify cannot answer (no keys, down): the rest of the response, Polar's fields too, is served."
        )
    )
    async def voucherify_customers(
        self,
        info: Info,
        filter: VoucherifyCustomerFilter | None = None,
        sort_key: SortKey | None = None,
        reverse: bool | None = False,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> VoucherifyCustomerConnection | None:
        arguments = PageArguments(first, after, last, before)
        return await resolve_customers(info, filter, sort_key, bool(reverse), arguments)
