"""Page windows, as pure logic: which numbered pages hold a window of positions, and what a connection's
arguments read, over an in-memory listing that counts the pages it serves."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest
from graphql import GraphQLError

from gateway.graphql.pagination import (
    Cursors,
    PageArguments,
    check_arguments,
    fingerprint,
    page_size_for,
    plan_pages,
    read_positions,
    read_tail,
    read_window,
)
from gateway.upstream.pages import Page
from gateway.upstream.polar_requests import CustomerQuery

T = TypeVar("T")
CURSORS = Cursors(b"k" * 32)
PRINT = "0123456789ab"


class Listing:
    """Positions 0 .. length - 1, served in numbered pages as Polar serves them; each page read is kept."""

    def __init__(self, length: int) -> None:
        self.length = length
        self.reads: list[tuple[int, int]] = []

    async def __call__(self, page: int, size: int) -> Page[int]:
        self.reads.append((page, size))
        start = (page - 1) * size
        return Page(items=list(range(start, min(start + size, self.length))), total=self.length)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


@pytest.mark.parametrize(("start", "count"), [(0, 10), (5, 10), (95, 10), (37, 1), (990, 100), (0, 100), (123, 77)])
def test_a_window_lies_in_at_most_two_pages(start: int, count: int) -> None:
    plan = plan_pages(start, count)
    assert plan.size >= count
    assert plan.last - plan.first in {0, 1}
    assert (plan.first - 1) * plan.size + plan.offset == start  # the window starts where it should
    assert plan.last * plan.size >= start + count  # and ends inside the last page read


@pytest.mark.parametrize(("start", "count", "size"), [(0, 10, 10), (10, 10, 10), (5, 10, 15), (25, 10, 12)])
def test_one_page_is_used_when_one_page_can_hold_the_window(start: int, count: int, size: int) -> None:
    assert page_size_for(start, count) == size
    assert plan_pages(start, count).first == plan_pages(start, count).last


def test_two_pages_when_no_page_size_up_to_100_holds_the_window() -> None:
    assert page_size_for(99, 100) == 100  # positions 99 .. 198 fit in no one page of at most 100
    plan = plan_pages(99, 100)
    assert (plan.first, plan.last, plan.size, plan.offset) == (1, 2, 100, 99)


def test_an_empty_window_still_reads_one_page_for_the_total() -> None:
    listing = Listing(30)
    window = run(read_window(listing, 12, 0))
    assert (window.items, window.total, listing.reads) == ([], 30, [(13, 1)])


@pytest.mark.parametrize(("start", "count"), [(0, 10), (7, 10), (99, 2), (45, 30), (90, 20)])
def test_a_window_holds_exactly_its_positions(start: int, count: int) -> None:
    listing = Listing(100)
    window = run(read_window(listing, start, count))
    assert window.items == list(range(start, min(start + count, 100)))
    assert len(listing.reads) <= 2


def test_the_tail_is_read_forwards_after_the_length() -> None:
    listing = Listing(23)
    window = run(read_tail(listing, 5))
    assert window.items == [18, 19, 20, 21, 22]
    assert window.start == 18
    assert listing.reads[0] == (1, 1)  # the length first
    assert not window.has_next
    assert window.has_previous


def test_the_tail_of_an_empty_listing_is_empty() -> None:
    window = run(read_tail(Listing(0), 5))
    assert (window.items, window.start, window.total) == ([], 0, 0)


def test_after_and_before_read_the_positions_next_to_their_cursor() -> None:
    after = CURSORS.encode(9, PRINT)
    forwards = run(read_positions(Listing(50), PRINT, PageArguments(first=3, after=after), 10, CURSORS))
    assert forwards.items == [10, 11, 12]
    before = CURSORS.encode(9, PRINT)
    backwards = run(read_positions(Listing(50), PRINT, PageArguments(last=4, before=before), 10, CURSORS))
    assert backwards.items == [5, 6, 7, 8]
    default = run(read_positions(Listing(50), PRINT, PageArguments(), 10, CURSORS))
    assert default.items == list(range(10))


def test_a_cursor_of_another_listing_costs_no_page() -> None:
    listing = Listing(50)
    foreign = CURSORS.encode(3, "ffffffffffff")
    with pytest.raises(GraphQLError, match="another filter or sort"):
        run(read_positions(listing, PRINT, PageArguments(after=foreign), 10, CURSORS))
    assert listing.reads == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (PageArguments(first=-1), "'first' cannot be negative"),
        (PageArguments(last=101), "'last' is at most 100"),
        (PageArguments(first=1, last=1), "not both"),
        (PageArguments(after="x", before="y"), "not both"),
    ],
)
def test_page_arguments_out_of_range_are_refused(args: PageArguments, message: str) -> None:
    with pytest.raises(GraphQLError, match=message):
        check_arguments(args, 100)


def test_listings_differ_in_their_fingerprint_by_filter_and_sort() -> None:
    prints = {
        fingerprint(CustomerQuery()),
        fingerprint(CustomerQuery(reverse=True)),
        fingerprint(CustomerQuery(sort_key="email")),
        fingerprint(CustomerQuery(email="a@b.co")),
        fingerprint(CustomerQuery(metadata=(("tier", ("gold",)),))),
    }
    assert len(prints) == 5
    assert fingerprint(CustomerQuery(email="a@b.co")) == fingerprint(CustomerQuery(email="a@b.co"))
