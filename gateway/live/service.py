"""The live service of one application: its hub of subscribers, the bus that feeds it, the memory of
webhook ids, and the verifier of deliveries, started and stopped with the app."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from aiohttp import web
from redis.asyncio import Redis
from standardwebhooks import Webhook

from ..http.keys import LIVE
from ..settings import Settings
from ..upstream.polar_webhooks import verifier
from .bus import Bus, LocalBus, RedisBus
from .dedupe import MemorySeen, RedisSeen, SeenIds
from .hub import Ending, Hub

log = logging.getLogger("gateway.live")
REDIS_TIMEOUT_S = 1.0  # a command (SET NX, PUBLISH) or a connection attempt: a webhook answers within 1 s
STARTUP_WAIT_S = 2.0  # how long start-up waits for the Redis listener before serving without it
REMEMBERED_ORGANIZATIONS = 10_000  # callers whose organization is remembered, most recent kept


class CallerCounts:
    """How many of something each caller (a keyed digest of its token) holds, for a limit per caller; a
    caller holding none takes no room."""

    def __init__(self) -> None:
        self._held: dict[str, int] = {}

    def held(self, caller: str) -> int:
        return self._held.get(caller, 0)

    def claim(self, caller: str, limit: int) -> bool:
        """One more for ``caller``, unless it holds ``limit`` already."""
        if self.held(caller) >= limit:
            return False
        self._held[caller] = self.held(caller) + 1
        return True

    def release(self, caller: str) -> None:
        left = self.held(caller) - 1
        if left > 0:
            self._held[caller] = left
        else:
            self._held.pop(caller, None)


@dataclass
class Live:
    settings: Settings
    hub: Hub
    bus: Bus
    seen: SeenIds
    webhook: Webhook | None  # None: no polar_webhook_secret, /webhooks/polar answers 503
    connections: CallerCounts = field(default_factory=CallerCounts)  # open WebSocket connections per caller
    subscriptions: CallerCounts = field(default_factory=CallerCounts)  # running subscriptions per caller
    webhooks_reading: int = 0  # deliveries whose body is being read (webhook_max_concurrent)
    organizations: OrderedDict[str, tuple[str, float]] = field(default_factory=OrderedDict)  # caller -> its
    # organization and when Polar last said so (``graphql.live``): subscribing in a burst asks once

    def organization_of(self, caller: str, within_s: float) -> str | None:
        """The caller's organization, if Polar told it within ``within_s``."""
        known = self.organizations.get(caller)
        if known is None or time.monotonic() - known[1] > within_s:
            return None
        return known[0]

    def remember_organization(self, caller: str, organization: str) -> None:
        self.organizations[caller] = (organization, time.monotonic())
        self.organizations.move_to_end(caller)
        while len(self.organizations) > REMEMBERED_ORGANIZATIONS:
            self.organizations.popitem(last=False)
    sockets: set[web.WebSocketResponse] = field(default_factory=set)  # open, to close when the process stops


async def close_sockets(app: web.Application) -> None:
    """On SIGTERM, before in-flight requests are waited for: every subscriber is told (1001, going away) and
    its socket closed, so the drain is not held by connections that never end on their own."""
    live = app.get(LIVE)
    if live is None:
        return
    live.hub.end_all(Ending.SHUTDOWN)
    for socket in list(live.sockets):
        await socket.close(code=1001, message=b"The gateway is restarting: reconnect, then refetch")


def live_service(settings: Settings) -> Callable[[web.Application], AsyncIterator[None]]:
    async def service(app: web.Application) -> AsyncIterator[None]:
        secret = settings.polar_webhook_secret
        webhook = verifier(secret.get_secret_value()) if secret is not None else None
        hub = Hub()
        if settings.redis_url is None:
            app[LIVE] = Live(settings, hub, LocalBus(hub), MemorySeen(settings.webhook_dedupe_s,
                             settings.webhook_dedupe_ids), webhook)  # fmt: skip
            try:
                yield
            finally:
                hub.end_all(Ending.SHUTDOWN)
            return
        url = settings.redis_url.get_secret_value()
        commands = Redis.from_url(url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S)
        listener = Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_S)  # it pings on its own (bus.py)
        bus = RedisBus(hub, listener, commands)
        bus.start()
        if not await bus.wait_subscribed(STARTUP_WAIT_S):
            log.warning("redis is not reachable yet: serving; subscriptions start once it is")
        app[LIVE] = Live(settings, hub, bus, RedisSeen(commands, settings.webhook_dedupe_s), webhook)
        try:
            yield
        finally:
            hub.end_all(Ending.SHUTDOWN)
            await bus.close()
            await commands.aclose()

    return service
