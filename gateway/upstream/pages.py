"""A page of any upstream's numbered list, the shape every vendor client answers a list call in: the
GraphQL connections read windows of positions out of such pages, whoever serves them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One numbered page of a list: its items and how many the whole list holds."""

    items: list[T]
    total: int
