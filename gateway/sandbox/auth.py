"""Bearer tokens, subjects and scopes, with the 401 and 403 answers of the contract (section 1).

Organization tokens reach only ``/v1/customers...``-style endpoints, customer session tokens
only ``/v1/customer-portal/...``; a token of the wrong subject counts as no token at all (401).
"""

from __future__ import annotations

from datetime import datetime

from .errors import insufficient_scope, invalid_token, unauthorized
from .model import Token
from .store import Store

TOKEN_PREFIXES = ("polar_oat_", "polar_pat_", "polar_cst_", "polar_mst_")
CUSTOMER_READ = ("customers:read", "customers:write")
CUSTOMER_WRITE = ("customers:write",)
SESSION_WRITE = ("customer_sessions:write",)
PORTAL_READ = ("customer_portal:read", "customer_portal:write")
PORTAL_WRITE = ("customer_portal:write",)
SUBSCRIPTIONS_READ = ("subscriptions:read", "subscriptions:write")
BENEFITS_READ = ("benefits:read", "benefits:write")
METERS_READ = ("customer_meters:read",)
WEBHOOKS_READ = ("webhooks:read", "webhooks:write")
WEBHOOKS_WRITE = ("webhooks:write",)


def authenticate(header: str | None, store: Store, now: datetime) -> Token | None:
    """The caller's token; None for no bearer token at all; 401 invalid_token for a bad one."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        return None
    if not value.startswith(TOKEN_PREFIXES):
        raise invalid_token()
    token = store.tokens.get(value)
    if token is None or (token.expires_at is not None and token.expires_at <= now):
        raise invalid_token()
    return token


def _check_scopes(token: Token, required: tuple[str, ...]) -> Token:
    if not token.scopes.intersection(required):
        raise insufficient_scope(required)
    return token


def organization_caller(token: Token | None, required: tuple[str, ...]) -> Token:
    if token is None or token.customer_id is not None:
        raise unauthorized()
    return _check_scopes(token, required)


def customer_caller(token: Token | None, required: tuple[str, ...]) -> Token:
    if token is None or token.customer_id is None:
        raise unauthorized()
    return _check_scopes(token, required)
