"""Bearer tokens as callers send them, and which kind of Polar token each is. The GraphQL view and the CSV
export both parse ``Authorization`` here, so they refuse the same headers for the same reasons, before any
upstream call, and never echo a header's bytes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

from multidict import MultiMapping

# RFC 6750 section 2.1: "Bearer" 1*SP b64token, b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" )
# *"=". ASCII only: a token with any other character (non-ASCII, a control character, a space) is refused.
_BEARER = re.compile(r"[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9\-._~+/]+=*)")
SESSION_PREFIXES = ("polar_cst_", "polar_mst_")

SEVERAL = "The request has several Authorization headers: send exactly one."
MALFORMED = (
    "The Authorization header is not 'Bearer <token>' with a token of RFC 6750 characters "
    "(letters, digits, '-._~+/', then optional '=')."
)


class TokenKind(Enum):
    ORGANIZATION = "organization"  # an organization access token: /v1/customers...
    CUSTOMER_SESSION = "customer_session"  # a customer (or member) session token: /v1/customer-portal/...


@dataclass(frozen=True)
class Credentials:
    """The caller's token; without one, why the header was refused (None: there was none). The problem is
    a fixed message, safe to return and to log: it quotes nothing the caller sent."""

    token: str | None = field(repr=False)  # never printed: a credential
    problem: str | None = None


def credentials(headers: MultiMapping[str]) -> Credentials:
    """The bearer token of the request's one ``Authorization`` header. Several such headers are refused
    rather than one picked: a proxy and a client may disagree on which one counts."""
    values = headers.getall("Authorization", [])
    if not values:
        return Credentials(None)
    if len(values) > 1:
        return Credentials(None, SEVERAL)
    match = _BEARER.fullmatch(values[0])
    return Credentials(match.group(1)) if match else Credentials(None, MALFORMED)


def token_kind(token: str) -> TokenKind:
    return TokenKind.CUSTOMER_SESSION if token.startswith(SESSION_PREFIXES) else TokenKind.ORGANIZATION
