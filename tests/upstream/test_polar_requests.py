"""What the gateway's requests become on Polar's wire, as pure logic: list queries as query parameters, and
creates and updates as bodies, where a field left out is not sent and ``None`` clears it."""

from __future__ import annotations

import pytest

from gateway.upstream.polar_records import Address
from gateway.upstream.polar_requests import (
    KEEP,
    CustomerCreate,
    CustomerQuery,
    CustomerUpdate,
    OrderQuery,
    OrderUpdate,
    Owner,
    SessionCreate,
    sorting,
)

NEW_YORK = Address(country="US", line1="1 Main St", postal_code="10001", city="New York", state="US-NY")
NEW_YORK_JSON = {"line1": "1 Main St", "line2": None, "postal_code": "10001", "city": "New York",
                 "state": "US-NY", "country": "US"}  # fmt: skip


@pytest.mark.parametrize(
    ("key", "reverse", "expected"),
    [(None, False, "-created_at"), (None, True, "created_at"), ("email", False, "email"), ("email", True, "-email")],
)
def test_sorting_is_newest_first_unless_a_key_is_given(key: str | None, reverse: bool, expected: str) -> None:
    assert sorting(key, reverse) == expected


def test_a_customer_query_is_polars_filters_and_sorting() -> None:
    query = CustomerQuery(email="a@b.co", text="ad", active=False,
                          metadata=(("tier", ("gold", "silver")), ("n", ("1",))), sort_key="name")  # fmt: skip
    assert query.params() == [
        ("email", "a@b.co"), ("query", "ad"), ("active", "false"),
        ("metadata[tier]", "gold"), ("metadata[tier]", "silver"), ("metadata[n]", "1"), ("sorting", "name"),
    ]  # fmt: skip
    assert CustomerQuery().params() == [("sorting", "-created_at")]


def test_an_order_query_repeats_its_lists() -> None:
    query = OrderQuery(product_ids=("p1", "p2"), billing_types=("recurring",), subscription_ids=("s1",), text="pro",
                       reverse=True)  # fmt: skip
    assert query.params() == [
        ("product_id", "p1"), ("product_id", "p2"), ("product_billing_type", "recurring"), ("subscription_id", "s1"),
        ("query", "pro"), ("sorting", "created_at"),
    ]  # fmt: skip


def test_a_create_sends_only_what_is_given() -> None:
    assert CustomerCreate(type="individual", email="a@b.co").body() == {"type": "individual", "email": "a@b.co"}
    team = CustomerCreate(type="team", name="Crew", billing_address=NEW_YORK, metadata={"k": 1},
                          owner=Owner(email="o@b.co"))  # fmt: skip
    assert team.body() == {
        "type": "team", "name": "Crew", "metadata": {"k": 1}, "billing_address": NEW_YORK_JSON,
        "owner": {"email": "o@b.co", "name": None, "external_id": None},
    }  # fmt: skip


def test_an_update_sends_what_changes_and_none_clears() -> None:
    assert CustomerUpdate().body() == {}
    change = CustomerUpdate(name=None, locale="fr", billing_address=None, external_id="e-1", type="team")
    assert change.body() == {"name": None, "locale": "fr", "billing_address": None, "external_id": "e-1",
                             "type": "team"}  # fmt: skip
    assert change.body(by_external_id=True) == {"name": None, "locale": "fr", "billing_address": None}
    assert CustomerUpdate(billing_address=NEW_YORK).body() == {"billing_address": NEW_YORK_JSON}


def test_an_order_update_and_a_session() -> None:
    assert OrderUpdate().body() == {}
    assert OrderUpdate(billing_name=None, billing_address=KEEP).body() == {"billing_name": None}
    assert SessionCreate(customer_id="c-1").body() == {"customer_id": "c-1"}
    assert SessionCreate(external_customer_id="e/1", return_url="https://x.test/").body() == {
        "external_customer_id": "e/1", "return_url": "https://x.test/"}  # fmt: skip
