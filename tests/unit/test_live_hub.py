"""The hub hands each change to the subscribers it concerns; a subscriber holds at most ``limit`` changes, one
more ends it as too slow (its queue dropped, never grown). What a subscriber takes is checked again when it is
taken (``Subscriber.concerns``): an unplaced one (no customer yet) takes creations only, and nothing of another
organization that was queued before its own was learned; a full queue only drops for an unplaced one."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from gateway.live.bus import decode, encode
from gateway.live.hub import Ended, Ending, Hub, Subscriber
from gateway.upstream.polar_webhooks import ChangeKind, CustomerChange

DEMO, OTHER = "org-demo", "org-other"


def _change(
    customer: str = "c1", organization: str = DEMO, external: str | None = None, kind: ChangeKind = ChangeKind.UPDATED
) -> CustomerChange:
    event_type = "customer.created" if kind is ChangeKind.CREATED else "customer.updated"
    return CustomerChange(kind, event_type, organization, customer, external, datetime.now(UTC))


async def test_a_subscriber_over_its_limit_is_ended_too_slow() -> None:
    subscriber = Subscriber(limit=3, organization_id=DEMO)
    changes = [_change(f"c{n}") for n in range(3)]
    for change in changes:
        subscriber.offer(change)
    assert subscriber.ending is None
    assert await subscriber.next(1) is changes[0]  # taking one makes room for one
    subscriber.offer(_change("c3"))
    assert subscriber.ending is None
    subscriber.offer(_change("c4"))  # the fourth waiting
    assert subscriber.ending is Ending.TOO_SLOW
    assert len(subscriber._waiting) == 0  # what it held is dropped
    for n in range(100):
        subscriber.offer(_change(f"later-{n}"))
    assert len(subscriber._waiting) == 0  # and nothing more is taken
    with pytest.raises(Ended) as ended:
        await subscriber.next(1)
    assert ended.value.reason is Ending.TOO_SLOW


async def test_next_waits_then_answers_none() -> None:
    subscriber = Subscriber(limit=3, organization_id=DEMO)
    assert await subscriber.next(0.01) is None
    subscriber.offer(_change())
    assert (await subscriber.next(0.01)) is not None


async def test_the_first_ending_is_the_reason() -> None:
    subscriber = Subscriber(limit=3)
    subscriber.end(Ending.REVOKED)
    subscriber.end(Ending.SHUTDOWN)
    with pytest.raises(Ended) as ended:
        await subscriber.next(1)
    assert ended.value.reason is Ending.REVOKED


def _waiting(subscriber: Subscriber) -> list[str]:
    return [change.customer_id for change in subscriber._waiting]


def test_changes_go_to_their_organization_and_their_customer_only() -> None:
    hub = Hub()
    demo = Subscriber(10, organization_id=DEMO)
    other = Subscriber(10, organization_id=OTHER)
    one = Subscriber(10, customer_id="c1")
    for subscriber in (demo, other, one):
        hub.join(subscriber)
    assert len(hub) == 3
    hub.deliver(_change("c1"))
    hub.deliver(_change("c2"))
    hub.deliver(_change("o1", OTHER))
    assert (_waiting(demo), _waiting(other), _waiting(one)) == (["c1", "c2"], ["o1"], ["c1"])
    hub.leave(one)
    hub.leave(demo)
    hub.deliver(_change("c1"))
    assert (_waiting(demo), _waiting(one)) == (["c1", "c2"], ["c1"])
    assert len(hub) == 1


def test_an_unplaced_subscriber_takes_only_creations_until_its_organization_is_learned() -> None:
    """Its token's organization unknown (no customer yet), it can only be told by reading a new customer: it
    takes creations (not those of an organization found foreign), then, learned, its organization's changes."""
    hub = Hub()
    unplaced = Subscriber(10)
    hub.join(unplaced)
    unplaced.foreign.add(DEMO)  # a read with its token found a Demo customer not to be its own
    hub.deliver(_change("c1", kind=ChangeKind.CREATED))
    hub.deliver(_change("o0", OTHER))  # an update: nothing tells whose it is
    hub.deliver(_change("o1", OTHER, kind=ChangeKind.CREATED))
    assert _waiting(unplaced) == ["o1"]
    hub.learned(unplaced, OTHER)
    hub.deliver(_change("o2", OTHER))
    hub.deliver(_change("x1", "org-third", kind=ChangeKind.CREATED))
    assert _waiting(unplaced) == ["o1", "o2"]
    hub.leave(unplaced)
    assert len(hub) == 0


def test_end_all_ends_everyone() -> None:
    hub = Hub()
    subscribers = [Subscriber(10, organization_id=DEMO), Subscriber(10, customer_id="c1"), Subscriber(10)]
    for subscriber in subscribers:
        hub.join(subscriber)
    hub.end_all(Ending.BUS_LOST)
    assert [s.ending for s in subscribers] == [Ending.BUS_LOST] * 3


@pytest.mark.parametrize("external", [None, "ext-1"])
def test_a_change_survives_the_bus(external: str | None) -> None:
    change = _change("c1", DEMO, external)
    assert decode(encode(change)) == change
    assert decode(encode(change).decode()) == change


@pytest.mark.parametrize(
    "data",
    [
        None,
        7,
        b"",
        b"not json",
        b"[]",
        b"{}",
        b'{"kind": "NOPE", "type": "t", "organization": "o", "customer": "c", "at": "2026-01-01T00:00:00+00:00"}',
        b'{"kind": "UPDATED", "type": "t", "organization": "o", "customer": "c", "at": "later"}',
    ],
)
def test_anything_else_on_the_channel_is_ignored(data: object) -> None:
    assert decode(data) is None


# Subscriber.concerns, and the check when a change is taken -------------------------------------


async def _taken(subscriber: Subscriber) -> list[str]:
    """The customers of what ``next`` returns from the queue as it stands (a change it drops is not listed)."""
    found = []
    while subscriber._waiting:
        change = await subscriber.next(0)
        if change is not None:
            found.append(change.customer_id)
    return found


@pytest.mark.parametrize("kind", list(ChangeKind))
def test_a_customer_subscriber_concerns_its_customer_only(kind: ChangeKind) -> None:
    subscriber = Subscriber(10, customer_id="c1")
    assert subscriber.placed
    assert subscriber.concerns(_change("c1", DEMO, kind=kind))
    assert subscriber.concerns(_change("c1", OTHER, kind=kind))  # ids are unique across organizations
    assert not subscriber.concerns(_change("c2", DEMO, kind=kind))


@pytest.mark.parametrize("kind", list(ChangeKind))
def test_an_organization_subscriber_concerns_its_organization_only(kind: ChangeKind) -> None:
    subscriber = Subscriber(10, organization_id=DEMO)
    assert subscriber.placed
    assert subscriber.concerns(_change("c1", DEMO, kind=kind))
    assert not subscriber.concerns(_change("o1", OTHER, kind=kind))


@pytest.mark.parametrize("kind", list(ChangeKind))
def test_an_unplaced_subscriber_concerns_creations_not_known_foreign(kind: ChangeKind) -> None:
    subscriber = Subscriber(10)
    assert not subscriber.placed
    subscriber.foreign.add(OTHER)
    assert subscriber.concerns(_change("c1", DEMO, kind=kind)) is (kind is ChangeKind.CREATED)
    assert not subscriber.concerns(_change("o1", OTHER, kind=kind))
    assert subscriber.concerns(_change("x1", "org-unknown", kind=kind)) is (kind is ChangeKind.CREATED)


async def test_another_organizations_change_queued_before_learned_is_not_taken_after() -> None:
    hub = Hub()
    subscriber = Subscriber(10)
    hub.join(subscriber)
    hub.deliver(_change("o1", OTHER, kind=ChangeKind.CREATED))
    hub.deliver(_change("o2", OTHER, kind=ChangeKind.CREATED))
    hub.deliver(_change("c1", DEMO, kind=ChangeKind.CREATED))  # its own organization's first customer
    hub.deliver(_change("o3", OTHER, kind=ChangeKind.CREATED))
    hub.deliver(_change("o4", OTHER))  # not a creation: never offered
    assert _waiting(subscriber) == ["o1", "o2", "c1", "o3"]

    hub.learned(subscriber, DEMO)
    hub.deliver(_change("c2", DEMO))
    hub.deliver(_change("o5", OTHER, kind=ChangeKind.CREATED))  # no longer offered: it is placed
    assert await _taken(subscriber) == ["c1", "c2"]
    assert await subscriber.next(0) is None
    hub.leave(subscriber)
    assert len(hub) == 0  # it left from where it was learned to be


async def test_an_organization_subscriber_takes_everything_of_its_own() -> None:
    hub = Hub()
    subscriber = Subscriber(10, organization_id=DEMO)
    hub.join(subscriber)
    for kind in ChangeKind:
        hub.deliver(_change(f"c-{kind.value}", DEMO, kind=kind))
        hub.deliver(_change(f"o-{kind.value}", OTHER, kind=kind))
    assert await _taken(subscriber) == [f"c-{kind.value}" for kind in ChangeKind]


# Over the limit -----------------------------------------------------------------------------------


@pytest.mark.parametrize("placement", [{"organization_id": DEMO}, {"customer_id": "c1"}])
async def test_one_more_than_the_limit_ends_a_placed_subscriber_too_slow(placement: dict[str, str]) -> None:
    subscriber = Subscriber(3, **placement)
    for _ in range(3):
        subscriber.offer(_change("c1", DEMO))
    assert subscriber.ending is None
    subscriber.offer(_change("c1", DEMO))
    assert subscriber.ending is Ending.TOO_SLOW
    assert not subscriber._waiting
    with pytest.raises(Ended) as ended:
        await subscriber.next(1)
    assert ended.value.reason is Ending.TOO_SLOW


async def test_one_more_than_the_limit_only_drops_for_an_unplaced_subscriber() -> None:
    """An unplaced subscriber is offered every organization's creations: a burst of them is not its slowness."""
    subscriber = Subscriber(3)
    for n in range(10):
        subscriber.offer(_change(f"x{n}", f"org-{n}", kind=ChangeKind.CREATED))
    assert subscriber.ending is None
    assert await _taken(subscriber) == ["x0", "x1", "x2"]
    assert await subscriber.next(0) is None  # nothing left, still subscribed
    subscriber.offer(_change("later", "org-later", kind=ChangeKind.CREATED))
    later = await subscriber.next(1)
    assert later is not None
    assert later.customer_id == "later"


async def test_what_a_subscriber_does_not_concern_never_fills_its_queue() -> None:
    subscriber = Subscriber(2, organization_id=DEMO)
    for n in range(100):
        subscriber.offer(_change(f"o{n}", OTHER))
    assert subscriber.ending is None
    assert not subscriber._waiting


# end_all ------------------------------------------------------------------------------------------


async def test_end_all_wakes_every_subscriber_waiting() -> None:
    hub = Hub()
    subscribers = [
        Subscriber(10, organization_id=DEMO),
        Subscriber(10, organization_id=OTHER),
        Subscriber(10, customer_id="c1"),
        Subscriber(10),
        Subscriber(10),
    ]
    for subscriber in subscribers:
        hub.join(subscriber)
    hub.learned(subscribers[4], DEMO)
    waiting = [asyncio.create_task(subscriber.next(60)) for subscriber in subscribers]
    await asyncio.sleep(0)
    assert not any(task.done() for task in waiting)
    hub.end_all(Ending.SHUTDOWN)
    async with asyncio.timeout(5):
        outcomes = await asyncio.gather(*waiting, return_exceptions=True)
    for outcome in outcomes:
        assert isinstance(outcome, Ended), outcomes
        assert outcome.reason is Ending.SHUTDOWN
    for subscriber in subscribers:
        subscriber.offer(_change("c1", DEMO, kind=ChangeKind.CREATED))  # nothing more is queued
        assert not subscriber._waiting
        hub.leave(subscriber)
    assert len(hub) == 0


async def test_end_all_drops_what_was_queued() -> None:
    hub = Hub()
    subscribers = [Subscriber(10, organization_id=DEMO), Subscriber(10, customer_id="c1"), Subscriber(10)]
    for subscriber in subscribers:
        hub.join(subscriber)
    hub.deliver(_change("c1", DEMO, kind=ChangeKind.CREATED))
    assert all(subscriber._waiting for subscriber in subscribers)
    hub.end_all(Ending.BUS_LOST)
    for subscriber in subscribers:
        with pytest.raises(Ended) as ended:
            await subscriber.next(0)
        assert ended.value.reason is Ending.BUS_LOST
