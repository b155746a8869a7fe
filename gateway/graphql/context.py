"""What one GraphQL request carries: the caller's Polar token and Voucherify keys, the shared clients, and
fresh loaders (each keyed by the caller's credentials, since they live for this request only)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ..cache.polar import PolarCache
from ..cache.records import Tally
from ..cache.voucherify import VoucherifyCache
from ..http.tokens import Credentials, TokenKind, TokenRefused, require
from ..http.voucherify_keys import CLIENT_ONLY, NO_KEYS, VoucherifyCredentials
from ..live.service import Live
from ..settings import Settings
from ..upstream.errors import UpstreamError
from ..upstream.polar import PolarClient
from ..upstream.voucherify import VoucherifyClient, VoucherifyKeys
from .errors import ErrorCode, gateway_error
from .limits import Spent
from .loaders import Loaders
from .pagination import Cursors, cursors_for
from .scopes import ScopeMemory
from .voucherify_loaders import VoucherifyLoaders

NOT_CONFIGURED = "Voucherify is not configured on this gateway (setting voucherify_url)."
# A subscription's event in flight: its loaders, apart from the connection's other events (``event_scope``).
_event_loaders: ContextVar[dict[str, Any] | None] = ContextVar("event_loaders", default=None)


def event_scope() -> None:
    """From here on in this task, loaders are new ones: a subscription calls it before each event it sends,
    so that every event is read afresh (a connection's context lives as long as the connection)."""
    _event_loaders.set({})


@dataclass
class Context:
    polar_client: PolarClient
    settings: Settings
    scopes: ScopeMemory
    credentials: Credentials  # the caller's token (never printed), or why there is none
    base_url: str = ""  # ``public_url``, for links such as the CSV export; "" makes them relative
    from_router: bool = False  # the request carries the router_secret (see federation._service)
    spent: Spent = field(default_factory=Spent)  # what this request's operations have cost (a batch shares it)
    voucherify_client: VoucherifyClient | None = None  # None: no Voucherify configured
    voucherify_credentials: VoucherifyCredentials = field(default_factory=VoucherifyCredentials)
    waited: bool = False  # a voucherifyAsyncAction of this request has taken its waitSeconds (one may)
    live: Live | None = None  # subscriptions' hub and bus; None: subscriptions are off
    websocket: web.WebSocketResponse | None = None  # the connection, for a subscription's context
    transport: asyncio.Transport | None = None  # its TCP connection, cut when a close cannot be sent
    connection_params: dict[str, object] | None = None  # connection_init's payload (set by Strawberry)
    connection_key: str | None = None  # the caller key counted against max_connections_per_token
    polar_cache: PolarCache | None = None  # None: Polar's reads are not cached (gateway.cache)
    voucherify_cache: VoucherifyCache | None = None
    cache_tally: Tally = field(default_factory=Tally)  # this request's hits and misses (extensions.cache)
    _loaders: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def organization_token(self) -> str:
        """For the organization's fields; without a token, or with a customer session's, a GraphQL error
        (UNAUTHENTICATED, FORBIDDEN) before any upstream call."""
        return self._token(TokenKind.ORGANIZATION)

    @property
    def session_token(self) -> str:
        """For customerPortal; an organization token is FORBIDDEN here, without a call."""
        return self._token(TokenKind.CUSTOMER_SESSION)

    def _token(self, needed: TokenKind) -> str:
        try:
            return require(self.credentials, needed)
        except TokenRefused as refused:
            raise gateway_error(refused.message, ErrorCode(refused.code)) from None

    @property
    def cursors(self) -> Cursors:
        """Signs and reads this deployment's cursors (``cursor_secret``, set at start-up when not configured)."""
        secret = self.settings.cursor_secret
        if secret is None:  # pragma: no cover - create_app always sets one
            raise RuntimeError("no cursor secret: build the app with create_app")
        return cursors_for(secret.get_secret_value())

    @property
    def loaders(self) -> Loaders:
        held = self._held_loaders()
        if (loaders := held.get("polar")) is None:
            loaders = held["polar"] = Loaders(
                self.polar_client,
                self.organization_token,
                self.settings,
                self.scopes,
                self.polar_cache,
                self.cache_tally,
            )
        return loaders

    @asynccontextmanager
    async def polar_write(self, customer_id: str | None, external_id: str | None) -> AsyncIterator[None]:
        """Around a write through the gateway to this customer: once Polar applied it (or may have: the
        outcome is unknown), its cached reads end in every instance, before the caller has its answer. A
        write Polar refused (401, 403, 404, 422) changed nothing, and invalidates nothing."""
        async with self._write(self.polar_cache.written if self.polar_cache else None, customer_id, external_id):
            yield

    @asynccontextmanager
    async def voucherify_write(self, customer_id: str | None, source_id: str | None) -> AsyncIterator[None]:
        cache = self.voucherify_cache
        async with self._write(cache.written if cache else None, customer_id, source_id):
            yield

    @staticmethod
    @asynccontextmanager
    async def _write(
        written: Callable[[str | None, str | None], Awaitable[None]] | None, key: str | None, other: str | None
    ) -> AsyncIterator[None]:
        try:
            yield
        except UpstreamError as failure:
            if written is not None and failure.outcome_unknown:
                await written(key, other)
            raise
        if written is not None:
            await written(key, other)

    async def voucherify_bulk_scheduled(self, source_ids: list[str]) -> None:
        """Bulk work Voucherify accepted for these customers (by source id): it applies it later, so their
        entries stamped within the next TTL are stale too."""
        if self.voucherify_cache is not None:
            await self.voucherify_cache.sources_written(source_ids)

    def _held_loaders(self) -> dict[str, Any]:
        """The request's loaders, or those of the subscription event being sent (``event_scope``)."""
        scoped = _event_loaders.get()
        return self._loaders if scoped is None else scoped

    @property
    def voucherify(self) -> VoucherifyClient:
        if self.voucherify_client is None:
            raise gateway_error(NOT_CONFIGURED, ErrorCode.UPSTREAM_UNAVAILABLE)
        return self.voucherify_client

    @property
    def voucherify_keys(self) -> VoucherifyKeys:
        """Server keys, for every Voucherify field but the consents: without them UNAUTHENTICATED, with client
        keys FORBIDDEN, before any upstream call (Polar fields of the same request are served)."""
        keys = self.voucherify_any_keys
        if keys.client_side:
            raise gateway_error(CLIENT_ONLY, ErrorCode.FORBIDDEN)
        return keys

    @property
    def voucherify_any_keys(self) -> VoucherifyKeys:
        """Server keys, or client keys with an origin (the client-side consents take either)."""
        self.voucherify  # noqa: B018 - a gateway without Voucherify says so before asking for keys
        keys = self.voucherify_credentials.keys
        if keys is None:
            raise gateway_error(self.voucherify_credentials.problem or NO_KEYS, ErrorCode.UNAUTHENTICATED)
        return keys

    @property
    def voucherify_loaders(self) -> VoucherifyLoaders:
        held = self._held_loaders()
        if (loaders := held.get("voucherify")) is None:
            loaders = held["voucherify"] = VoucherifyLoaders(
                self.voucherify, self.voucherify_keys, self.settings, self.voucherify_cache, self.cache_tally
            )
        return loaders
