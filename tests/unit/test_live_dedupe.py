"""``MemorySeen``: which webhook ids this process has taken, each for ``ttl_s``, at most ``max_ids`` of them."""

from __future__ import annotations

from collections.abc import Coroutine
from types import SimpleNamespace
from typing import Any, TypeVar

import pytest

from gateway.live import dedupe
from gateway.live.dedupe import MemorySeen

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """A coroutine that never waits, run to its end (MemorySeen's are async for the protocol's sake only)."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    raise AssertionError("the coroutine waited")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The module's monotonic clock, moved by the test (only ``gateway.live.dedupe`` sees it)."""
    fake = Clock()
    monkeypatch.setattr(dedupe, "time", SimpleNamespace(monotonic=fake.monotonic))
    return fake


def test_an_id_is_new_once(clock: Clock) -> None:
    seen = MemorySeen(ttl_s=60, max_ids=10)
    assert run(seen.first_time("msg_1")) is True
    assert run(seen.first_time("msg_1")) is False
    assert run(seen.first_time("msg_2")) is True
    assert run(seen.first_time("msg_1")) is False


def test_a_forgotten_id_is_new_again(clock: Clock) -> None:
    seen = MemorySeen(ttl_s=60, max_ids=10)
    assert run(seen.first_time("msg_1")) is True
    run(seen.forget("msg_1"))
    assert run(seen.first_time("msg_1")) is True
    run(seen.forget("never-seen"))  # nothing to forget: no error


def test_an_id_counts_for_its_ttl_then_is_new_again(clock: Clock) -> None:
    seen = MemorySeen(ttl_s=60, max_ids=10)
    assert run(seen.first_time("msg_1")) is True
    clock.now += 30
    assert run(seen.first_time("msg_2")) is True
    clock.now += 29.9
    assert run(seen.first_time("msg_1")) is False  # 59.9 s: still seen (and a repeat does not extend it)
    clock.now += 0.1
    assert run(seen.first_time("msg_1")) is True  # 60 s: expired
    assert run(seen.first_time("msg_2")) is False  # 30 s old
    clock.now += 30
    assert run(seen.first_time("msg_2")) is True


def test_expired_ids_are_dropped_not_kept(clock: Clock) -> None:
    seen = MemorySeen(ttl_s=1, max_ids=1000)
    for n in range(100):
        run(seen.first_time(f"msg_{n}"))
    clock.now += 2
    run(seen.first_time("msg_new"))
    assert len(seen._ids) == 1


def test_at_most_max_ids_are_kept_the_oldest_go_first(clock: Clock) -> None:
    seen = MemorySeen(ttl_s=3600, max_ids=3)
    for name in ("a", "b", "c", "d"):
        assert run(seen.first_time(name)) is True
        clock.now += 1
    assert len(seen._ids) == 3
    assert [run(seen.first_time(name)) for name in ("d", "c", "b")] == [False, False, False]
    assert run(seen.first_time("a")) is True  # pushed out by d; taking it again pushes out b
    assert run(seen.first_time("b")) is True
    for n in range(1000):
        run(seen.first_time(f"many-{n}"))
    assert len(seen._ids) == 3
