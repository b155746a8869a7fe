"""customerCreate, customerUpdate and customerDelete: results, userErrors, and nothing changed on refusal."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.graphql.fields import CUSTOMER_FIELDS, as_polar, polar_times
from tests.graphql_client import GraphQL, error_codes
from tests.sandbox.helpers import all_pages

CREATE = (
    CUSTOMER_FIELDS
    + """
mutation($input: CustomerCreateInput!) { customerCreate(input: $input) {
  customer { ...CustomerFields } userErrors { field message code } } }
"""
)
UPDATE = (
    CUSTOMER_FIELDS
    + """
mutation($id: ID, $ext: String, $input: CustomerUpdateInput!) { customerUpdate(id: $id, externalId: $ext, input: $input) {
  customer { ...CustomerFields } userErrors { field message code } } }
"""
)
DELETE = """
mutation($id: ID, $ext: String, $anonymize: Boolean! = false) {
  customerDelete(id: $id, externalId: $ext, anonymize: $anonymize) { deletedCustomerId userErrors { field message code } } }
"""


def _create(gql: GraphQL, data: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = gql.data(CREATE, {"input": data})["customerCreate"]
    return payload


def test_create_returns_the_stored_customer(gql: GraphQL, demo: httpx.Client) -> None:
    payload = _create(gql, {
        "email": "grace@gmail.com", "externalId": "usr_grace", "name": "Grace Hopper", "locale": "en-us",
        "billingAddress": {"country": "us", "state": "NY", "city": "New York", "line1": "1 Navy Way"},
        "taxId": "91-1144442", "metadata": {"plan": "pro", "seats": 3, "ratio": 0.5, "vip": True},
    })  # fmt: skip
    assert payload["userErrors"] == []
    customer = payload["customer"]
    assert (customer["type"], customer["locale"], customer["taxId"]) == (
        "INDIVIDUAL", "en-US", {"value": "911144442", "format": "us_ein"})  # fmt: skip
    assert customer["billingAddress"]["state"] == "US-NY"
    assert customer["metadata"] == {"plan": "pro", "seats": 3, "ratio": 0.5, "vip": True}
    assert gql.upstream_calls() == {"POST /v1/customers/": 1}
    assert as_polar(customer) == polar_times(demo.get(f"/v1/customers/{customer['id']}").json())


def test_create_a_team_with_an_owner(gql: GraphQL) -> None:
    payload = _create(gql, {"type": "TEAM", "name": "Acme Team", "owner": {"email": "owner@outlook.com"}})
    assert payload["userErrors"] == []
    assert (payload["customer"]["type"], payload["customer"]["email"]) == ("TEAM", None)


def test_the_created_customer_is_primed_for_the_rest_of_the_request(gql: GraphQL) -> None:
    query = """mutation { customerCreate(input: {email: "primed@gmail.com"}) {
        customer { id state { activeSubscriptions { id } } } } }"""
    data = gql.data(query)
    assert data["customerCreate"]["customer"]["state"] == {"activeSubscriptions": []}


def test_duplicates_are_taken_user_errors(gql: GraphQL, demo: httpx.Client) -> None:
    existing = next(c for c in all_pages(demo, "/v1/customers/") if c["external_id"] and c["email"])
    payload = _create(gql, {"email": existing["email"], "externalId": existing["external_id"]})
    assert payload["customer"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "email"], "TAKEN"), (["input", "externalId"], "TAKEN")]  # fmt: skip
    assert "already exists" in payload["userErrors"][0]["message"]


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"email": "not an email"}, ["input", "email"], "INVALID"),
        ({}, ["input", "email"], "REQUIRED"),
        ({"type": "TEAM"}, ["input", "owner"], "REQUIRED"),
        ({"type": "TEAM", "owner": {"email": "nope"}}, ["input", "owner", "email"], "INVALID"),
        ({"email": "a@gmail.com", "name": "x" * 257}, ["input", "name"], "TOO_LONG"),
        ({"email": "a@gmail.com", "billingAddress": {"country": "XX"}}, ["input", "billingAddress", "country"], "INVALID"),
        ({"email": "a@gmail.com", "billingAddress": {"country": "RU"}}, ["input", "billingAddress", "country"], "INVALID"),
        ({"email": "a@gmail.com", "metadata": {str(i): i for i in range(51)}}, ["input", "metadata"], "TOO_MANY"),
        ({"email": "a@gmail.com", "metadata": {"k" * 41: 1}}, ["input", "metadata", "k" * 41], "TOO_LONG"),
        ({"email": "a@gmail.com", "metadata": {"k": "v" * 501}}, ["input", "metadata", "k"], "TOO_LONG"),
        ({"email": "a@gmail.com", "metadata": {"k": ""}}, ["input", "metadata", "k"], "BLANK"),
        ({"email": "a@gmail.com", "metadata": {"k": None}}, ["input", "metadata", "k"], "INVALID"),
        ({"email": "a@gmail.com", "metadata": {"k": [1, 2]}}, ["input", "metadata", "k"], "INVALID"),
        ({"email": "a@gmail.com", "metadata": "text"}, ["input", "metadata"], "INVALID"),
    ],
)  # fmt: skip
def test_rules_the_gateway_knows_are_checked_before_any_upstream_call(
    gql: GraphQL, data: dict[str, Any], field: list[str], code: str
) -> None:
    payload = _create(gql, data)
    assert payload["customer"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(field, code)]
    assert gql.upstream_calls() == {}


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"email": "t@gmail.com", "taxId": "911144442"}, ["input", "billingAddress"], "REQUIRED"),
        ({"email": "t@gmail.com", "taxId": "FR00000000000", "billingAddress": {"country": "FR"}}, ["input", "taxId"], "INVALID"),
        ({"email": "t@gmail.com", "locale": "english"}, ["input", "locale"], "INVALID"),
    ],
)  # fmt: skip
def test_every_upstream_422_detail_becomes_a_user_error(
    gql: GraphQL, demo: httpx.Client, data: dict[str, Any], field: list[str], code: str
) -> None:
    payload = _create(gql, data)
    assert payload["customer"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(field, code)]
    assert demo.get("/v1/customers/", params={"email": "t@gmail.com"}).json()["items"] == []


def test_update_by_id_and_by_external_id(gql: GraphQL, demo: httpx.Client) -> None:
    created = _create(gql, {"email": "upd@gmail.com", "externalId": "upd-1", "name": "Before",
                            "metadata": {"a": 1}, "locale": "fr"})["customer"]  # fmt: skip
    by_id = gql.data(UPDATE, {"id": created["id"], "input": {"name": "After", "metadata": {"b": "two"}}})
    updated = by_id["customerUpdate"]["customer"]
    assert by_id["customerUpdate"]["userErrors"] == []
    assert (updated["name"], updated["metadata"], updated["locale"]) == ("After", {"b": "two"}, "fr")
    by_external = gql.data(UPDATE, {"ext": "upd-1", "input": {"locale": None, "type": "TEAM"}})["customerUpdate"]
    assert by_external["customer"]["locale"] is None
    assert by_external["customer"]["type"] == "INDIVIDUAL"  # type cannot change through the external-id twin
    stored = demo.get(f"/v1/customers/{created['id']}").json()
    assert as_polar(by_external["customer"]) == polar_times(stored)


def test_update_refusals_are_user_errors_and_change_nothing(gql: GraphQL, demo: httpx.Client) -> None:
    created = _create(gql, {"email": "imm@gmail.com", "externalId": "imm-1", "type": "TEAM"})["customer"]
    before = demo.get(f"/v1/customers/{created['id']}").json()
    cases = [
        ({"externalId": "imm-2"}, ["input", "externalId"], "IMMUTABLE"),
        ({"type": "INDIVIDUAL"}, ["input", "type"], "INVALID"),
        ({"email": "bad"}, ["input", "email"], "INVALID"),
        ({"billingAddress": {"country": "KP"}}, ["input", "billingAddress", "country"], "INVALID"),
    ]
    for data, field, code in cases:
        payload = gql.data(UPDATE, {"id": created["id"], "input": data})["customerUpdate"]
        assert payload["customer"] is None
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(field, code)], data
    assert demo.get(f"/v1/customers/{created['id']}").json() == before


def test_update_and_delete_of_nobody_are_not_found(gql: GraphQL) -> None:
    unknown = "6f1c2a4e-8b7d-4c3e-9f2a-1b2c3d4e5f60"
    update = gql.data(UPDATE, {"id": unknown, "input": {"name": "x"}})["customerUpdate"]
    assert update["userErrors"] == [{"field": ["id"], "message": "No customer matches.", "code": "NOT_FOUND"}]
    delete = gql.data(DELETE, {"ext": "nobody-here"})["customerDelete"]
    assert delete == {
        "deletedCustomerId": None,
        "userErrors": [{"field": ["externalId"], "message": "No customer matches.", "code": "NOT_FOUND"}],
    }


def test_delete_by_id_and_by_external_id(gql: GraphQL, demo: httpx.Client) -> None:
    first = _create(gql, {"email": "del@gmail.com", "externalId": "del-1"})["customer"]
    before = gql.upstream_calls()
    by_id = gql.data(DELETE, {"id": first["id"], "anonymize": True})["customerDelete"]
    assert by_id == {"deletedCustomerId": first["id"], "userErrors": []}
    assert gql.calls_since(before) == {"DELETE /v1/customers/{id}": 1}
    assert gql.data(f'{{ customer(id: "{first["id"]}") {{ id }} }}') == {"customer": None}
    again = _create(gql, {"email": "del@gmail.com", "externalId": "del-1"})["customer"]  # both are free again
    before = gql.upstream_calls()
    by_external = gql.data(DELETE, {"ext": "del-1"})["customerDelete"]
    assert by_external == {"deletedCustomerId": again["id"], "userErrors": []}
    # the payload names the id, which a delete by external id does not return: look it up, then delete by id
    assert gql.calls_since(before) == {"GET /v1/customers/external/{external_id}": 1, "DELETE /v1/customers/{id}": 1}
    assert demo.get(f"/v1/customers/{again['id']}").status_code == 404


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (CREATE, {"input": {"email": "ro@gmail.com"}}),
        (UPDATE, {"id": "{id}", "input": {"name": "Read Only"}}),
        (DELETE, {"id": "{id}"}),
    ],
)
def test_a_read_only_token_is_forbidden_on_every_mutation_and_nothing_changes(
    gql_read: GraphQL, demo: httpx.Client, query: str, variables: dict[str, Any]
) -> None:
    target = demo.get("/v1/customers/", params={"limit": 1}).json()["items"][0]
    before = all_pages(demo, "/v1/customers/")
    filled = {k: (target["id"] if v == "{id}" else v) for k, v in variables.items()}
    body = gql_read.execute(query, filled)
    assert error_codes(body) == ["FORBIDDEN"]
    assert all_pages(demo, "/v1/customers/") == before


def test_update_with_both_or_neither_identifier_is_bad_input(gql: GraphQL) -> None:
    for variables in (
        {"input": {"name": "x"}},
        {"id": "6f1c2a4e-8b7d-4c3e-9f2a-1b2c3d4e5f60", "ext": "x", "input": {}},
    ):
        body = gql.execute(UPDATE, variables)
        assert error_codes(body) == ["BAD_USER_INPUT"]
    assert gql.upstream_calls() == {}
