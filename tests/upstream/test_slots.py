"""Fair slots: a cap per caller, turns between callers, and nothing held after a cancelled wait."""

from __future__ import annotations

import asyncio

import pytest

from gateway.upstream.slots import FairSlots


async def test_one_caller_takes_at_most_its_share() -> None:
    slots = FairSlots(total=4, per_caller=2)
    assert slots.try_acquire("a")
    assert slots.try_acquire("a")
    assert not slots.try_acquire("a")
    assert slots.try_acquire("b")  # another caller is not held up by a's flood
    assert (slots.in_flight, slots.held("a"), slots.held("b")) == (3, 2, 1)


async def test_a_freed_slot_goes_to_the_next_caller_in_turn_not_the_longest_queue() -> None:
    slots = FairSlots(total=1, per_caller=1)
    await slots.acquire("flood")
    served: list[str] = []

    async def wait(caller: str) -> None:
        await slots.acquire(caller)
        served.append(caller)
        slots.release(caller)

    waiters = [asyncio.create_task(wait("flood")) for _ in range(50)]
    await asyncio.sleep(0)
    victim = asyncio.create_task(wait("victim"))
    await asyncio.sleep(0)
    slots.release("flood")
    await asyncio.gather(*waiters, victim)
    assert served.index("victim") <= 1  # after at most one of the flood's fifty, not after all of them
    assert (slots.in_flight, slots.held("flood"), slots.held("victim")) == (0, 0, 0)


async def test_a_cancelled_wait_leaves_nothing_held() -> None:
    slots = FairSlots(total=1, per_caller=1)
    await slots.acquire("a")
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await slots.acquire("b")
    slots.release("a")
    assert slots.in_flight == 0
    assert slots.try_acquire("b")


async def test_a_slot_granted_as_its_wait_is_cancelled_is_handed_on() -> None:
    slots = FairSlots(total=1, per_caller=1)
    await slots.acquire("a")
    waiting = asyncio.create_task(slots.acquire("b"))
    third = asyncio.create_task(slots.acquire("c"))
    await asyncio.sleep(0)
    slots.release("a")  # granted to b ...
    waiting.cancel()  # ... whose wait is cancelled before it runs
    await asyncio.gather(waiting, return_exceptions=True)
    await asyncio.wait_for(third, 1)  # c gets the slot b gave back
    assert (slots.in_flight, slots.held("b"), slots.held("c")) == (1, 0, 1)
