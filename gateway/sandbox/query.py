"""Query parameters of the list endpoints, parsed with FastAPI's rules and messages."""

from __future__ import annotations

import re
from dataclasses import dataclass

from multidict import MultiMapping

from .validation import Problems, enum_message, parse_bool, parse_positive_int, parse_uuid4

MAX_LIMIT = 100
_METADATA_KEY = re.compile(r"metadata\[([^\]]+)\]")


@dataclass
class Paging:
    page: int = 1
    limit: int = 10


def paging(query: MultiMapping[str], problems: Problems) -> Paging:
    """``page`` and ``limit`` > 0; a ``limit`` above 100 is clamped, not refused."""
    result = Paging()
    if "page" in query and (page := parse_positive_int(query["page"], ["query", "page"], problems)):
        result.page = page
    if "limit" in query and (limit := parse_positive_int(query["limit"], ["query", "limit"], problems)):
        result.limit = min(limit, MAX_LIMIT)
    return result


def sorting(query: MultiMapping[str], allowed: list[str], default: str, problems: Problems) -> list[str]:
    values = query.getall("sorting", [])
    if not values:
        return [default]
    expected = enum_message(allowed)
    for index, value in enumerate(values):
        if value not in allowed:
            problems.add(
                "enum", ["query", "sorting", index], f"Input should be {expected}", value, {"expected": expected}
            )
    return values


def uuid_list(query: MultiMapping[str], name: str, problems: Problems) -> list[str] | None:
    """A repeatable uuid4 filter; None when absent."""
    values = query.getall(name, [])
    if not values:
        return None
    parsed: list[str] = []
    for index, value in enumerate(values):
        loc: list[str | int] = ["query", name] if len(values) == 1 else ["query", name, index]
        if (checked := parse_uuid4(value, list(loc), problems)) is not None:
            parsed.append(checked)
    return parsed


def enum_list(query: MultiMapping[str], name: str, allowed: list[str], problems: Problems) -> list[str] | None:
    values = query.getall(name, [])
    if not values:
        return None
    expected = enum_message(allowed)
    for index, value in enumerate(values):
        if value not in allowed:
            loc: list[str | int] = ["query", name] if len(values) == 1 else ["query", name, index]
            problems.add("enum", list(loc), f"Input should be {expected}", value, {"expected": expected})
    return values


def optional_bool(query: MultiMapping[str], name: str, problems: Problems) -> bool | None:
    if name not in query:
        return None
    return parse_bool(query[name], ["query", name], problems)


def metadata_filter(query: MultiMapping[str]) -> dict[str, list[str]]:
    """``metadata[key]=value`` pairs: values of one key are ORed, different keys ANDed."""
    wanted: dict[str, list[str]] = {}
    for key, value in query.items():
        if match := _METADATA_KEY.fullmatch(key):
            wanted.setdefault(match.group(1), []).append(value)
    return wanted


def metadata_text(value: str | int | float | bool) -> str:
    """A stored metadata value as PostgreSQL's ``->>`` renders it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else repr(value)


def metadata_matches(metadata: dict[str, str | int | float | bool], wanted: dict[str, list[str]]) -> bool:
    return all(key in metadata and metadata_text(metadata[key]) in values for key, values in wanted.items())
