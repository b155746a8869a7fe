"""The cache of one application, made from the settings and open while the app runs: which upstreams are
cached, for how long, and in which store."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from aiohttp import web
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from ..http.keys import CACHE
from ..observability.metrics import CACHE_BYTES
from ..settings import Settings
from .names import Names
from .polar import PolarCache
from .records import RecordCache
from .redis_store import RedisStore
from .store import CacheUnavailable, Lifetimes, MemoryStore, Store
from .voucherify import VoucherifyCache

log = logging.getLogger("gateway.cache")
DEFAULT_TTL_WITH_WEBHOOKS_S = 300.0
SAMPLE_EVERY_S = 10.0  # Redis's memory, for gateway_cache_bytes


@dataclass(frozen=True)
class Caches:
    store: Store
    polar: PolarCache | None  # None: Polar's reads are not cached
    voucherify: VoucherifyCache | None


def polar_ttl(settings: Settings) -> float | None:
    """How long Polar's entries live; None: not cached. On by default only where a change can invalidate them
    (a webhook secret), or where an operator chose how stale they may be (``cache_ttl_s``)."""
    if settings.cache is False:
        return None
    if settings.cache_ttl_s is not None:
        return settings.cache_ttl_s
    return DEFAULT_TTL_WITH_WEBHOOKS_S if settings.polar_webhook_secret is not None else None


def voucherify_ttl(settings: Settings) -> float | None:
    return None if settings.cache is False else settings.voucherify_cache_ttl_s


def cache_service(settings: Settings) -> Callable[[web.Application], AsyncIterator[None]]:
    async def service(app: web.Application) -> AsyncIterator[None]:
        polar, voucherify = polar_ttl(settings), voucherify_ttl(settings)
        if polar is None and voucherify is None:
            yield
            return
        write_window_s = settings.request_deadline_s + 1.0  # a request's reads end within its deadline
        longest = max(ttl for ttl in (polar, voucherify) if ttl is not None)
        redis: Redis | None = None
        store: Store
        if settings.redis_url is not None:
            timeout, invalidating = settings.cache_redis_timeout_s, settings.cache_invalidation_timeout_s
            redis = Redis.from_url(  # each command is timed by the store; the socket's own bound is the longest
                settings.redis_url.get_secret_value(),
                socket_timeout=max(timeout, invalidating),
                socket_connect_timeout=max(timeout, invalidating),
                # A pooled connection a restarted Redis closed fails once: tried again at once on a new one
                # (every command here may run twice), rather than a webhook answered 503 for it.
                retry=Retry(NoBackoff(), 1),
                retry_on_error=[RedisConnectionError],
            )
            store = RedisStore(redis, timeout, settings.cache_redis_retry_s, settings.cache_max_entry_bytes,
                               write_window_s, longest, invalidating)  # fmt: skip
            names = Names(None)  # the key every instance shares is kept in Redis
            await _learn_names_key(store, names)
            if not names.ready:
                log.warning("redis is not reachable yet: the cache reads upstream until it is")
        else:
            store = MemoryStore(settings.cache_max_bytes, settings.cache_max_entry_bytes, write_window_s, longest)
            names = Names(secrets.token_hex(32))
        trust_s = settings.cache_token_revalidate_s
        app[CACHE] = Caches(
            store,
            PolarCache(RecordCache("polar", store, names, Lifetimes(polar, trust_s))) if polar else None,
            VoucherifyCache(RecordCache("voucherify", store, names, Lifetimes(voucherify, trust_s)))
            if voucherify
            else None,
        )
        upkeep = None
        if isinstance(store, RedisStore):
            upkeep = asyncio.create_task(_look_after(store, names, max(settings.cache_redis_retry_s, 0.1)))
        try:
            yield
        finally:
            if upkeep is not None:
                upkeep.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await upkeep
            if redis is not None:
                await redis.aclose()

    return service


async def _learn_names_key(store: RedisStore, names: Names) -> None:
    with contextlib.suppress(CacheUnavailable):
        shared = await store.names_key(names.secret)
        if shared != names.secret:
            names.use(shared)


async def _look_after(store: RedisStore, names: Names, every_s: float) -> None:
    """Every ``every_s``: the naming key (learned, or put back), the epoch bump a missed invalidation left to do
    (so other instances stop serving what it would have removed); Redis's memory every ``SAMPLE_EVERY_S``."""
    sampled_at = -SAMPLE_EVERY_S
    while True:
        # Every round, not only until it is known: a Redis that lost its data has lost the key too, and the
        # first instance to ask puts its own back (the others adopt it).
        await _learn_names_key(store, names)
        with contextlib.suppress(CacheUnavailable):
            await store.recover()
        if time.monotonic() - sampled_at >= SAMPLE_EVERY_S:
            sampled_at = time.monotonic()
            with contextlib.suppress(CacheUnavailable):
                await store.sample_bytes()
                CACHE_BYTES.labels(store.kind).set(store.bytes_held() or 0)
        await asyncio.sleep(every_s)
