"""One Relay connection machinery for every list: ``PageInfo``, an edge and a connection per node type, one
default page size, and ``connection`` which reads the window the arguments ask for and builds its edges.

A domain module gives a page reader (page number and size in, a page of records with the list's total
out), a frozen record of the list's filter and sort (its fingerprint ties cursors to it), and how a record
becomes a node; it names its connection type only for a description of its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import strawberry

from ..upstream.errors import UpstreamError
from ..upstream.pages import Page
from .errors import from_upstream
from .pagination import Cursors, PageArguments, Slice, fingerprint, read_positions

DEFAULT_PAGE_SIZE = 10  # items of a page when neither first nor last is given
R = TypeVar("R")  # a record of the upstream layer
N = TypeVar("N")  # the GraphQL node it becomes


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[N]):
    cursor: str
    node: N


@strawberry.type
class Connection(Generic[N]):
    edges: list[Edge[N]]
    page_info: PageInfo
    total_count: int

    @strawberry.field
    def nodes(self) -> list[N]:
        return [edge.node for edge in self.edges]


C = TypeVar("C", bound="Connection[Any]")


async def connection(
    kind: type[C],
    read_page: Callable[[int, int], Awaitable[Page[R]]],
    listing: object,
    args: PageArguments,
    node: Callable[[R], N],
    cursors: Cursors,
) -> C:
    """The page of ``listing`` that ``args`` (passed through ``check_arguments`` first, before anything else
    is looked at) ask for, as a ``kind``; upstream failures as GraphQL errors."""
    print_ = fingerprint(listing)

    async def fetch(page: int, size: int) -> Page[R]:
        try:
            return await read_page(page, size)
        except UpstreamError as error:
            raise from_upstream(error) from error

    window = await read_positions(fetch, print_, args, DEFAULT_PAGE_SIZE, cursors)
    edges = [
        Edge(cursor=cursors.encode(window.start + index, print_), node=node(item))
        for index, item in enumerate(window.items)
    ]
    return kind(edges=edges, page_info=page_info(edges, window), total_count=window.total)


def page_info(edges: list[Edge[N]], window: Slice[R]) -> PageInfo:
    return PageInfo(
        has_next_page=window.has_next,
        has_previous_page=window.has_previous,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
