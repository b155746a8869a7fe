"""The hub hands each change to the subscribers it concerns; a subscriber holds at most ``limit`` changes, one
more ends it as too slow (its queue dropped, never grown)."""

from __future__ import annotations

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
