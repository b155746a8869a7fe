"""The seed data is deterministic and as varied as the issue asks."""

from __future__ import annotations

from gateway.sandbox.render import customer
from gateway.sandbox.seed import DEMO_READ_TOKEN, DEMO_TOKEN, OTHER_TOKEN, build_store


def _demo_customers(seed: int, count: int = 250) -> list[dict[str, object]]:
    store = build_store(count, seed)
    demo = store.tokens[DEMO_TOKEN].organization_id
    return [customer(c) for c in store.live_customers(demo)]


def test_same_seed_same_data_other_seed_other_data() -> None:
    assert _demo_customers(1) == _demo_customers(1)
    assert _demo_customers(1) != _demo_customers(2)


def test_customer_count_follows_the_flag_and_other_has_its_own() -> None:
    store = build_store(40, 7)
    demo, other = store.tokens[DEMO_TOKEN].organization_id, store.tokens[OTHER_TOKEN].organization_id
    assert demo != other
    assert len(store.live_customers(demo)) == 40
    assert len(store.live_customers(other)) == 12
    assert store.tokens[DEMO_READ_TOKEN].scopes == frozenset({"customers:read"})


def test_customers_are_varied() -> None:
    customers = _demo_customers(1)
    assert {c["type"] for c in customers} == {"individual", "team"}
    assert any(c["external_id"] for c in customers)
    assert any(c["external_id"] is None for c in customers)
    assert any(c["metadata"] for c in customers)
    assert any(c["billing_address"] for c in customers)
    assert any(c["tax_id"] for c in customers)
    assert any(c["type"] == "team" and c["email"] is None for c in customers)
