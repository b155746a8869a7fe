"""Rules on GraphQL arguments shared by every listing and lookup: a malformed one is refused with a clear
error before any upstream call."""

from __future__ import annotations

import uuid

from .errors import bad_input


def require_uuid(value: str, argument: str, noun: str = "a UUID") -> str:
    """The value when it is a UUID, else BAD_USER_INPUT naming the argument, before any upstream call."""
    try:
        uuid.UUID(value)
    except ValueError:
        raise bad_input(f"'{argument}' must be {noun}.", argument) from None
    return value
