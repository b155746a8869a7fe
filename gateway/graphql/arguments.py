"""Rules on GraphQL arguments shared by every listing, lookup and update: a malformed one is refused with a
clear error before any upstream call; one left out of an update is kept."""

from __future__ import annotations

import uuid
from typing import TypeVar

from strawberry.types.unset import UNSET

from ..upstream.polar_requests import KEEP, Keep
from .errors import bad_input

T = TypeVar("T")


def require_uuid(value: str, argument: str, noun: str = "a UUID") -> str:
    """The value when it is a UUID, else BAD_USER_INPUT naming the argument, before any upstream call."""
    try:
        uuid.UUID(value)
    except ValueError:
        raise bad_input(f"'{argument}' must be {noun}.", argument) from None
    return value


def checked_text(value: str, argument: str, limit: int) -> str:
    """A text that travels in an upstream's URL: not empty, at most ``limit`` characters (BAD_USER_INPUT)."""
    if not value:
        raise bad_input(f"'{argument}' cannot be empty.", argument)
    if len(value) > limit:
        raise bad_input(f"'{argument}' has over {limit} characters (setting max_identifier_chars).", argument)
    return value


def kept(value: T) -> T | Keep:
    """An input field left out (``UNSET``) is one an update keeps as it is; ``None`` clears it."""
    return KEEP if value is UNSET else value
