"""The few ways an upstream call fails, one class each; ``transport`` maps every HTTP outcome here."""

from __future__ import annotations

from .problems import Problem


class UpstreamError(Exception):
    """Base of every upstream failure. Messages never carry tokens, URLs with credentials or bodies."""

    upstream: str = "Polar"  # which upstream failed, for messages (set by the transport from its wire)
    attempts: int = 1  # how many times the call was tried before this error was final
    outcome_unknown: bool = False  # the request may have reached the upstream and been applied
    earlier: tuple[UpstreamError, ...] = ()  # the failures of the attempts before this one


class UpstreamUnauthorized(UpstreamError):
    """401: no token, or an unknown, expired or wrong-kind token."""


class UpstreamForbidden(UpstreamError):
    """403: the token lacks every scope the operation accepts."""


class UpstreamNotFound(UpstreamError):
    """404: missing, deleted, or in another organization."""

    looked_up: bool = False  # the vendor itself answered it has none, so it took the credential (not a proxy)


class UpstreamValidation(UpstreamError):
    """The upstream refused the input (Polar's 422, Voucherify's 400): ``problems`` say where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("upstream rejected the input")
        self.problems = problems


class UpstreamRateLimited(UpstreamError):
    def __init__(self, retry_after: float | None) -> None:
        super().__init__("upstream rate limit reached")
        self.retry_after = retry_after


class UpstreamUnavailable(UpstreamError):
    """5xx, a dropped connection, or an answer that is not what the contract says."""


class UpstreamCircuitOpen(UpstreamUnavailable):
    """Failing fast: the upstream failed repeatedly and the breaker has not let a probe through yet."""


class UpstreamTimeout(UpstreamError):
    """No answer in time; for a write, its outcome is unknown (it may have been applied)."""


class UpstreamCallLimit(UpstreamError):
    """Not sent: the request has made as many upstream calls as one request may."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"over {limit} upstream calls in one request")
        self.limit = limit


class UpstreamBusy(UpstreamError):
    """Not sent: every slot this kind of call may use is taken (a local limit, not the upstream's state)."""


class UpstreamLookupTooBroad(UpstreamError):
    """Not found within the pages a lookup may read: the search it needs matched too many customers."""


class UpstreamRequestEnded(UpstreamError):
    """Not sent: the GraphQL request this call was for has already ended."""
