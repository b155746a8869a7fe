"""Voucherify on the wire: a key pair (server side) or client keys with an origin (client side) as headers,
its error bodies (``{code, key, message, details}``; 413 in a shape of its own) read as problems, and the
wait a 429 asks for, from ``Retry-After`` or ``X-Rate-Limit-Retry``."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

import httpx

from .errors import UpstreamError, UpstreamValidation
from .problems import Problem, ProblemKind
from .wire import Wire, retry_after_header

_SEPARATOR = "\n"  # no header value can hold a line break, so the encoded keys split back unambiguously
_PROPERTY = re.compile(r"[Pp]roperty \.?([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)")
_KINDS = {"duplicate_found": ProblemKind.TAKEN}
MESSAGE_CHARS = 300  # of a refusal's text passed on to the caller
# A customer's id or source id (the caller's data, of any cardinality) after these, unless it is a fixed word.
_IDENTIFIED = re.compile(r"^(/(?:client/)?v1/(?:customers|async-actions))/(?!(?:bulk|metadata|importCSV)(?:/|$))[^/]+")


@dataclass(frozen=True)
class VoucherifyKeys:
    """A caller's Voucherify keys: server keys (``X-App-Id``/``X-App-Token``), or client keys
    (``X-Client-Application-Id``/``X-Client-Token``) that Voucherify accepts only with an allowed origin."""

    app_id: str
    token: str = field(repr=False)  # a secret for server keys: never printed
    origin: str | None = None  # set for client keys only

    @property
    def client_side(self) -> bool:
        return self.origin is not None

    def encode(self) -> str:
        """One string for the transport, which knows callers by a digest of it (slots, trust, budget)."""
        parts = [self.app_id, self.token] if self.origin is None else [self.app_id, self.token, self.origin]
        return _SEPARATOR.join(parts)


def _headers(encoded: str) -> dict[str, str]:
    parts = encoded.split(_SEPARATOR)
    if len(parts) == 2:
        return {"X-App-Id": parts[0], "X-App-Token": parts[1]}
    app_id, token, origin = parts
    return {"X-Client-Application-Id": app_id, "X-Client-Token": token, "Origin": origin}


def _refusal(response: httpx.Response) -> UpstreamError | None:
    status = response.status_code
    if status not in (400, 409, 413):
        return None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    if status == 413:  # {statusCode, error, message}
        message = "The payload is larger than Voucherify accepts (10 MB)."
        return UpstreamValidation([Problem(path=(), kind=ProblemKind.TOO_LONG, message=message)])
    return UpstreamValidation([problem_of(body)])


def problem_of(body: dict[str, object]) -> Problem:
    """One error body as a problem: the property its ``details`` name (``Property .address.city must…``)
    is the path; its ``key`` says the kind (``duplicate_found``: TAKEN; else INVALID)."""
    details, message = body.get("details"), body.get("message")
    text = details if isinstance(details, str) and details else message if isinstance(message, str) else ""
    named = _PROPERTY.search(text)
    path = tuple(named.group(1).split(".")) if named else ()
    kind = _KINDS.get(str(body.get("key")), ProblemKind.INVALID)
    return Problem(path=path, kind=kind, message=_printable(text) or "Voucherify refused the input.")


def _printable(text: str) -> str:
    """Voucherify's words for a refusal, as shown to the caller: one line, at most ``MESSAGE_CHARS``."""
    line = "".join(character if character.isprintable() else " " for character in text[: MESSAGE_CHARS + 1])
    return line if len(line) <= MESSAGE_CHARS else line[: MESSAGE_CHARS - 1] + "…"


def _retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` seconds, else ``X-Rate-Limit-Retry``: the epoch second the limit resets."""
    seconds = retry_after_header(response)
    if seconds is not None:
        return seconds
    try:
        resets = float(response.headers["x-rate-limit-retry"])
    except (KeyError, ValueError):
        return None
    return max(0.0, resets - time.time())


def _found_nothing(response: httpx.Response) -> bool:
    """Voucherify's own 404 for a resource it looked up: ``{code, key: "not_found", ..., resource_type}``
    (a route it does not have is ``not_found`` without a resource type)."""
    if response.status_code != 404:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("key") == "not_found" and "resource_type" in body


VOUCHERIFY = Wire(
    name="Voucherify",
    headers={"Accept": "application/json"},
    credentials=_headers,
    refusal=_refusal,
    retry_after=_retry_after,
    route=lambda path: _IDENTIFIED.sub(r"\1/{id}", path),
    found_nothing=_found_nothing,
)
