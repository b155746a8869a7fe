"""Positions over numbered pages: the arithmetic under every connection (``connections``).

Polar has no cursors, so a cursor holds an absolute position in the listing plus a fingerprint of
the filter and sort it belongs to. A window of up to 100 positions is read with the page size that
puts it in one upstream page when one exists, else in two pages fetched concurrently. ``last``
without ``before`` reads the listing's length first, then its end, forwards (see ``read_tail``).

Cursors are signed with the deployment's secret (``cursor_secret``), so a position is only ever one this
gateway issued: a forged or tampered cursor, or one from another deployment, is refused before any call.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Generic, TypeVar

from ..upstream.pages import Page
from .errors import bad_input

CURSOR_PREFIX = "pos2"
MARK_PREFIX = "mark1"  # a cursor that holds an upstream's own mark (an event id, a creation time)
MAX_MARK_CHARS = 64
MAX_POSITION = 10_000_000  # the deepest position a cursor may hold: 100,000 of Polar's largest pages
MAC_BYTES = 16  # HMAC-SHA-256 truncated to 128 bits
MAX_CURSOR_CHARS = 160  # a cursor this gateway issues has about 60 (a mark cursor at most 136)
LARGEST_PAGE = 100  # the most items one upstream page holds
R = TypeVar("R")
FetchPage = Callable[[int, int], Awaitable[Page[R]]]  # (page number from 1, page size) -> that page


@dataclass(frozen=True)
class Slice(Generic[R]):
    """Items at absolute positions ``start`` .. ``start + len(items) - 1`` of a listing of ``total``.

    ``more_after`` / ``more_before``: whether items follow / precede, when the upstream said so for a page read
    from its own mark (a creation time), where positions may have shifted since the cursor was issued."""

    start: int
    items: list[R]
    total: int
    more_after: bool | None = None
    more_before: bool | None = None

    @property
    def has_next(self) -> bool:
        if self.more_after is not None:
            return self.more_after
        return self.start + len(self.items) < self.total

    @property
    def has_previous(self) -> bool:
        if self.more_before is not None:
            return self.more_before
        return self.start > 0


def fingerprint(listing: object) -> str:
    """Twelve hex digits that tell listings apart: ``listing`` is a frozen record of its filter and sort,
    whose ``repr`` names every field."""
    return hashlib.sha256(repr(listing).encode()).hexdigest()[:12]


class Cursors:
    """Issues cursors and reads them back: ``pos2:<fingerprint>:<position>``, a dot and its HMAC-SHA-256 with
    the deployment's secret (first 128 bits), in URL-safe base64. Only a cursor this deployment signed is
    read; its position must then be ASCII digits (``int`` would take Arabic-Indic ones) within
    ``MAX_POSITION``, so no cursor can send Polar to an absurd page."""

    def __init__(self, secret: bytes) -> None:
        self._mac = hmac.new(secret, digestmod=hashlib.sha256)

    def _sign(self, payload: bytes) -> bytes:
        mac = self._mac.copy()
        mac.update(payload)
        return mac.digest()[:MAC_BYTES]

    def encode(self, position: int, print_: str) -> str:
        payload = f"{CURSOR_PREFIX}:{print_}:{position}".encode()
        return base64.urlsafe_b64encode(payload + b"." + self._sign(payload)).decode()

    def encode_mark(self, mark: str, print_: str) -> str:
        """A cursor holding an upstream's own mark (ASCII, at most ``MAX_MARK_CHARS``), signed like a position."""
        if len(mark) > MAX_MARK_CHARS or not mark.isascii():
            raise ValueError("a cursor's mark is short ASCII")
        payload = f"{MARK_PREFIX}:{print_}:{mark}".encode("ascii")
        return base64.urlsafe_b64encode(payload + b"." + self._sign(payload)).decode()

    def decode_mark(self, cursor: str, print_: str, argument: str) -> str:
        """The mark a cursor of ``encode_mark`` holds; refused as ``decode`` refuses."""
        return self._verified(cursor, print_, argument, MARK_PREFIX)

    def _verified(self, cursor: str, print_: str, argument: str, prefix: str) -> str:
        """The value of a cursor this deployment signed, with ``prefix``, for the listing ``print_``."""
        foreign = bad_input(f"'{argument}' is not a cursor this API issued.", argument)
        if len(cursor) > MAX_CURSOR_CHARS:
            raise foreign
        try:
            raw = base64.b64decode(cursor.encode("ascii"), altchars=b"-_", validate=True)
        except (ValueError, binascii.Error):  # UnicodeEncodeError is a ValueError
            raise foreign from None
        payload, dot, mac = raw[: -MAC_BYTES - 1], raw[-MAC_BYTES - 1 : -MAC_BYTES], raw[-MAC_BYTES:]
        if dot != b"." or not hmac.compare_digest(self._sign(payload), mac):
            raise foreign
        parts = payload.decode("ascii", "replace").split(":", 2)
        if len(parts) != 3 or parts[0] != prefix:
            raise foreign
        if parts[1] != print_:
            raise bad_input(
                f"'{argument}' belongs to a listing with another filter or sort; start again without it.", argument
            )
        return parts[2]

    def decode(self, cursor: str, print_: str, argument: str) -> int:
        """The position a cursor holds; BAD_USER_INPUT naming the argument when it is not one this
        deployment issued, belongs to another listing, or points beyond ``MAX_POSITION``."""
        position = self._verified(cursor, print_, argument, CURSOR_PREFIX)
        if not position.isascii() or not position.isdigit():
            raise bad_input(f"'{argument}' is not a cursor this API issued.", argument)
        value = int(position)  # at most MAX_CURSOR_CHARS digits: cheap
        if value > MAX_POSITION:
            deepest = f"'{argument}' points past position {MAX_POSITION:,}, the deepest this API pages to."
            raise bad_input(deepest, argument)
        return value


@lru_cache(maxsize=4)
def cursors_for(secret: str) -> Cursors:
    """One ``Cursors`` per secret, made once: the HMAC key is prepared a single time."""
    return Cursors(secret.encode())


class BeyondLastPage(Exception):
    """The window lies past the deepest page number the upstream takes."""


def page_size_for(start: int, count: int, maximum: int = LARGEST_PAGE, last_page: int | None = None) -> int:
    """A page size >= count whose pages hold the whole window (on a page no later than ``last_page``), else
    ``count`` (two pages then)."""
    for size in range(count, maximum + 1):
        page = start // size
        if page == (start + count - 1) // size and (last_page is None or page < last_page):
            return size
    return count


@dataclass(frozen=True)
class PagePlan:
    """The upstream pages that hold positions ``start`` .. ``start + count - 1``: pages ``first`` to
    ``last`` (from 1, at most two) of ``size`` items, the window starting ``offset`` items into the first."""

    size: int
    first: int
    last: int
    offset: int


def plan_pages(start: int, count: int, last_page: int | None = None) -> PagePlan:
    """Where a window lies in numbered pages; an empty window still reads one page (for the total).
    ``BeyondLastPage`` when it lies past ``last_page``, the deepest page number the upstream takes."""
    count = max(count, 1)
    size = page_size_for(start, count, last_page=last_page)
    first = start // size + 1
    last = (start + count - 1) // size + 1
    if last_page is not None and last > last_page:
        raise BeyondLastPage(f"positions from {start} lie past page {last_page}")
    return PagePlan(size=size, first=first, last=last, offset=start - (first - 1) * size)


async def read_window(fetch: FetchPage[R], start: int, count: int, last_page: int | None = None) -> Slice[R]:
    """Positions ``start`` .. ``start + count - 1`` in at most two upstream pages, read concurrently."""
    plan = plan_pages(start, count, last_page)
    pages = await asyncio.gather(*(fetch(page, plan.size) for page in range(plan.first, plan.last + 1)))
    items = [item for page in pages for item in page.items]
    return Slice(start=start, items=items[plan.offset : plan.offset + count], total=pages[0].total)


async def read_tail(fetch: FetchPage[R], count: int) -> Slice[R]:
    """The last ``count`` items, read forwards: the listing's length first (a page of one), then the window.

    Reading the first items of the reversed listing saved a call, but Polar keeps items whose sort values
    tie in creation order in both directions (polar-server-differences.md row 15): the reversed listing is
    not the forward one's mirror, and tied items would have come back at positions their cursors do not
    hold, so that paging on from them skipped some and repeated others."""
    total = (await fetch(1, 1)).total
    start = max(0, total - count)
    if start >= total:
        return Slice(start=total, items=[], total=total)
    return await read_window(fetch, start, total - start)


@dataclass(frozen=True)
class PageArguments:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


def _page_size(value: int | None, argument: str, maximum: int) -> int | None:
    if value is None:
        return None
    if value < 0:
        raise bad_input(f"'{argument}' cannot be negative.", argument)
    if value > maximum:
        raise bad_input(f"'{argument}' is at most {maximum}; page through larger listings.", argument)
    return value


def check_arguments(args: PageArguments, maximum: int) -> PageArguments:
    """The arguments, refused when a size is out of range or both directions are asked for."""
    first, last = _page_size(args.first, "first", maximum), _page_size(args.last, "last", maximum)
    if (first is not None or args.after is not None) and (last is not None or args.before is not None):
        raise bad_input("Page forwards with first/after or backwards with last/before, not both.")
    return args


async def read_positions(
    fetch: FetchPage[R], print_: str, args: PageArguments, default_page: int, cursors: Cursors
) -> Slice[R]:
    """The window the arguments ask for in the listing whose fingerprint is ``print_``; cursors are read
    before any call, so a refused one costs nothing upstream."""
    if args.last is not None or args.before is not None:
        count = args.last if args.last is not None else default_page
        if args.before is None:
            return await read_tail(fetch, count)
        end = cursors.decode(args.before, print_, "before")
        start = max(0, end - count)
        return await read_window(fetch, start, end - start)
    start = cursors.decode(args.after, print_, "after") + 1 if args.after is not None else 0
    return await read_window(fetch, start, args.first if args.first is not None else default_page)
