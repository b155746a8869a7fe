"""Subscriptions: ``customerChanged`` (one customer the token can read) and ``customersChanged`` (every
customer of the token's organization), fed by Polar's webhooks through ``gateway.live``.

Each is checked with Polar when it starts (an error, and no stream, when the token cannot read what it asks
for), and its token is asked of Polar again every ``subscription_token_revalidate_s``: refused, the connection
closes with 4403. Each event is resolved like a request of its own: a fresh budget and fresh loaders
(``event_scope``), so ``customer { state }`` is read when the event is sent, never from an earlier event.
Delivery is at most once, to subscribers connected when the event arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import datetime
from enum import Enum

import strawberry
from graphql import GraphQLError

from ..http.tokens import TokenKind, TokenRefused, require, token_kind
from ..live.hub import Ended, Ending, Subscriber
from ..live.service import Live
from ..upstream import budget
from ..upstream.budget import caller_key
from ..upstream.errors import UpstreamError, UpstreamForbidden, UpstreamNotFound, UpstreamUnauthorized
from ..upstream.polar_requests import CustomerQuery
from ..upstream.polar_webhooks import CustomerChange
from .context import Context, event_scope
from .errors import ErrorCode, bad_input, from_upstream, gateway_error
from .types import Customer

Info = strawberry.Info[Context, None]

NOT_LIVE = "Live events are not available on this gateway (setting subscriptions)."
BUS_DOWN = "Live events are interrupted (Redis is unreachable); subscribe again shortly, then refetch what you show."
BUS_LOST = "Live events were interrupted (Redis went away): subscribe again, and refetch what you show."
REVOKED_REASON = "Polar no longer accepts this token"
SLOW_REASON = "Subscriber too slow (setting subscription_queue_size)"
SHUTDOWN_REASON = "The gateway is restarting: reconnect, then refetch"
CLOSE_REVOKED = 4403
CLOSE_TOO_SLOW = 1008  # policy violation: the client may reconnect
CLOSE_GOING_AWAY = 1001
CLOSE_TIMEOUT_S = 1.0
FOREIGN_ORGANIZATIONS = 100  # organizations remembered as not a token's own, while its own is unknown
TOO_MANY_FOR_TOKEN = "Too many subscriptions of this token at once (setting max_subscriptions_per_token, {})."


@strawberry.enum(description="What happened to the customer.")
class CustomerChangeType(Enum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    DELETED = "DELETED"
    STATE_CHANGED = "STATE_CHANGED"  # subscriptions, benefit grants or meters changed


@strawberry.type(description="A change to one customer, as Polar announced it.")
class CustomerChangeEvent:
    type: CustomerChangeType
    customer_id: strawberry.ID
    external_id: str | None
    occurred_at: datetime = strawberry.field(description="When Polar sent the event.")

    @strawberry.field(
        description="The customer now, read when the event is sent (its state fresh when selected); null after "
        "a delete, and for a customer session token (read customerPortal instead)."
    )
    async def customer(self, info: Info) -> Customer | None:
        context = info.context
        if self.type is CustomerChangeType.DELETED or _kind(context) is TokenKind.CUSTOMER_SESSION:
            return None
        try:
            found: Customer | None = await context.loaders.customer_by_id.load(str(self.customer_id))
        except UpstreamError as error:
            raise from_upstream(error) from None
        return found


@strawberry.type
class LiveSubscriptions:
    @strawberry.subscription(
        description="The changes of one customer, by `id` or `externalId` (exactly one); with a customer session "
        "token, of its own customer (no argument, or its id)."
    )
    async def customer_changed(
        self, info: Info, id: strawberry.ID | None = None, external_id: str | None = None
    ) -> AsyncIterator[CustomerChangeEvent]:
        context = info.context
        live = _live(context)
        if _kind(context) is TokenKind.CUSTOMER_SESSION:
            token = _token(context, TokenKind.CUSTOMER_SESSION)
            own = await _portal_customer_id(context, token)
            if external_id is not None or (id is not None and str(id) != own):
                raise gateway_error("A customer session token follows its own customer only.", ErrorCode.FORBIDDEN)
            subscriber = Subscriber(context.settings.subscription_queue_size, customer_id=own)
            return _stream(context, live, subscriber, TokenKind.CUSTOMER_SESSION)
        _token(context, TokenKind.ORGANIZATION)
        if (id is None) == (external_id is None):
            raise bad_input("Pass exactly one of 'id' or 'externalId'.")
        customer = await _readable_customer(context, id, external_id)
        subscriber = Subscriber(context.settings.subscription_queue_size, customer_id=str(customer.id))
        return _stream(context, live, subscriber, TokenKind.ORGANIZATION)

    @strawberry.subscription(description="The changes of every customer of the token's organization.")
    async def customers_changed(self, info: Info) -> AsyncIterator[CustomerChangeEvent]:
        context = info.context
        live = _live(context)
        token = _token(context, TokenKind.ORGANIZATION)
        organization = await _organization_of(context, live, token)
        subscriber = Subscriber(context.settings.subscription_queue_size, organization_id=organization)
        return _stream(context, live, subscriber, TokenKind.ORGANIZATION)


def _live(context: Context) -> Live:
    live = context.live
    if live is None:
        raise gateway_error(NOT_LIVE, ErrorCode.UPSTREAM_UNAVAILABLE)
    if not live.bus.available:
        raise gateway_error(BUS_DOWN, ErrorCode.UPSTREAM_UNAVAILABLE)
    return live


def _kind(context: Context) -> TokenKind | None:
    token = context.credentials.token
    return None if token is None else token_kind(token)


def _token(context: Context, kind: TokenKind) -> str:
    try:
        return require(context.credentials, kind)
    except TokenRefused as refused:
        raise gateway_error(refused.message, ErrorCode(refused.code)) from None


def _fresh_budget(context: Context) -> None:
    """Each check and each event is one request's worth of upstream work, with its own deadline and calls."""
    budget.start(context.settings.request_deadline_s, context.settings.max_upstream_calls)


async def _readable_customer(context: Context, id_: strawberry.ID | None, external_id: str | None) -> Customer:
    _fresh_budget(context)
    event_scope()
    loaders = context.loaders
    try:
        found = await (
            loaders.customer_by_id.load(str(id_)) if id_ is not None else loaders.customer_by_external_id.load(
                str(external_id))
        )  # fmt: skip
    except UpstreamError as error:
        raise from_upstream(error) from None
    if found is None:
        raise gateway_error("No customer this token can read matches.", ErrorCode.FORBIDDEN)
    return found


async def _portal_customer_id(context: Context, token: str) -> str:
    _fresh_budget(context)
    try:
        return (await context.polar_client.get_portal_customer(token)).id
    except UpstreamError as error:
        raise from_upstream(error) from None


async def _organization_of(context: Context, live: Live, token: str) -> str | None:
    """The token's organization, from its newest customer (remembered for the revalidation interval, so a
    burst of subscriptions asks once); None when it has none yet (then its first customer's creation tells,
    see ``_belongs``)."""
    caller = caller_key(token)
    if (known := live.organization_of(caller, context.settings.subscription_token_revalidate_s)) is not None:
        return known
    _fresh_budget(context)
    try:
        page = await context.polar_client.customers_page(token, CustomerQuery(), 1, 1)
    except UpstreamError as error:
        raise from_upstream(error) from None
    if not page.items:
        return None
    live.remember_organization(caller, page.items[0].organization_id)
    return page.items[0].organization_id


async def _still_accepted(context: Context, token: str, kind: TokenKind) -> bool:
    """Whether Polar still lets the subscriber's token read what it follows (401: revoked or expired; 403: a
    scope removed). A failure that is not a refusal (Polar down) is not the subscriber's, and counts as
    accepted until the next check."""
    _fresh_budget(context)
    try:
        if kind is TokenKind.CUSTOMER_SESSION:
            await context.polar_client.get_portal_customer(token)
        else:
            await context.polar_client.customers_page(token, CustomerQuery(), 1, 1)
    except (UpstreamUnauthorized, UpstreamForbidden):
        return False
    except UpstreamError:
        return True
    return True


async def _belongs(context: Context, token: str, live: Live, subscriber: Subscriber, change: CustomerChange) -> bool:
    """For a subscriber whose organization is not known yet, offered a customer's creation: whether the token
    reads that customer (then its organization is learned). One call per organization at most: one found
    foreign is remembered."""
    _fresh_budget(context)
    try:
        await context.polar_client.get_customer(token, change.customer_id)
    except UpstreamNotFound:
        # Another organization's customer, or one of its own deleted since (created and deleted before this
        # read): the token's newest customer, once it has one, tells which; until then nothing is remembered.
        try:
            own = await _organization_of(context, live, token)
        except GraphQLError:
            return False
        if own is None:
            return False
        if own != change.organization_id and len(subscriber.foreign) < FOREIGN_ORGANIZATIONS:
            subscriber.foreign.add(change.organization_id)
        live.hub.learned(subscriber, own)
        return own == change.organization_id
    except UpstreamError:
        return False
    live.hub.learned(subscriber, change.organization_id)
    live.remember_organization(caller_key(token), change.organization_id)
    return True


async def _stream(
    context: Context, live: Live, subscriber: Subscriber, kind: TokenKind
) -> AsyncGenerator[CustomerChangeEvent, None]:
    settings = context.settings
    token = context.credentials.token or ""  # fixed for the connection: connection_init comes once
    caller = caller_key(token)
    if not live.subscriptions.claim(caller, settings.max_subscriptions_per_token):
        raise gateway_error(TOO_MANY_FOR_TOKEN.format(settings.max_subscriptions_per_token), ErrorCode.LIMIT_EXCEEDED)
    subscriber.on_too_slow = lambda: _close_soon(context, Ending.TOO_SLOW)
    live.hub.join(subscriber)
    if not live.bus.available:  # Redis went away while the subscription was checked: ``end_all`` came too early
        subscriber.end(Ending.BUS_LOST)
    interval = settings.subscription_token_revalidate_s
    next_check = time.monotonic() + interval
    try:
        while True:
            if time.monotonic() >= next_check:  # also while events keep coming
                if not await _still_accepted(context, token, kind):
                    subscriber.end(Ending.REVOKED)
                next_check = time.monotonic() + interval
            change = await subscriber.next(max(0.0, next_check - time.monotonic()))
            if change is None or (not subscriber.placed and not await _belongs(context, token, live, subscriber,
                                                                               change)):  # fmt: skip
                continue
            _fresh_budget(context)
            event_scope()
            yield _event(change)
    except Ended as ended:
        await _close_for(context, ended.reason)
    finally:
        live.hub.leave(subscriber)
        live.subscriptions.release(caller)


def _event(change: CustomerChange) -> CustomerChangeEvent:
    return CustomerChangeEvent(
        type=CustomerChangeType(change.kind.value),
        customer_id=strawberry.ID(change.customer_id),
        external_id=change.external_id,
        occurred_at=change.occurred_at,
    )


async def _close_for(context: Context, reason: Ending) -> None:
    """How an ended subscription is told: its connection closed with a code for a refused token, a slow
    reader or a stopping gateway; a GraphQL error for lost live events (the connection stays for others)."""
    socket = context.websocket
    if reason is Ending.BUS_LOST or socket is None:
        raise GraphQLError(BUS_LOST, extensions={"code": ErrorCode.UPSTREAM_UNAVAILABLE.value})
    code, message = {
        Ending.REVOKED: (CLOSE_REVOKED, REVOKED_REASON),
        Ending.TOO_SLOW: (CLOSE_TOO_SLOW, SLOW_REASON),
        Ending.SHUTDOWN: (CLOSE_GOING_AWAY, SHUTDOWN_REASON),
    }[reason]
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(CLOSE_TIMEOUT_S):
            await socket.close(code=code, message=message.encode())
    if reason is Ending.TOO_SLOW and context.transport is not None:
        # A peer that reads nothing never takes the close frame, and a closing transport would wait for its
        # buffer to drain: what is buffered for it is dropped with the connection.
        context.transport.abort()


_closing: set[asyncio.Task[None]] = set()  # closes under way, held until done (a bare task may be collected)


def _close_soon(context: Context, reason: Ending) -> None:
    """``_close_for`` in a task of its own: the subscription's task may be the one blocked writing."""
    if context.websocket is not None:
        task = asyncio.get_running_loop().create_task(_close_for(context, reason))
        _closing.add(task)
        task.add_done_callback(_closing.discard)
