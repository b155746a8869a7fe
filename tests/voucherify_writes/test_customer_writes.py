"""voucherifyCustomerUpsert, voucherifyCustomerUpdate, voucherifyCustomerDelete and
voucherifyCustomerPermanentDelete end to end: each answer, and the sandbox's state read back directly."""

from __future__ import annotations

from typing import Any

import pytest

from tests.voucherify_writes.client import Upstream, VoucherifyGraphQL

CUSTOMER = (
    "id sourceId name description email phone birthdate metadata updatedAt"
    " address { line1 line2 city state postalCode country }"
)
UPSERT = f"""mutation($input: VoucherifyCustomerUpsertInput!) {{
  voucherifyCustomerUpsert(input: $input) {{ customer {{ {CUSTOMER} }} userErrors {{ field message code }} }} }}"""
UPDATE = f"""mutation($id: ID, $sourceId: String, $input: VoucherifyCustomerInput!) {{
  voucherifyCustomerUpdate(id: $id, sourceId: $sourceId, input: $input) {{
    customer {{ {CUSTOMER} }} userErrors {{ field message code }} }} }}"""
DELETE = """mutation($id: ID, $sourceId: String) {
  voucherifyCustomerDelete(id: $id, sourceId: $sourceId) { deletedCustomerId userErrors { field message code } } }"""
PERMANENT_DELETE = """mutation($id: ID, $sourceId: String) {
  voucherifyCustomerPermanentDelete(id: $id, sourceId: $sourceId) {
    deletion { id createdAt relatedObjectId relatedObject status
      counts { events customerEvents dailyEvents segments orders orderEvents customer } }
    userErrors { field message code } } }"""

FULL = {
    "sourceId": "crm_write_1",
    "name": "Wanda Writer",
    "description": "created through the gateway",
    "email": "wanda@example.com",
    "phone": "+47 22 00 00 00",
    "birthdate": "1990-04-01",
    "address": {"line1": "Karl Johans gate 1", "city": "Oslo", "postalCode": "0154", "country": "NO"},
    "metadata": {"tier": "gold", "visits": 3, "vip": True},
}


def upsert(vf: VoucherifyGraphQL, data: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = vf.data(UPSERT, {"input": data})["voucherifyCustomerUpsert"]
    return payload


def update(vf: VoucherifyGraphQL, data: dict[str, Any], **key: str) -> dict[str, Any]:
    payload: dict[str, Any] = vf.data(UPDATE, {"input": data, **key})["voucherifyCustomerUpdate"]
    return payload


# Upsert -------------------------------------------------------------------------------------------


def test_upsert_creates_a_customer_with_every_field(vf: VoucherifyGraphQL, upstream: Upstream) -> None:
    before_total = upstream.total()
    before = vf.calls()
    payload = upsert(vf, FULL)
    assert payload["userErrors"] == []
    customer = payload["customer"]
    assert customer["id"].startswith("cust_")
    assert customer["sourceId"] == "crm_write_1"
    assert customer["birthdate"] == "1990-04-01"
    assert customer["updatedAt"] is None  # a fresh customer has none
    assert vf.calls_since(before) == {"POST /v1/customers": 1}

    stored = upstream.must(customer["id"])
    assert stored["source_id"] == "crm_write_1"
    assert stored["name"] == "Wanda Writer"
    assert stored["description"] == "created through the gateway"
    assert stored["email"] == "wanda@example.com"
    assert stored["phone"] == "+47 22 00 00 00"
    assert stored["birthdate"] == "1990-04-01"
    assert stored["address"] == {"line_1": "Karl Johans gate 1", "city": "Oslo", "postal_code": "0154", "country": "NO"}
    assert stored["metadata"] == {"tier": "gold", "visits": 3, "vip": True}
    assert upstream.total() == before_total + 1


def test_upsert_by_source_id_updates_the_same_customer(vf: VoucherifyGraphQL, upstream: Upstream) -> None:
    first = upsert(vf, FULL)["customer"]
    total = upstream.total()
    again = upsert(vf, {"sourceId": "crm_write_1", "name": "Wanda Renamed", "metadata": {"tier": "silver"}})
    assert again["userErrors"] == []
    assert again["customer"]["id"] == first["id"]
    assert again["customer"]["updatedAt"] is not None
    assert upstream.total() == total  # no second customer
    stored = upstream.must(first["id"])
    assert stored["name"] == "Wanda Renamed"
    assert stored["metadata"] == {"tier": "silver"}  # replaced as a whole
    assert stored["email"] == "wanda@example.com"  # left out: kept


def test_upsert_by_id_updates_that_customer(vf: VoucherifyGraphQL, upstream: Upstream) -> None:
    seeded = upstream.first_customers(1)[0]
    payload = upsert(vf, {"id": seeded["id"], "phone": "+1 555 0100"})
    assert payload["userErrors"] == []
    assert payload["customer"]["id"] == seeded["id"]
    assert payload["customer"]["sourceId"] == seeded["source_id"]
    stored = upstream.must(seeded["id"])
    assert stored["phone"] == "+1 555 0100"
    assert stored["name"] == seeded["name"]


def test_upsert_with_an_unknown_id_is_a_not_found_user_error(vf: VoucherifyGraphQL, upstream: Upstream) -> None:
    total = upstream.total()
    before = vf.calls()
    payload = upsert(vf, {"id": "cust_NoSuchCustomer0000000000", "name": "Nobody"})
    assert payload["customer"] is None
    assert payload["userErrors"] == [
        {"field": ["input", "id"], "message": "No Voucherify customer matches.", "code": "NOT_FOUND"}
    ]
    assert vf.calls_since(before) == {"POST /v1/customers": 1}
    assert upstream.total() == total


def test_upsert_with_an_empty_source_id_is_refused_without_a_call(vf: VoucherifyGraphQL) -> None:
    before = vf.calls()
    payload = upsert(vf, {"sourceId": "", "name": "Blank"})
    assert payload["customer"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["input", "sourceId"], "BLANK")]
    assert vf.calls_since(before) == {}


# Update -------------------------------------------------------------------------------------------


def test_update_by_id_keeps_what_is_left_out_and_clears_what_is_null(vf: VoucherifyGraphQL, upstream: Upstream) -> None:
    created = upsert(vf, FULL)["customer"]
    before = vf.calls()
    payload = update(vf, {"name": "Wanda W.", "phone": None, "description": None}, id=created["id"])
    assert payload["userErrors"] == []
    assert payload["customer"]["name"] == "Wanda W."
    assert payload["customer"]["phone"] is None
    assert payload["customer"]["updatedAt"] is not None
    # Found by exactly its id first (Voucherify's path would take a source id too), then written.
    assert vf.calls_since(before) == {"GET /v1/customers/{customer_id}": 1, "PUT /v1/customers/{customer_id}": 1}

    stored = upstream.must(created["id"])
    assert stored["name"] == "Wanda W."
    assert stored.get("phone") is None
    assert stored.get("description") is None
    # Left out: as they were.
    assert stored["email"] == "wanda@example.com"
    assert stored["birthdate"] == "1990-04-01"
    assert stored["address"]["city"] == "Oslo"
    assert stored["metadata"] == {"tier": "gold", "visits": 3, "vip": True}


def test_update_by_source_id_changes_address_metadata_and_birthdate(vf: VoucherifyGraphQL, upstream: Upstream) -> None:
    created = upsert(vf, FULL)["customer"]
    change = {
        "address": {
            "line1": "Storgata 9",
            "city": "Bergen",
            "state": "Vestland",
            "postalCode": "5003",
            "country": "NO",
        },
        "metadata": {"tier": "platinum", "tags": ["a", "b"], "nested": {"x": 1}},
        "birthdate": "1985-12-31",
    }
    payload = update(vf, change, sourceId="crm_write_1")
    assert payload["userErrors"] == []
    assert payload["customer"]["id"] == created["id"]
    assert payload["customer"]["address"] == {"line1": "Storgata 9", "line2": None, "city": "Bergen",
                                              "state": "Vestland", "postalCode": "5003", "country": "NO"}  # fmt: skip

    stored = upstream.must(created["id"])
    assert stored["address"] == {"line_1": "Storgata 9", "city": "Bergen", "state": "Vestland",
                                 "postal_code": "5003", "country": "NO"}  # fmt: skip
    assert stored["metadata"] == {"tier": "platinum", "tags": ["a", "b"], "nested": {"x": 1}}
    assert stored["birthdate"] == "1985-12-31"
    assert stored["name"] == "Wanda Writer"


def test_update_with_null_address_metadata_and_birthdate_clears_them(vf: VoucherifyGraphQL, upstream: Upstream) -> None:
    created = upsert(vf, FULL)["customer"]
    payload = update(vf, {"address": None, "metadata": None, "birthdate": None}, id=created["id"])
    assert payload["userErrors"] == []
    assert payload["customer"]["address"] is None
    assert payload["customer"]["metadata"] == {}
    assert payload["customer"]["birthdate"] is None
    stored = upstream.must(created["id"])
    assert stored.get("address") is None
    assert stored["metadata"] == {}
    assert stored.get("birthdate") is None
    assert stored["email"] == "wanda@example.com"


def test_update_of_an_unknown_customer_is_a_not_found_user_error(vf: VoucherifyGraphQL, upstream: Upstream) -> None:
    total = upstream.total()
    by_id = update(vf, {"name": "x"}, id="cust_NoSuchCustomer0000000000")
    assert by_id == {"customer": None, "userErrors": [
        {"field": ["id"], "message": "No Voucherify customer matches.", "code": "NOT_FOUND"}]}  # fmt: skip
    by_source = update(vf, {"name": "x"}, sourceId="crm_no_such_customer")
    assert by_source["userErrors"][0]["field"] == ["sourceId"]
    assert by_source["userErrors"][0]["code"] == "NOT_FOUND"
    assert upstream.total() == total


def test_update_with_metadata_that_is_not_an_object_is_refused_without_a_call(vf: VoucherifyGraphQL) -> None:
    before = vf.calls()
    payload = update(vf, {"metadata": ["not", "a", "map"]}, id="cust_AnyCustomerAtAll000000000")
    assert payload["customer"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["input", "metadata"], "INVALID")]
    assert vf.calls_since(before) == {}


def test_update_needs_exactly_one_of_id_and_source_id(vf: VoucherifyGraphQL) -> None:
    before = vf.calls()
    for key in ({}, {"id": "cust_x", "sourceId": "crm_x"}):
        body = vf.execute(UPDATE, {"input": {"name": "x"}, **key})
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert vf.calls_since(before) == {}


# Delete -------------------------------------------------------------------------------------------


def test_delete_by_id(vf: VoucherifyGraphQL, upstream: Upstream) -> None:
    created = upsert(vf, FULL)["customer"]
    total = upstream.total()
    before = vf.calls()
    payload = vf.data(DELETE, {"id": created["id"]})["voucherifyCustomerDelete"]
    assert payload == {"deletedCustomerId": created["id"], "userErrors": []}
    assert vf.calls_since(before) == {"GET /v1/customers/{customer_id}": 1, "DELETE /v1/customers/{customer_id}": 1}
    assert upstream.customer(created["id"]) is None
    assert upstream.customer("crm_write_1") is None
    assert upstream.total() == total - 1


def test_delete_by_source_id_names_the_deleted_id(vf: VoucherifyGraphQL, upstream: Upstream) -> None:
    seeded = upstream.first_customers(3)[2]
    total = upstream.total()
    payload = vf.data(DELETE, {"sourceId": seeded["source_id"]})["voucherifyCustomerDelete"]
    assert payload == {"deletedCustomerId": seeded["id"], "userErrors": []}
    assert upstream.customer(seeded["id"]) is None
    assert upstream.total() == total - 1


def test_delete_of_an_unknown_customer_is_a_not_found_user_error_and_changes_nothing(
    vf: VoucherifyGraphQL, upstream: Upstream
) -> None:
    total = upstream.total()
    before = vf.calls()
    by_id = vf.data(DELETE, {"id": "cust_NoSuchCustomer0000000000"})["voucherifyCustomerDelete"]
    assert by_id == {"deletedCustomerId": None, "userErrors": [
        {"field": ["id"], "message": "No Voucherify customer matches.", "code": "NOT_FOUND"}]}  # fmt: skip
    by_source = vf.data(DELETE, {"sourceId": "crm_no_such_customer"})["voucherifyCustomerDelete"]
    assert by_source == {"deletedCustomerId": None, "userErrors": [
        {"field": ["sourceId"], "message": "No Voucherify customer matches.", "code": "NOT_FOUND"}]}  # fmt: skip
    # Each way, the lookup finds none and no DELETE is sent.
    assert vf.calls_since(before) == {"GET /v1/customers/{customer_id}": 2}
    assert upstream.total() == total


def test_delete_twice_is_not_found_the_second_time(vf: VoucherifyGraphQL, upstream: Upstream) -> None:
    created = upsert(vf, FULL)["customer"]
    assert vf.data(DELETE, {"id": created["id"]})["voucherifyCustomerDelete"]["deletedCustomerId"] == created["id"]
    again = vf.data(DELETE, {"id": created["id"]})["voucherifyCustomerDelete"]
    assert again["deletedCustomerId"] is None
    assert again["userErrors"][0]["code"] == "NOT_FOUND"


# Permanent deletion -------------------------------------------------------------------------------


def test_permanent_delete_reports_what_went(vf: VoucherifyGraphQL, upstream: Upstream) -> None:
    # A seeded customer with orders, so the counts are not all zeros or ones.
    seeded = next(c for c in upstream.first_customers(40) if c["summary"]["orders"]["total_count"] > 0)
    events = upstream.get(f"/v1/customers/{seeded['id']}/activities?limit=100")["total"]
    segments = upstream.get(f"/v1/customers/{seeded['id']}/segments")["total"]
    before = vf.calls()
    payload = vf.data(PERMANENT_DELETE, {"sourceId": seeded["source_id"]})["voucherifyCustomerPermanentDelete"]
    assert payload["userErrors"] == []
    deletion = payload["deletion"]
    assert deletion["id"].startswith("del_")
    assert deletion["relatedObjectId"] == seeded["id"]
    assert deletion["relatedObject"] == "customer"
    assert deletion["status"] == "DONE"
    assert deletion["createdAt"].endswith(("Z", "+00:00"))
    orders = seeded["summary"]["orders"]["total_count"]
    assert deletion["counts"] == {
        "events": events, "customerEvents": events, "dailyEvents": 0, "segments": segments,
        "orders": orders, "orderEvents": orders, "customer": 1,
    }  # fmt: skip
    assert vf.calls_since(before) == {
        "GET /v1/customers/{customer_id}": 1, "POST /v1/customers/{customer_id}/permanent-deletion": 1}  # fmt: skip
    assert upstream.customer(seeded["id"]) is None


def test_permanent_delete_by_id_of_a_fresh_customer(vf: VoucherifyGraphQL, upstream: Upstream) -> None:
    created = upsert(vf, FULL)["customer"]
    update(vf, {"name": "Once More"}, id=created["id"])  # a second event
    payload = vf.data(PERMANENT_DELETE, {"id": created["id"]})["voucherifyCustomerPermanentDelete"]
    counts = payload["deletion"]["counts"]
    assert payload["deletion"]["relatedObjectId"] == created["id"]
    assert (counts["events"], counts["orders"], counts["customer"]) == (2, 0, 1)
    assert upstream.customer(created["id"]) is None


def test_permanent_delete_of_an_unknown_customer_is_a_not_found_user_error(
    vf: VoucherifyGraphQL, upstream: Upstream
) -> None:
    total = upstream.total()
    for key, field in (({"id": "cust_NoSuchCustomer0000000000"}, "id"), ({"sourceId": "crm_none"}, "sourceId")):
        payload = vf.data(PERMANENT_DELETE, key)["voucherifyCustomerPermanentDelete"]
        assert payload == {"deletion": None, "userErrors": [
            {"field": [field], "message": "No Voucherify customer matches.", "code": "NOT_FOUND"}]}  # fmt: skip
    assert upstream.total() == total


def test_upsert_with_id_and_source_id_ignores_the_source_id(vf: VoucherifyGraphQL, upstream: Upstream) -> None:
    seeded = upstream.first_customers(1)[0]
    total = upstream.total()
    payload = upsert(vf, {"id": seeded["id"], "sourceId": "crm_ignored_with_id", "name": "By Id"})
    assert payload["userErrors"] == []
    assert payload["customer"]["id"] == seeded["id"]
    assert payload["customer"]["sourceId"] == seeded["source_id"]  # a source id never changes
    assert upstream.must(seeded["id"])["name"] == "By Id"
    assert upstream.customer("crm_ignored_with_id") is None
    assert upstream.total() == total


@pytest.mark.parametrize(
    "source_id", ["crm/with/slashes", "a b?c=d#e&f", "..", "%2F%2e", "ünïcødé ✓", "cust_looks_like_id"]
)
def test_awkward_source_ids_reach_their_customer_on_every_write(
    vf: VoucherifyGraphQL, upstream: Upstream, source_id: str
) -> None:
    created = upsert(vf, {"sourceId": source_id, "name": "Awkward"})["customer"]
    assert created["sourceId"] == source_id
    changed = update(vf, {"email": "awkward@example.com"}, sourceId=source_id)
    assert changed["userErrors"] == []
    assert changed["customer"]["id"] == created["id"]
    assert upstream.must(created["id"])["email"] == "awkward@example.com"
    deleted = vf.data(DELETE, {"sourceId": source_id})["voucherifyCustomerDelete"]
    assert deleted == {"deletedCustomerId": created["id"], "userErrors": []}
    assert upstream.customer(created["id"]) is None


def test_a_source_id_that_is_another_customer_s_id_never_writes_to_that_customer(
    vf: VoucherifyGraphQL, upstream: Upstream
) -> None:
    """Voucherify's path takes an id or a source id, and an id wins: a customer whose source id is another
    customer's id cannot be reached by it, and that other customer must not be written to instead."""
    other = upstream.first_customers(1)[0]
    shadow = upsert(vf, {"sourceId": other["id"], "name": "Shadow"})["customer"]
    assert shadow["id"] != other["id"]
    assert shadow["sourceId"] == other["id"]

    updated = update(vf, {"name": "Written By Mistake"}, sourceId=other["id"])
    assert updated["customer"] is None
    assert [(e["field"], e["code"]) for e in updated["userErrors"]] == [(["sourceId"], "NOT_FOUND")]
    deleted = vf.data(DELETE, {"sourceId": other["id"]})["voucherifyCustomerDelete"]
    assert deleted["deletedCustomerId"] is None
    erased = vf.data(PERMANENT_DELETE, {"sourceId": other["id"]})["voucherifyCustomerPermanentDelete"]
    assert erased["deletion"] is None
    assert [(e["field"], e["code"]) for e in erased["userErrors"]] == [(["sourceId"], "NOT_FOUND")]

    assert upstream.must(other["id"])["name"] == other["name"]  # untouched, and still there
    assert upstream.must(shadow["id"])["name"] == "Shadow"
