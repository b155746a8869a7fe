"""US and CA states: refused before any call at ``["input", "billingAddress", "state"]`` with a message of
ours, normalised to Polar's ``US-NY`` form when valid, and Polar's own whole-address 422 mapped the same way."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.graphql.errors import user_errors_of
from gateway.upstream.problems import read_problems
from tests.graphql.test_portal import _active_customer, _session
from tests.graphql_client import GraphQL

CREATE = """mutation($input: CustomerCreateInput!) { customerCreate(input: $input) {
  customer { id billingAddress { state country } } userErrors { field message code } } }"""
UPDATE = """mutation($id: ID, $ext: String, $input: CustomerUpdateInput!) { customerUpdate(id: $id, externalId: $ext, input: $input) {
  customer { billingAddress { state country } } userErrors { field message code } } }"""
ORDER_UPDATE = """mutation($id: ID!, $input: CustomerPortalOrderUpdateInput!) { customerPortalOrderUpdate(id: $id, input: $input) {
  order { billingAddress { state } } userErrors { field message code } } }"""
US = "is not a US state: send its two-letter code, such as NY or US-NY."
CA = "is not a Canadian province or territory: send its two-letter code, such as QC or CA-QC."
STATE = ["input", "billingAddress", "state"]


def _user_errors(payload: dict[str, Any]) -> list[tuple[list[str], str, str]]:
    return [(e["field"], e["message"], e["code"]) for e in payload["userErrors"]]


@pytest.mark.parametrize(
    ("country", "state", "message"),
    [("US", "ZZ", f"'ZZ' {US}"), ("us", "US-", f"'US-' {US}"), ("US", "CA-QC", f"'CA-QC' {US}"),
     ("US", "California", f"'California' {US}"), ("CA", "XX", f"'XX' {CA}"), ("CA", "US-NY", f"'US-NY' {CA}"),
     ("ca", "ON-", f"'ON-' {CA}")],
)  # fmt: skip
def test_a_bad_state_is_refused_at_the_state_before_any_call(
    gql: GraphQL, demo: httpx.Client, country: str, state: str, message: str
) -> None:
    customer = demo.get("/v1/customers/", params={"limit": 1}).json()["items"][0]
    address = {"country": country, "state": state, "city": "Somewhere"}
    before = gql.upstream_calls()
    created = gql.data(CREATE, {"input": {"email": "st@gmail.com", "billingAddress": address}})["customerCreate"]
    by_id = gql.data(UPDATE, {"id": customer["id"], "input": {"billingAddress": address}})["customerUpdate"]
    by_ext = gql.data(UPDATE, {"ext": "usr_demo_00001", "input": {"billingAddress": address}})["customerUpdate"]
    for payload in (created, by_id, by_ext):
        assert payload["customer"] is None
        assert _user_errors(payload) == [(STATE, message, "INVALID")]
    assert gql.calls_since(before) == {}


@pytest.mark.parametrize(
    ("country", "state", "stored"),
    [("US", "NY", "US-NY"), ("US", "ny", "US-NY"), ("us", " US-ny ", "US-NY"), ("US", "DC", "US-DC"),
     ("CA", "qc", "CA-QC"), ("CA", "CA-BC", "CA-BC"), ("US", None, None), ("US", "", None), ("CA", "  ", None),
     ("FR", "Île-de-France", "Île-de-France"), ("GB", "ZZ", "ZZ")],
)  # fmt: skip
def test_good_or_missing_states_are_accepted_and_normalised(
    gql: GraphQL, country: str, state: str | None, stored: str | None
) -> None:
    """Polar requires no state; for US and CA it stores the ISO 3166-2 code, which the gateway sends."""
    address = {"country": country, "state": state}
    payload = gql.data(CREATE, {"input": {"email": "ok@gmail.com", "billingAddress": address}})["customerCreate"]
    assert payload["userErrors"] == []
    assert payload["customer"]["billingAddress"] == {"state": stored, "country": country.upper()}


def test_the_portal_order_update_checks_the_state_too(gql: GraphQL, demo: httpx.Client) -> None:
    token = _session(gql, c=_active_customer(demo)["id"])["token"]
    orders = gql.data("{ customerPortal { orders(first: 100) { nodes { id billingAddress { country } } } } }",
                      token=token)["customerPortal"]["orders"]["nodes"]  # fmt: skip
    order = next(o for o in orders if o["billingAddress"] is None or o["billingAddress"]["country"] == "US")
    before = gql.upstream_calls()
    refused = gql.data(ORDER_UPDATE, {"id": order["id"], "input": {"billingAddress": {"country": "US", "state": "ZZ"}}},
                       token=token)["customerPortalOrderUpdate"]  # fmt: skip
    assert refused == {"order": None, "userErrors": [{"field": STATE, "message": f"'ZZ' {US}", "code": "INVALID"}]}
    assert gql.calls_since(before) == {}


@pytest.mark.parametrize(
    "loc", [["body", "billing_address"], ["body", "individual", "billing_address"], ["body", "team", "billing_address"]]
)
@pytest.mark.parametrize(
    ("msg", "state", "message"),
    [("Value error, Invalid US state", "ZZ", f"'ZZ' {US}"), ("Value error, Invalid CA subdivision", "XX", f"'XX' {CA}")],
)
def test_polars_whole_address_422_is_mapped_to_the_state(loc: list[str], msg: str, state: str, message: str) -> None:
    """The sandbox's form and the real server's, which leads ``loc`` with the create body's union tag."""
    detail: dict[str, Any] = {"type": "value_error", "loc": loc, "msg": msg, "input": {"country": "US", "state": state}, "ctx": {"error": {}}}
    (error,) = user_errors_of(read_problems([detail]))
    assert (error.field, error.message, error.code.value) == (STATE, message, "INVALID")


def test_the_union_tag_of_the_create_body_never_reaches_a_field_path() -> None:
    details: list[dict[str, Any]] = [
        {"type": "value_error", "loc": ["body", "individual", "email"], "msg": "bad", "input": "x"},
        {"type": "value_error", "loc": ["body", "team"], "msg": "An owner is required", "input": {}},
        {"type": "string_type", "loc": ["body", "individual", "metadata", "team", "constrained-str"], "msg": "m", "input": 1},
    ]
    assert [e.field for e in user_errors_of(read_problems(details))] == [
        ["input", "email"], ["input"], ["input", "metadata", "team"]]  # fmt: skip
