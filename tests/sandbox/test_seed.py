"""The seed data is deterministic and as varied as the issue asks."""

from __future__ import annotations

from gateway.sandbox.render import customer
from gateway.sandbox.seed import DEMO_READ_TOKEN, DEMO_TOKEN, MAIL_DOMAINS, OTHER_TOKEN, build_store
from gateway.sandbox.validation import Problems, check_email


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


def test_seeded_emails_are_deliverable_and_fictional() -> None:
    """Polar refuses emails whose domain does not accept mail (polar-server-differences.md, row 5): every seeded
    email and owner email passes the sandbox's own check, on one of a few mail providers' domains, with the
    organization's slug leading the local part."""
    store = build_store(250, 1)
    addresses = [
        (store.organizations[c.organization_id].slug, address)
        for c in store.customers.values()
        for address in (c.email, c.owner_email)
        if address is not None
    ]
    assert len(addresses) > 262
    for slug, address in addresses:
        problems = Problems()
        assert check_email(address, ["body", "email"], problems) == address, problems
        local, domain = address.split("@")
        assert domain in MAIL_DOMAINS
        assert local.startswith(f"{slug}.")
    assert {address.split("@")[1] for _, address in addresses} == set(MAIL_DOMAINS)
