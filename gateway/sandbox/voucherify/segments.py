"""The demo project's segments: rules on a customer's profile, so membership follows every update (and a
profile that does not exist qualifies for none, as ``GET /v1/customers/{id}/segments`` documents)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .model import Customer


@dataclass(frozen=True)
class Segment:
    id: str
    name: str
    rule: Callable[[Customer], bool]

    def as_json(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "object": "segment"}


SEGMENTS = (
    Segment("seg_LoyalMembers0000000001", "loyal members (1000+ points)", lambda c: c.points >= 1000),
    Segment("seg_FrequentBuyers00000002", "frequent buyers (5+ orders)", lambda c: c.orders_count >= 5),
    Segment("seg_LinkedToPolar000000003", "linked to Polar", lambda c: (c.source_id or "").startswith("usr_demo_")),
)


def segments_of(customer: Customer | None) -> list[Segment]:
    return [] if customer is None else [segment for segment in SEGMENTS if segment.rule(customer)]
