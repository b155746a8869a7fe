"""What one GraphQL request may spend upstream: time until its deadline, a number of calls, and no more
calls with a token Polar has refused.

A context variable, set once when a request starts and inherited by the tasks its resolvers and dataloaders
create, so no layer passes it along. A batch of operations is one request and shares one budget. Without
it, a request of aliased ``_entities`` made 2,050 upstream calls, also with a token Polar refused at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from contextvars import ContextVar
from dataclasses import dataclass, field

_current: ContextVar[RequestBudget | None] = ContextVar("request_budget", default=None)
_CALLER_KEY = secrets.token_bytes(32)  # per process: callers are told apart, tokens are not kept


def caller_key(token: str) -> str:
    """A keyed digest of a token: what this process knows callers by, so no token is kept in its tables.
    Computed once per token in a request (a request's calls all carry the same one)."""
    budget = _current.get()
    if budget is not None and budget.token == token:
        return budget.caller
    key = hmac.new(_CALLER_KEY, token.encode(), hashlib.sha256).hexdigest()[:32]
    if budget is not None:
        budget.token, budget.caller = token, key
    return key


@dataclass
class RequestBudget:
    ends_at: float  # time.monotonic()
    calls_left: int | None  # None: no limit
    seconds: float = 0.0  # the whole deadline: an upstream's share of it ends ``(1 - share) * seconds`` earlier
    refused: set[str] = field(default_factory=set)  # callers (caller_key) Polar answered 401 in this request
    # The request has been answered, refused or cancelled: work it left behind (a dataloader's batch runs in
    # a task of its own, which cancelling the request does not reach) makes no more calls.
    ended: bool = False
    token: str | None = field(default=None, repr=False)  # the last token digested, and its digest
    caller: str = ""


def start(seconds: float, max_calls: int | None = None) -> RequestBudget:
    budget = RequestBudget(time.monotonic() + seconds, max_calls, seconds)
    _current.set(budget)
    return budget


def end() -> None:
    """Marks the current request's budget spent for good (see ``RequestBudget.ended``)."""
    budget = _current.get()
    if budget is not None:
        budget.ended = True


def current() -> RequestBudget | None:
    return _current.get()


def remaining(share: float = 1.0) -> float | None:
    """Seconds left before the deadline (may be negative), or None when no request has started one. With a
    ``share`` under 1, before the part of the deadline an upstream may use ends: its calls stop that much of
    the whole deadline earlier, leaving the rest of the request its time when that upstream is slow."""
    budget = _current.get()
    return None if budget is None else budget.ends_at - (1 - share) * budget.seconds - time.monotonic()
