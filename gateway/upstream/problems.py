"""Polar's 422 answers read as problems: which field, what kind of mistake, and Polar's words for it.

Polar's ``detail`` is pydantic's error list: ``loc`` is the path into the request (``["body", "email"]``),
led on a create by the tag of the body's union (``["body", "individual", "email"]``, as the real server
sends it) and crossed by the tags of unions inside it (``constrained-str``, ``[key]``) and list indexes.
The kind is read from pydantic's ``type`` and, for the rules Polar checks itself, from the message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any


class ProblemKind(Enum):
    TAKEN = "taken"  # unique, and another customer has it
    INVALID = "invalid"
    BLANK = "blank"
    REQUIRED = "required"
    TOO_LONG = "too_long"  # a string
    TOO_MANY = "too_many"  # a list or a map
    IMMUTABLE = "immutable"  # set once, or fixed once an address is set
    NOT_FOUND = "not_found"  # names something that does not exist


@dataclass(frozen=True, slots=True)
class Problem:
    """One refused field: ``path`` holds the request's field names (snake_case), outermost first, with
    Polar's tags and indexes left out; ``region`` is US or CA when the address's ``state`` (``rejected``)
    is not one of that country's, which Polar reports on the whole address."""

    path: tuple[str, ...]
    kind: ProblemKind
    message: str
    region: str | None = None
    rejected: object = None


_BODY_TAGS = frozenset({"individual", "team"})  # the create body is a union on ``type``: its tag leads loc
_INNER_TAGS = re.compile(r"^(constrained-str|int|float|bool|str|\[key\])$")
_STATE_MESSAGES = {"Value error, Invalid US state": "US", "Value error, Invalid CA subdivision": "CA"}
_BY_TYPE = {
    "missing": ProblemKind.REQUIRED,
    "string_too_long": ProblemKind.TOO_LONG,
    "too_long": ProblemKind.TOO_MANY,
    "string_too_short": ProblemKind.BLANK,
}


def read_problems(details: Sequence[dict[str, Any]]) -> list[Problem]:
    """Every detail as a problem, in Polar's order; a detail repeated for each member of a union once."""
    problems: list[Problem] = []
    seen: set[tuple[tuple[str, ...], str]] = set()
    for detail in details:
        problem = read_problem(detail)
        key = (problem.path, problem.message)
        if key not in seen:
            seen.add(key)
            problems.append(problem)
    return problems


def read_problem(detail: dict[str, Any]) -> Problem:
    message = str(detail.get("msg", "Invalid value."))
    path = field_path(detail.get("loc", []))
    region = _STATE_MESSAGES.get(message)
    if region is None:
        return Problem(path=path, kind=problem_kind(str(detail.get("type", "")), message), message=message)
    address = detail.get("input")
    rejected = address.get("state") if isinstance(address, dict) else None
    return Problem(path=(*path, "state"), kind=ProblemKind.INVALID, message=message, region=region, rejected=rejected)


def field_path(loc: Sequence[object]) -> tuple[str, ...]:
    """The field names of a ``loc``: without ``body``, the create body's tag, inner union tags and indexes."""
    parts = [str(part) for part in loc if not isinstance(part, int)]
    if parts and parts[0] == "body":
        parts = parts[1:]
    if parts and parts[0] in _BODY_TAGS:
        parts = parts[1:]
    return tuple(part for part in parts if not _INNER_TAGS.match(part))


def problem_kind(kind: str, message: str) -> ProblemKind:
    """The rules Polar checks itself say what is wrong only in their message; pydantic's say it in ``type``."""
    if "already exists" in message:
        return ProblemKind.TAKEN
    if "is not a valid email address" in message:  # syntax, or a domain that is missing or takes no email
        return ProblemKind.INVALID
    if "does not exist" in message:
        return ProblemKind.NOT_FOUND
    if "cannot be updated" in message or "cannot be changed" in message or "cannot be reset" in message:
        return ProblemKind.IMMUTABLE
    return _BY_TYPE.get(kind, ProblemKind.INVALID)
