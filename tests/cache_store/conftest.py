"""Stores on the session's Redis, emptied before each test (``fresh_redis``); their clients closed after."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.cache.redis_store import RedisStore
from tests.cache_store.helpers import make_store
from tests.redis_server import RedisServer


@pytest.fixture
async def store(fresh_redis: RedisServer) -> AsyncIterator[RedisStore]:
    """One gateway instance's store."""
    made = make_store(fresh_redis.url)
    yield made
    await made.redis.aclose()


@pytest.fixture
async def other_instance(fresh_redis: RedisServer) -> AsyncIterator[RedisStore]:
    """Another instance of the same deployment, on the same Redis."""
    made = make_store(fresh_redis.url)
    yield made
    await made.redis.aclose()
