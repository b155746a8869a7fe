"""Sorting and paging as Polar's SQL does them: criteria in order, NULLS LAST ascending and
NULLS FIRST descending (PostgreSQL's defaults), and no tie-breaker: rows that tie on every
criterion come in creation (insertion) order, ascending or descending, as the real server
returned them (``polar-server-differences.md``, row 15).

Callers pass records in insertion order. ``/state`` orders its arrays with the same functions as
the list endpoints, so a state rebuilt from the three lists matches ``/state`` item for item.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar


class HasId(Protocol):
    @property
    def id(self) -> str: ...


T = TypeVar("T", bound=HasId)
SortKeys = dict[str, Callable[[Any], Any]]


def sort_records(records: Sequence[T], criteria: Sequence[str], keys: SortKeys) -> list[T]:
    """Stable multi-key sort, the last criterion applied first; ties keep the order given."""
    ordered = list(records)
    for criterion in reversed(criteria):
        descending = criterion.startswith("-")
        key_of = keys[criterion.lstrip("-")]

        def key(record: T, key_of: Callable[[Any], Any] = key_of) -> tuple[bool, Any]:
            value = key_of(record)
            return (value is None, value if value is not None else 0)

        ordered.sort(key=key, reverse=descending)  # reverse=True keeps equal records in their order
    return ordered


def page_slice(records: Sequence[T], page: int, limit: int) -> list[T]:
    start = (page - 1) * limit
    return list(records[start : start + limit])
