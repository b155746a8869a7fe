"""The cache of one application, made from the settings and open while the app runs: which upstreams are
cached, for how long, and in which store."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from aiohttp import web
from redis.asyncio import Redis

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
        secret = settings.cursor_secret
        if (polar is None and voucherify is None) or secret is None:
            yield
            return
        names = Names(secret.get_secret_value())
        write_window_s = settings.request_deadline_s + 1.0  # a request's reads end within its deadline
        longest = max(ttl for ttl in (polar, voucherify) if ttl is not None)
        redis: Redis | None = None
        store: Store
        if settings.redis_url is not None:
            timeout = settings.cache_redis_timeout_s
            redis = Redis.from_url(
                settings.redis_url.get_secret_value(), socket_timeout=timeout, socket_connect_timeout=timeout
            )
            store = RedisStore(redis, timeout, settings.cache_redis_retry_s, settings.cache_max_entry_bytes,
                               write_window_s, longest)  # fmt: skip
        else:
            store = MemoryStore(settings.cache_max_bytes, settings.cache_max_entry_bytes, write_window_s, longest)
        trust_s = settings.cache_token_revalidate_s
        app[CACHE] = Caches(
            store,
            PolarCache(RecordCache("polar", store, names, Lifetimes(polar, trust_s))) if polar else None,
            VoucherifyCache(RecordCache("voucherify", store, names, Lifetimes(voucherify, trust_s)))
            if voucherify
            else None,
        )
        sampler = asyncio.create_task(_sample_bytes(store)) if isinstance(store, RedisStore) else None
        try:
            yield
        finally:
            if sampler is not None:
                sampler.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sampler
            if redis is not None:
                await redis.aclose()

    return service


async def _sample_bytes(store: RedisStore) -> None:
    while True:
        with contextlib.suppress(CacheUnavailable):
            await store.sample_bytes()
            CACHE_BYTES.labels(store.kind).set(store.bytes_held() or 0)
        await asyncio.sleep(SAMPLE_EVERY_S)
