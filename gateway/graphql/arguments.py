"""GraphQL arguments turned into upstream parameters, refused with a clear error when malformed;
one rule each, shared by every listing and lookup."""

from __future__ import annotations

import uuid

from .errors import bad_input


def upstream_sorting(sort_key: str | None, reverse: bool) -> str:
    """No sort key: Polar's default, newest first. A sort key: ascending; ``reverse`` flips either."""
    if sort_key is None:
        return "created_at" if reverse else "-created_at"
    return f"-{sort_key}" if reverse else sort_key


def require_uuid(value: str, argument: str, noun: str = "a UUID") -> str:
    """The value when it is a UUID, else BAD_USER_INPUT naming the argument, before any upstream call."""
    try:
        uuid.UUID(value)
    except ValueError:
        raise bad_input(f"'{argument}' must be {noun}.", argument) from None
    return value
