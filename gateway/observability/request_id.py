"""The request id: taken from the caller's ``X-Request-Id`` when it is a safe token, else made here; held
in a context variable so every log line and every upstream request of the request carries it."""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar

HEADER = "X-Request-Id"
CURRENT: ContextVar[str | None] = ContextVar("request_id", default=None)
_SAFE = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


def accept_or_create(header: str | None) -> str:
    """A caller's id is kept only when it cannot forge a log line or a header (letters, digits, ``._:-``)."""
    if header is not None and _SAFE.fullmatch(header):
        return header
    return secrets.token_hex(16)


def current() -> str | None:
    return CURRENT.get()
