"""Which frontend sent a request, as Apollo's clients say (``apollographql-client-name`` and
``apollographql-client-version``, set by ``clientAwareness``): counted per client in
``gateway_client_requests`` and written on the request's access line.

The headers are the caller's words: each is kept only if it is short and made of plain characters, and only
the first ``MAX_CLIENTS`` pairs that callers with accepted credentials sent get labels of their own, so no
request can grow the metrics without bound, take the real clients' places, or write what it likes into a log
line."""

from __future__ import annotations

import re
from collections.abc import Callable

from multidict import MultiMapping

from .metrics import CLIENT_REQUESTS

NAME_HEADER = "apollographql-client-name"
VERSION_HEADER = "apollographql-client-version"
MAX_CLIENTS = 100  # (name, version) pairs with labels of their own; later ones count as ("other", "other")
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._@/+:-]{0,63}")
UNKNOWN, INVALID, OTHER = "unknown", "invalid", "other"
_known: set[tuple[str, str]] = set()


def _plain(value: str | None) -> str:
    if value is None:
        return UNKNOWN
    return value if _PLAIN.fullmatch(value) else INVALID


def client_identity(headers: MultiMapping[str]) -> tuple[str, str]:
    """(name, version) as sent when plain; ``unknown`` when not sent, ``invalid`` when not plain."""
    return _plain(headers.get(NAME_HEADER)), _plain(headers.get(VERSION_HEADER))


def count_request(identity: tuple[str, str], may_add: Callable[[], bool]) -> None:
    """Counts the request under its client's labels; a pair not seen yet gets labels of its own only when
    ``may_add()`` (an upstream accepted the caller's credentials lately: ``http.proven``; asked only then), so
    that requests with made-up tokens cannot take the ``MAX_CLIENTS`` places before the real clients come."""
    if identity not in _known and len(_known) < MAX_CLIENTS and may_add():
        _known.add(identity)
    name, version = identity if identity in _known else (OTHER, OTHER)
    CLIENT_REQUESTS.labels(name, version).inc()
