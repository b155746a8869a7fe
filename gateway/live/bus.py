"""How a verified change reaches the hubs: directly in one process, or through one Redis pub/sub channel that
every instance listens to (so a webhook delivered to any instance reaches subscribers on all of them).

The Redis listener reconnects on its own. While it is away, subscriptions end with an error (events
published meanwhile would be missed, and delivery is at most once) and new ones are refused; queries and
mutations never depend on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime
from typing import Protocol

import orjson
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from ..observability.metrics import LIVE_BUS_UP
from ..upstream.polar_webhooks import ChangeKind, CustomerChange
from .hub import Ending, Hub

log = logging.getLogger("gateway.live")
CHANNEL = "gateway:customer-changes"
MAX_MESSAGE_BYTES = 4096  # a change is a few hundred bytes: ids, a type, a time
RECONNECT_MIN_S = 0.1
RECONNECT_MAX_S = 2.0
LISTEN_POLL_S = 0.5
PING_EVERY_S = 2.0


class Bus(Protocol):
    @property
    def available(self) -> bool:
        """Whether subscribers receive what is published now."""
        ...

    async def publish(self, change: CustomerChange) -> None:
        """Hands the change on to every instance's hub; raises when it cannot."""
        ...


class LocalBus:
    """One process: published is delivered."""

    available = True

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        LIVE_BUS_UP.set(1)

    async def publish(self, change: CustomerChange) -> None:
        self.hub.deliver(change)


class RedisBus:
    """Publishes with ``commands`` (short timeouts); listens on a connection of ``listener``'s own."""

    def __init__(self, hub: Hub, listener: Redis, commands: Redis) -> None:
        self.hub = hub
        self.listener = listener
        self.commands = commands
        self.available = False
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        LIVE_BUS_UP.set(0)

    async def publish(self, change: CustomerChange) -> None:
        await self.commands.publish(CHANNEL, encode(change))

    def start(self) -> None:
        self._listener = asyncio.get_running_loop().create_task(self._listen_forever())

    async def wait_subscribed(self, timeout_s: float) -> bool:
        """Whether the listener subscribed within ``timeout_s`` (start-up waits a little for it, not forever)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await self._subscribed.wait()
        return self.available

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self.listener.aclose()

    async def _listen_forever(self) -> None:
        delay = RECONNECT_MIN_S
        while True:
            try:
                await self._listen()
            except (RedisError, OSError) as error:
                if self.available:
                    log.warning("redis lost (%s): live subscriptions end; reconnecting", type(error).__name__)
                    self._set_available(False)
                    self.hub.end_all(Ending.BUS_LOST)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_S)
            else:
                delay = RECONNECT_MIN_S

    async def _listen(self) -> None:
        """Until the connection fails. A Redis that stops answering (frozen, or cut off without a reset) is
        found by a PING on this connection every ``PING_EVERY_S`` whose PONG does not come within as long:
        redis-py's own health check sends the PING but does not miss the answer."""
        async with self.listener.pubsub(ignore_subscribe_messages=True) as pubsub:
            await pubsub.subscribe(CHANNEL)
            self._set_available(True)
            log.info("redis subscribed: live events shared by every instance")
            heard = pinged = time.monotonic()
            while True:
                message = await pubsub.get_message(timeout=LISTEN_POLL_S)
                now = time.monotonic()
                if message is not None:
                    heard = now
                    if message.get("type") == "message" and (change := decode(message.get("data"))) is not None:
                        self.hub.deliver(change)
                if now - heard > 2 * PING_EVERY_S:
                    raise RedisConnectionError("no answer to PING on the subscription's connection")
                if now - pinged >= PING_EVERY_S:
                    await pubsub.ping()
                    pinged = now

    def _set_available(self, available: bool) -> None:
        self.available = available
        LIVE_BUS_UP.set(1 if available else 0)
        if available:
            self._subscribed.set()
        else:
            self._subscribed.clear()


def encode(change: CustomerChange) -> bytes:
    return orjson.dumps(
        {
            "kind": change.kind.value,
            "type": change.event_type,
            "organization": change.organization_id,
            "customer": change.customer_id,
            "external": change.external_id,
            "at": change.occurred_at.isoformat(),
        }
    )


def decode(data: object) -> CustomerChange | None:
    """A change from the channel, within the bounds a webhook's has; None for anything else published there
    (another program, an old version)."""
    try:
        fields = orjson.loads(data) if isinstance(data, bytes | str) and len(data) <= MAX_MESSAGE_BYTES else None
        if not isinstance(fields, dict):
            return None
        external = fields.get("external")
        change = CustomerChange(
            kind=ChangeKind(fields["kind"]),
            event_type=str(fields["type"]),
            organization_id=str(fields["organization"]),
            customer_id=str(fields["customer"]),
            external_id=None if external is None else str(external),
            occurred_at=datetime.fromisoformat(str(fields["at"])),
        )
    except (orjson.JSONDecodeError, KeyError, ValueError, TypeError):
        return None
    return change
