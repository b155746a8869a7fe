"""Persisted documents of one application, made from the settings: the manifest (read at start-up; a bad
file stops the start, saying why) and the store of automatic persisted queries, in Redis when ``redis_url``
is set."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from aiohttp import web
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from ..http.keys import PERSISTED
from ..settings import Settings
from .documents import PersistedDocuments
from .manifest import Manifest, load_manifest
from .store import MemoryQueryStore, QueryStore, RedisQueryStore


def manifest_of(settings: Settings) -> Manifest | None:
    return load_manifest(settings.trusted_documents) if settings.trusted_documents is not None else None


Service = Callable[[web.Application], AsyncIterator[None]]


def persisted_service(settings: Settings, manifest: Manifest | None) -> Service:
    async def service(app: web.Application) -> AsyncIterator[None]:
        redis: Redis | None = None
        store: QueryStore | None = None
        if settings.persisted_queries and not settings.trusted_documents_only:
            if settings.redis_url is not None:
                timeout = settings.cache_redis_timeout_s
                redis = Redis.from_url(
                    settings.redis_url.get_secret_value(),
                    socket_timeout=timeout,
                    socket_connect_timeout=timeout,
                    retry=Retry(NoBackoff(), 1),  # a pooled connection a restart closed: once more, at once
                    retry_on_error=[RedisConnectionError],
                )
                store = RedisQueryStore(
                    redis, settings.persisted_queries_max_bytes, timeout, settings.cache_redis_retry_s
                )
            else:
                store = MemoryQueryStore(settings.persisted_queries_max_bytes)
        app[PERSISTED] = PersistedDocuments(store, manifest, settings.trusted_documents_only)
        try:
            yield
        finally:
            if redis is not None:
                await redis.aclose()

    return service
