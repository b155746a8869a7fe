"""GraphQL errors with ``extensions.code`` for what is not the caller's mistake, and userErrors for
what is; upstream failures are mapped here and nowhere else."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any

import strawberry
from graphql import GraphQLError

from ..upstream.errors import (
    UpstreamBusy,
    UpstreamCallLimit,
    UpstreamCircuitOpen,
    UpstreamError,
    UpstreamForbidden,
    UpstreamLookupTooBroad,
    UpstreamNotFound,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnauthorized,
    UpstreamUnavailable,
)


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    RATE_LIMITED = "RATE_LIMITED"
    UPSTREAM_TIMEOUT = "UPSTREAM_TIMEOUT"
    UPSTREAM_UNAVAILABLE = "UPSTREAM_UNAVAILABLE"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"  # a limit of this gateway, named in the message
    GATEWAY_BUSY = "GATEWAY_BUSY"  # every slot for the request is taken here; retry shortly
    INTERNAL = "INTERNAL"


def gateway_error(message: str, code: ErrorCode, **extensions: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code.value, **extensions})


def bad_input(message: str, argument: str | None = None) -> GraphQLError:
    extra = {"argument": argument} if argument else {}
    return gateway_error(message, ErrorCode.BAD_USER_INPUT, **extra)


@dataclass(frozen=True)
class Failure:
    """How an upstream failure is told: its code, the HTTP status where one is its own (the CSV export),
    and a message that carries no token, URL or upstream body."""

    code: ErrorCode
    status: int
    message: str


# One table for GraphQL errors and the export alike; the first class an error is an instance of decides.
FAILURES: tuple[tuple[type[UpstreamError], Failure], ...] = (
    (UpstreamCallLimit, Failure(ErrorCode.LIMIT_EXCEEDED, 400, (
        "This request needs more upstream calls than one request may make (setting max_upstream_calls); ask for "
        "fewer customers or representations at once."))),
    (UpstreamLookupTooBroad, Failure(ErrorCode.LIMIT_EXCEEDED, 400, (
        "An external id with '/' is found through Polar's search, which matched over 500 customers for this "
        "one; look the customer up by id."))),
    (UpstreamBusy, Failure(ErrorCode.GATEWAY_BUSY, 503, (
        "Every slot for this kind of request is taken (a limit of this gateway); retry shortly."))),
    (UpstreamUnauthorized, Failure(ErrorCode.UNAUTHENTICATED, 401,
        "Polar refused the access token: it is unknown, expired or of the wrong kind.")),
    (UpstreamForbidden, Failure(ErrorCode.FORBIDDEN, 403, "The access token lacks the scope this operation needs.")),
    (UpstreamRateLimited, Failure(ErrorCode.RATE_LIMITED, 429, "Polar's rate limit was reached; retry later.")),
    (UpstreamTimeout, Failure(ErrorCode.UPSTREAM_TIMEOUT, 504, "Polar did not answer in time.")),
    (UpstreamCircuitOpen, Failure(ErrorCode.UPSTREAM_UNAVAILABLE, 503,
        "Polar is unavailable; failing fast for a few seconds.")),
    (UpstreamUnavailable, Failure(ErrorCode.UPSTREAM_UNAVAILABLE, 502, "Polar is unavailable.")),
    (UpstreamNotFound, Failure(ErrorCode.UPSTREAM_UNAVAILABLE, 502, "Polar is unavailable.")),
)
UNEXPECTED = Failure(ErrorCode.UPSTREAM_UNAVAILABLE, 502, "Polar answered unexpectedly.")


def failure_of(error: UpstreamError) -> Failure:
    return next((failure for kind, failure in FAILURES if isinstance(error, kind)), UNEXPECTED)


def from_upstream(error: UpstreamError, *, write: bool = False) -> GraphQLError:
    """The GraphQL error for an upstream failure that is not a user's mistake; for a write that may
    have been applied, the error says so (``outcomeUnknown``) and how to retry safely."""
    if write and (error.outcome_unknown or any(e.outcome_unknown for e in error.earlier)):
        code = ErrorCode.UPSTREAM_TIMEOUT if isinstance(error, UpstreamTimeout) else ErrorCode.UPSTREAM_UNAVAILABLE
        return gateway_error(
            "Polar did not confirm this write, which may or may not have been applied. Read before retrying: "
            "look the customer up (for a create, by its externalId) and retry only if the change is missing.",
            code,
            outcomeUnknown=True,
        )
    failure = failure_of(error)
    if isinstance(error, UpstreamRateLimited):
        return gateway_error(failure.message, failure.code, retryAfter=error.retry_after)
    if isinstance(error, UpstreamCallLimit):
        return gateway_error(failure.message, failure.code, setting="max_upstream_calls", limit=error.limit)
    return gateway_error(failure.message, failure.code)


@strawberry.enum(description="Why an input was refused.")
class UserErrorCode(Enum):
    TAKEN = "TAKEN"
    INVALID = "INVALID"
    BLANK = "BLANK"
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    TOO_SHORT = "TOO_SHORT"
    TOO_MANY = "TOO_MANY"
    IMMUTABLE = "IMMUTABLE"
    NOT_FOUND = "NOT_FOUND"


@strawberry.type(description="A mistake in the caller's input: the path to the field, what is wrong, and a code.")
class UserError:
    field: list[str] | None = strawberry.field(description="Path to the input field, e.g. ['input', 'email'].")
    message: str
    code: UserErrorCode


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


_UNION_TAGS = re.compile(r"^(constrained-str|int|float|bool|str|\[key\])$")
_BODY_TAGS = frozenset({"individual", "team"})  # Polar's create body is a union on ``type``: its tag leads loc
_STATE = {"Value error, Invalid US state": "US", "Value error, Invalid CA subdivision": "CA"}


def user_errors_from_upstream(details: list[dict[str, Any]], root: str | None = "input") -> list[UserError]:
    """Every Polar 422 detail as a userError, its ``loc`` turned into the GraphQL input path
    (under ``root``, or at the top for a mutation whose arguments are not one input object)."""
    errors: list[UserError] = []
    seen: set[tuple[tuple[str, ...], str]] = set()
    for detail in details:
        loc = [str(part) for part in detail.get("loc", []) if not isinstance(part, int)]
        if loc and loc[0] == "body":
            loc = loc[1:]
        if loc and loc[0] in _BODY_TAGS:
            loc = loc[1:]
        prefix = [root] if root else []
        path = [*prefix, *[_camel(part) for part in loc if not _UNION_TAGS.match(part)]] or ["input"]
        message = str(detail.get("msg", "Invalid value."))
        if (country := _STATE.get(message)) is not None:  # Polar names the address; the state is what is wrong
            address = detail.get("input")
            path, message = [*path, "state"], state_message(country, _state_of(address))
        key = (tuple(path), message)
        if key in seen:
            continue
        seen.add(key)
        errors.append(UserError(field=path, message=message, code=_code(detail)))
    return errors


_REGION = {"US": ("a US state", "NY"), "CA": ("a Canadian province or territory", "QC")}


def state_message(country: str, state: object) -> str:
    """Why ``state`` is refused for ``country`` (US or CA), and what to send instead."""
    region, example = _REGION[country]
    return f"'{state}' is not {region}: send its two-letter code, such as {example} or {country}-{example}."


def _state_of(address: object) -> object:
    return address.get("state") if isinstance(address, dict) else None


def _code(detail: dict[str, Any]) -> UserErrorCode:
    kind = str(detail.get("type", ""))
    message = str(detail.get("msg", ""))
    if "already exists" in message:
        return UserErrorCode.TAKEN
    if "is not a valid email address" in message:  # syntax, or a domain that is missing or takes no email
        return UserErrorCode.INVALID
    if "does not exist" in message:
        return UserErrorCode.NOT_FOUND
    if "cannot be updated" in message or "cannot be changed" in message or "cannot be reset" in message:
        return UserErrorCode.IMMUTABLE
    if kind == "missing":
        return UserErrorCode.REQUIRED
    if kind in {"string_too_long"}:
        return UserErrorCode.TOO_LONG
    if kind == "too_long":
        return UserErrorCode.TOO_MANY
    if kind == "string_too_short":
        return UserErrorCode.BLANK
    return UserErrorCode.INVALID
