"""GraphQL errors with ``extensions.code`` for what is not the caller's mistake, and userErrors for
what is; upstream failures are mapped here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.utils.str_converters import to_camel_case

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
from ..upstream.problems import Problem


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
        "{upstream} refused the credentials: they are unknown, expired or of the wrong kind.")),
    (UpstreamForbidden, Failure(ErrorCode.FORBIDDEN, 403, "The access token lacks the scope this operation needs.")),
    (UpstreamRateLimited, Failure(ErrorCode.RATE_LIMITED, 429, "{upstream}'s rate limit was reached; retry later.")),
    (UpstreamTimeout, Failure(ErrorCode.UPSTREAM_TIMEOUT, 504, "{upstream} did not answer in time.")),
    (UpstreamCircuitOpen, Failure(ErrorCode.UPSTREAM_UNAVAILABLE, 503,
        "{upstream} is unavailable; failing fast for a few seconds.")),
    (UpstreamUnavailable, Failure(ErrorCode.UPSTREAM_UNAVAILABLE, 502, "{upstream} is unavailable.")),
    (UpstreamNotFound, Failure(ErrorCode.UPSTREAM_UNAVAILABLE, 502, "{upstream} is unavailable.")),
)
UNEXPECTED = Failure(ErrorCode.UPSTREAM_UNAVAILABLE, 502, "{upstream} answered unexpectedly.")
# How to check whether a write whose outcome is unknown was applied, by upstream.
READ_BEFORE_RETRY = {
    "Polar": "look the customer up (for a create, by its externalId) and retry only if the change is missing.",
    "Voucherify": (
        "look the customer up (or the async action); an upsert with an id or sourceId is safe to repeat as it "
        "is, one with neither may have created a customer."
    ),
}


def failure_of(error: UpstreamError) -> Failure:
    """How ``error`` is told, its message naming the upstream that failed."""
    failure = next((failure for kind, failure in FAILURES if isinstance(error, kind)), UNEXPECTED)
    return Failure(failure.code, failure.status, failure.message.format(upstream=error.upstream))


def from_upstream(error: UpstreamError, *, write: bool = False) -> GraphQLError:
    """The GraphQL error for an upstream failure that is not a user's mistake; for a write that may
    have been applied, the error says so (``outcomeUnknown``) and how to retry safely."""
    if write and (error.outcome_unknown or any(e.outcome_unknown for e in error.earlier)):
        code = ErrorCode.UPSTREAM_TIMEOUT if isinstance(error, UpstreamTimeout) else ErrorCode.UPSTREAM_UNAVAILABLE
        hint = READ_BEFORE_RETRY.get(error.upstream, READ_BEFORE_RETRY["Polar"])
        return gateway_error(
            f"{error.upstream} did not confirm this write, which may or may not have been applied. Read before "
            f"retrying: {hint}",
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


def user_errors_of(problems: list[Problem], root: str | None = "input") -> list[UserError]:
    """Every problem of an upstream 422 as a userError at the GraphQL input path of its field (under
    ``root``, or at the top for a mutation whose arguments are not one input object)."""
    prefix = [root] if root else []
    errors: list[UserError] = []
    for problem in problems:
        path = [*prefix, *_input_path(problem.path)] or ["input"]
        message = problem.message
        if problem.region is not None:  # Polar names the whole address; ours names the state and the fix
            message = state_message(problem.region, problem.rejected)
        errors.append(UserError(field=path, message=message, code=UserErrorCode[problem.kind.name]))
    return errors


def _input_path(parts: list[str] | tuple[str, ...]) -> list[str]:
    """Field names in GraphQL's case; a metadata key after ``metadata`` exactly as the caller wrote it."""
    path: list[str] = []
    for part in parts:
        keyed = bool(path) and path[-1] == "metadata"
        path.append(part if keyed else to_camel_case(part))
    return path


_REGION = {"US": ("a US state", "NY"), "CA": ("a Canadian province or territory", "QC")}


def state_message(country: str, state: object) -> str:
    """Why ``state`` is refused for ``country`` (US or CA), and what to send instead."""
    region, example = _REGION[country]
    return f"'{state}' is not {region}: send its two-letter code, such as {example} or {country}-{example}."
