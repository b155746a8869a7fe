"""Bearer tokens as callers send them, which kind of Polar token each is, and which kind a use needs.

The GraphQL view and the CSV export both parse ``Authorization`` and apply the kind rule here, so they refuse
the same headers and the same tokens for the same reasons, before any upstream call, and never echo a
header's bytes. Each surface only renders a refusal its own way: a GraphQL error, or an HTTP answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Literal

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


# What a caller is told, by the kind of token the use needs. Polar would answer a token of the wrong kind
# with a 401, as if the token were bad; the gateway says which kind is needed instead, without a call.
NO_TOKEN = {
    TokenKind.ORGANIZATION: "Send 'Authorization: Bearer <Polar organization access token>'.",
    TokenKind.CUSTOMER_SESSION: "Send 'Authorization: Bearer <customer session token>' (polar_cst_...).",
}
WRONG_KIND = {
    TokenKind.ORGANIZATION: (
        "A customer session token reaches only customerPortal fields; this needs an organization access token."
    ),
    TokenKind.CUSTOMER_SESSION: (
        "customerPortal acts as one customer: send a customer session token (polar_cst_...), "
        "which customerSessionCreate returns."
    ),
}


@dataclass(frozen=True)
class Credentials:
    """The caller's token; without one, why the header was refused (None: there was none). The problem is
    a fixed message, safe to return and to log: it quotes nothing the caller sent."""

    token: str | None = field(repr=False)  # never printed: a credential
    problem: str | None = None


class TokenRefused(Exception):
    """The request's token cannot be used where it was sent: there is none usable (``UNAUTHENTICATED``,
    HTTP 401) or it is of the other kind (``FORBIDDEN``, HTTP 403). The message is one of this module's
    fixed texts: it quotes nothing the caller sent."""

    def __init__(self, code: Literal["UNAUTHENTICATED", "FORBIDDEN"], message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def status(self) -> int:
        return 401 if self.code == "UNAUTHENTICATED" else 403


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
    """Polar's prefixes tell the kinds apart; anything else is taken for an organization token and left for
    Polar to judge."""
    return TokenKind.CUSTOMER_SESSION if token.startswith(SESSION_PREFIXES) else TokenKind.ORGANIZATION


def require(caller: Credentials, needed: TokenKind) -> str:
    """The caller's token when it is of the ``needed`` kind; else ``TokenRefused``, saying why."""
    token = caller.token
    if token is None:
        raise TokenRefused("UNAUTHENTICATED", caller.problem or NO_TOKEN[needed])
    if token_kind(token) is not needed:
        raise TokenRefused("FORBIDDEN", WRONG_KIND[needed])
    return token
