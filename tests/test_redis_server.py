"""The test Redis (tests/redis_server.py): it answers, it can crash and come back on the same port, where
clients reconnect, and it leaves nothing behind."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import redis.asyncio
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.redis_server import RedisServer


def _client(server: RedisServer, retries: int = 0) -> redis.Redis:
    """A client that fails at once (no retry) and never waits more than 2 s on the socket."""
    return redis.Redis.from_url(
        server.url, socket_timeout=2, socket_connect_timeout=2, retry=Retry(NoBackoff(), retries)
    )


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A Redis of the test's own, to crash and restart without disturbing the session's."""
    with RedisServer() as server:
        yield server


def test_it_answers_ping_on_its_url(fresh_redis: RedisServer) -> None:
    assert fresh_redis.url == f"redis://127.0.0.1:{fresh_redis.port}/0"
    with _client(fresh_redis) as client:
        assert client.ping() is True


def test_it_keeps_what_is_set_and_starts_empty(fresh_redis: RedisServer) -> None:
    with _client(fresh_redis) as client:
        assert client.dbsize() == 0
        assert client.set("greeting", "hello", ex=60) is True
        assert client.get("greeting") == b"hello"
        assert client.config_get("save") == {"save": ""}
        assert client.config_get("appendonly") == {"appendonly": "no"}


def test_after_kill_a_client_gets_a_connection_error(own_redis: RedisServer) -> None:
    pid = own_redis.pid
    assert pid is not None
    with _client(own_redis) as client:
        assert client.ping() is True  # a pooled connection, which the crash breaks
        own_redis.kill()
        assert not own_redis.running
        assert _gone(pid)
        assert "SIGTERM" not in own_redis.log_path.read_text()  # no clean shutdown: a crash
        started = time.monotonic()
        with pytest.raises(redis.ConnectionError):
            client.ping()
        with pytest.raises(redis.ConnectionError):
            client.get("anything")  # a new connection, refused
        assert time.monotonic() - started < 5


def test_start_again_on_the_same_port_and_clients_reconnect(own_redis: RedisServer) -> None:
    port, url = own_redis.port, own_redis.url
    with _client(own_redis) as failed, _client(own_redis, retries=1) as idle:
        assert failed.set("before", "crash") is True
        assert idle.ping() is True  # its pooled connection is not used while Redis is down
        own_redis.kill()
        with pytest.raises(redis.ConnectionError):
            failed.ping()
        own_redis.start()
        assert (own_redis.port, own_redis.url) == (port, url)
        assert own_redis.running
        assert failed.ping() is True
        assert idle.ping() is True
        assert failed.get("before") is None  # nothing was persisted
        assert failed.set("after", "restart") is True
        assert idle.get("after") == b"restart"


async def test_an_asyncio_client_reconnects_after_a_crash(own_redis: RedisServer) -> None:
    """The gateway's client: the same URL serves again once Redis is back."""
    client = redis.asyncio.Redis.from_url(
        own_redis.url, socket_timeout=2, socket_connect_timeout=2, retry=redis.asyncio.retry.Retry(NoBackoff(), 1)
    )
    try:
        assert await client.ping() is True
        own_redis.kill()
        with pytest.raises(redis.ConnectionError):
            await client.ping()
        own_redis.start()
        assert await client.set("key", "value") is True
        assert await client.get("key") == b"value"
    finally:
        await client.aclose()


def test_the_process_is_gone_after_stop(own_redis: RedisServer) -> None:
    pid = own_redis.pid
    assert pid is not None
    assert not _gone(pid)
    own_redis.stop()
    assert not own_redis.running
    assert own_redis.pid is None
    assert _gone(pid)
    assert _refused(own_redis.port)
    assert "Received SIGTERM" in own_redis.log_path.read_text()  # a clean shutdown
    own_redis.stop()  # twice is harmless


def test_the_context_manager_leaves_no_process_and_no_directory() -> None:
    with RedisServer() as server:
        pid = server.pid
        directory = server.log_path.parent
        assert pid is not None
        assert not _gone(pid)
        assert "Ready to accept connections" in server.log_path.read_text()
        with _client(server) as client:
            assert client.ping() is True
    assert _gone(pid)
    assert not directory.exists()
    assert _refused(server.port)


def test_a_redis_that_cannot_start_raises_with_its_log_in_bounded_time() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = RedisServer(port=taken.getsockname()[1], timeout=5)
        try:
            started = time.monotonic()
            with pytest.raises(RuntimeError, match="Address already in use"):
                server.start()
            assert time.monotonic() - started < 6
            assert not server.running
        finally:
            server.close()


def test_start_while_running_is_refused(own_redis: RedisServer) -> None:
    with pytest.raises(RuntimeError, match="already running"):
        own_redis.start()


def test_a_server_left_running_is_ended_when_python_exits() -> None:
    """The atexit guard: a program that starts one and forgets it leaves no process behind."""
    program = (
        "from tests.redis_server import RedisServer\n"
        "server = RedisServer()\n"
        "server.start()\n"
        "print(server.pid, server.log_path.parent)\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=30, check=True)
    pid, directory = done.stdout.split()
    assert _gone(int(pid))
    assert not Path(directory).exists()
