"""customerLoyaltyEnroll: the Voucherify customer of a Polar customer, upserted by source id (its externalId)
with its email, name, address and metadata, checked in the Voucherify sandbox itself."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.graphql_client import error_codes
from tests.join.client import (
    POLAR_BY_EXTERNAL_ID,
    POLAR_BY_ID,
    VF_UPSERT,
    BothGraphQL,
    Calls,
    polar_by_external_id,
    polar_page,
    set_faults,
    vf_by_key,
    vf_customers,
)
from tests.join.conftest import RETRIES
from tests.servers import SandboxProcess

ENROLL = """mutation($id: ID, $externalId: String) {
  customerLoyaltyEnroll(id: $id, externalId: $externalId) {
    customer { id externalId email }
    voucherifyCustomer { id sourceId email name address { line1 line2 city state postalCode country } metadata }
    userErrors { field message code }
  }
}"""
GRACE: dict[str, Any] = {
    "email": "grace.hopper@gmail.com", "external_id": "usr_join_grace", "name": "Grace Hopper",
    "billing_address": {"line1": "1 Navy Way", "line2": "Building 3", "city": "New York", "state": "US-NY",
                        "postal_code": "10001", "country": "US"},
    "metadata": {"plan": "pro", "seats": 3, "ratio": 0.5, "beta": True},
}  # fmt: skip


def _grace(polar: httpx.Client) -> dict[str, Any]:
    created = polar.post("/v1/customers/", json=GRACE)
    assert created.status_code == 201, created.text
    customer: dict[str, Any] = created.json()
    return customer


def _enroll(client: BothGraphQL, **arguments: str) -> dict[str, Any]:
    payload: dict[str, Any] = client.data(ENROLL, arguments)["customerLoyaltyEnroll"]
    return payload


@pytest.mark.parametrize("by", ["id", "externalId"])
def test_enrolling_creates_the_voucherify_customer_field_by_field(
    both: BothGraphQL, polar: httpx.Client, vf_demo: httpx.Client, by: str
) -> None:
    grace = _grace(polar)
    assert vf_by_key(vf_demo, GRACE["external_id"]).status_code == 404
    before_total = len(vf_customers(vf_demo))
    before = both.calls()
    payload = _enroll(both, **({"id": grace["id"]} if by == "id" else {"externalId": GRACE["external_id"]}))
    lookup = POLAR_BY_ID if by == "id" else POLAR_BY_EXTERNAL_ID
    assert both.calls_since_both(before) == Calls({lookup: 1}, {VF_UPSERT: 1})
    assert payload["userErrors"] == []
    assert payload["customer"] == {"id": grace["id"], "externalId": GRACE["external_id"], "email": GRACE["email"]}
    stored = vf_by_key(vf_demo, GRACE["external_id"]).json()  # what Voucherify now holds
    address = GRACE["billing_address"]
    assert stored["source_id"] == GRACE["external_id"]
    assert (stored["email"], stored["name"]) == (GRACE["email"], GRACE["name"])
    assert stored["address"] == {"line_1": address["line1"], "line_2": address["line2"], "city": address["city"],
                                 "state": address["state"], "postal_code": address["postal_code"],
                                 "country": address["country"]}  # fmt: skip
    assert stored["metadata"] == GRACE["metadata"]  # strings, integers, floats and booleans as they are
    assert payload["voucherifyCustomer"] == {
        "id": stored["id"], "sourceId": GRACE["external_id"], "email": GRACE["email"], "name": GRACE["name"],
        "address": {"line1": address["line1"], "line2": address["line2"], "city": address["city"],
                    "state": address["state"], "postalCode": address["postal_code"], "country": address["country"]},
        "metadata": GRACE["metadata"],
    }  # fmt: skip
    assert len(vf_customers(vf_demo)) == before_total + 1


def test_enrolling_twice_leaves_one_customer_with_the_same_id(
    both: BothGraphQL, polar: httpx.Client, vf_demo: httpx.Client
) -> None:
    grace = _grace(polar)
    before_total = len(vf_customers(vf_demo))
    before = both.calls()
    first = _enroll(both, id=grace["id"])
    second = _enroll(both, externalId=GRACE["external_id"])
    assert both.calls_since_both(before) == Calls({POLAR_BY_ID: 1, POLAR_BY_EXTERNAL_ID: 1}, {VF_UPSERT: 2})
    assert first["voucherifyCustomer"] == second["voucherifyCustomer"]
    assert len(vf_customers(vf_demo)) == before_total + 1
    assert [c["id"] for c in vf_customers(vf_demo) if c.get("source_id") == GRACE["external_id"]] == [
        first["voucherifyCustomer"]["id"]
    ]


def test_enrolling_a_customer_voucherify_already_has_updates_it_in_place(
    both: BothGraphQL, polar: httpx.Client, vf_demo: httpx.Client
) -> None:
    polar_customer = polar_by_external_id(polar, "usr_demo_00002").json()
    existing = vf_by_key(vf_demo, "usr_demo_00002").json()
    assert existing["email"] != polar_customer["email"]  # the seeds differ: enrollment brings Polar's
    before_total = len(vf_customers(vf_demo))
    payload = _enroll(both, externalId="usr_demo_00002")
    assert payload["voucherifyCustomer"]["id"] == existing["id"]
    stored = vf_by_key(vf_demo, "usr_demo_00002").json()
    assert (stored["id"], stored["email"], stored["name"]) == (
        existing["id"],
        polar_customer["email"],
        polar_customer["name"],
    )
    assert stored["loyalty"] == existing["loyalty"]  # what Voucherify had of its own stays
    assert len(vf_customers(vf_demo)) == before_total


def test_an_enrollment_with_an_unknown_outcome_is_safe_to_send_again(
    hasty: BothGraphQL, polar: httpx.Client, vf_demo: httpx.Client, voucherify: SandboxProcess
) -> None:
    grace = _grace(polar)
    before_total = len(vf_customers(vf_demo))
    set_faults(voucherify, drop_rate=1.0, methods=["POST"])
    before = hasty.calls()
    body = hasty.execute(ENROLL, {"id": grace["id"]})
    assert error_codes(body) == ["UPSTREAM_UNAVAILABLE"]
    assert body["errors"][0]["extensions"].get("outcomeUnknown") is True
    # An upsert by source id is repeatable: the gateway itself sent it again.
    assert hasty.calls_since_both(before) == Calls({POLAR_BY_ID: 1}, {VF_UPSERT: RETRIES})
    set_faults(voucherify)
    first = _enroll(hasty, id=grace["id"])
    again = _enroll(hasty, id=grace["id"])
    assert first["voucherifyCustomer"]["id"] == again["voucherifyCustomer"]["id"]
    assert len(vf_customers(vf_demo)) == before_total + 1


def test_a_customer_without_an_external_id_is_a_user_error_and_voucherify_is_not_called(
    both: BothGraphQL, polar: httpx.Client
) -> None:
    without = next(customer for customer in polar_page(polar, 50) if customer["external_id"] is None)
    before = both.calls()
    payload = _enroll(both, id=without["id"])
    assert both.calls_since_both(before) == Calls({POLAR_BY_ID: 1}, {})
    assert payload["voucherifyCustomer"] is None
    assert payload["customer"]["id"] == without["id"]
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["externalId"], "REQUIRED")]


@pytest.mark.parametrize(("argument", "value", "route"), [
    ("id", str(uuid.uuid4()), POLAR_BY_ID), ("externalId", "usr_nobody", POLAR_BY_EXTERNAL_ID)])  # fmt: skip
def test_a_customer_polar_does_not_have_is_not_found(both: BothGraphQL, argument: str, value: str, route: str) -> None:
    before = both.calls()
    payload = _enroll(both, **{argument: value})
    assert both.calls_since_both(before) == Calls({route: 1}, {})
    assert payload["customer"] is None
    assert payload["voucherifyCustomer"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [([argument], "NOT_FOUND")]


def test_both_ids_or_neither_is_refused_before_any_call(both: BothGraphQL) -> None:
    before = both.calls()
    for arguments in ({}, {"id": str(uuid.uuid4()), "externalId": "usr_demo_00002"}):
        assert error_codes(both.execute(ENROLL, arguments)) == ["BAD_USER_INPUT"]
    assert both.calls_since_both(before).none


@pytest.mark.parametrize("missing", ["Voucherify keys", "Polar token"])
def test_without_either_credential_it_is_refused_before_any_call(both: BothGraphQL, missing: str) -> None:
    client = both.with_keys(()) if missing == "Voucherify keys" else both.without_token()
    before = both.calls()
    body = client.execute(ENROLL, {"externalId": "usr_demo_00002"})
    assert both.calls_since_both(before).none
    assert body["data"] is None
    assert error_codes(body) == ["UNAUTHENTICATED"]
