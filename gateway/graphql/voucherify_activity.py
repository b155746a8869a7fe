"""A Voucherify customer's activity as a connection: Voucherify pages events by the id of the last one
(``starting_after_id``) and gives no total, so a cursor holds an event id, signed like every cursor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, cast

import strawberry
from strawberry.scalars import JSON

from ..upstream.errors import UpstreamError, UpstreamNotFound, UpstreamValidation
from ..upstream.voucherify_requests import instant
from .arguments import checked_text
from .connections import DEFAULT_PAGE_SIZE, Edge, PageInfo
from .errors import ErrorCode, bad_input, from_upstream, gateway_error
from .pagination import fingerprint

if TYPE_CHECKING:
    from .context import Context


UNPAGEABLE = "Voucherify answered an event id this gateway cannot page by."


@strawberry.type(name="VoucherifyActivity", description="One customer event, e.g. customer.created.")
class Activity:
    id: strawberry.ID
    type: str | None
    category: str | None
    created_at: datetime | None
    group_id: str | None = strawberry.field(description="The id of the request that caused it.")
    data: JSON = strawberry.field(description="The event's payload as Voucherify sends it.")


@strawberry.type(description="A page of a customer's events; Voucherify counts no total.")
class VoucherifyActivityConnection:
    edges: list[Edge[Activity]]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[Activity]:
        return [edge.node for edge in self.edges]


@dataclass(frozen=True)
class ActivityArguments:
    first: int | None = None
    after: str | None = None
    type: str | None = None
    category: str | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None

    def filters(self) -> list[tuple[str, str | int | float | bool | None]]:
        found: list[tuple[str, str | int | float | bool | None]] = []
        if self.type is not None:
            found.append(("type", self.type))
        if self.category is not None:
            found.append(("category", self.category))
        if self.start_date is not None:
            found.append(("start_date", instant(self.start_date)))
        if self.end_date is not None:
            found.append(("end_date", instant(self.end_date)))
        return found


async def resolve_activity(
    info: strawberry.Info[Context, None], customer_id: str, args: ActivityArguments
) -> VoucherifyActivityConnection:
    """One page of events; the cursor is read, and the size checked, before any call."""
    context = info.context
    size = DEFAULT_PAGE_SIZE if args.first is None else args.first
    if not 0 <= size <= context.settings.max_page_size:
        raise bad_input(f"'first' is between 0 and {context.settings.max_page_size}.", "first")
    if args.type is not None:
        checked_text(args.type, "type", context.settings.max_identifier_chars)
    print_ = fingerprint((customer_id, args.type, args.category, args.start_date, args.end_date))
    after = context.cursors.decode_mark(args.after, print_, "after") if args.after is not None else None
    if size == 0:
        nothing = _info([], has_next=False, has_previous=after is not None)
        return VoucherifyActivityConnection(edges=[], page_info=nothing)
    keys = context.voucherify_keys
    try:
        page = await context.voucherify.customer_activity(keys, customer_id, size, after, args.filters())
    except UpstreamNotFound:
        return VoucherifyActivityConnection(edges=[], page_info=_info([], has_next=False, has_previous=False))
    except UpstreamValidation as error:
        raise bad_input(error.problems[0].message if error.problems else "Voucherify refused the arguments.") from None
    except UpstreamError as error:
        raise from_upstream(error) from error
    try:
        edges = [
            Edge(cursor=context.cursors.encode_mark(item.id, print_), node=Activity(
                id=strawberry.ID(item.id), type=item.type, category=item.category, created_at=item.created_at,
                group_id=item.group_id, data=cast(JSON, item.data),
            ))
            for item in page.items
        ]  # fmt: skip
    except ValueError:  # an event id no cursor can hold (over 64 characters, or not ASCII)
        raise gateway_error(UNPAGEABLE, ErrorCode.UPSTREAM_UNAVAILABLE) from None
    return VoucherifyActivityConnection(edges=edges, page_info=_info(edges, page.has_more, after is not None))


def _info(edges: list[Edge[Activity]], has_next: bool, has_previous: bool) -> PageInfo:
    return PageInfo(
        has_next_page=has_next,
        has_previous_page=has_previous,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
