"""``customer`` and ``customers``: every field, every filter and sort, and clear errors."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from tests.graphql.fields import CUSTOMER_FIELDS, STATE_FIELDS, as_polar, polar_times
from tests.graphql_client import GraphQL, error_codes
from tests.sandbox.helpers import all_pages

NOT_UTF8_CURSOR = base64.urlsafe_b64encode(bytes([0xFF, 0xFE])).decode()
PAGE = (
    CUSTOMER_FIELDS
    + """
query($after: String) { customers(first: 100, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } nodes { ...CustomerFields } } }
"""
)


def _all_nodes(gql: GraphQL, query: str = PAGE) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        connection = gql.data(query, {"after": after})["customers"]
        nodes += connection["nodes"]
        if not connection["pageInfo"]["hasNextPage"]:
            return nodes
        after = connection["pageInfo"]["endCursor"]


def test_every_customer_field_equals_polars(gql: GraphQL, demo: httpx.Client) -> None:
    nodes = _all_nodes(gql)
    polar = all_pages(demo, "/v1/customers/")
    assert len(nodes) == len(polar) == 250
    for node, customer in zip(nodes, polar, strict=True):
        assert as_polar(node) == polar_times(customer)


def test_lookups_by_id_and_external_id(gql: GraphQL, demo: httpx.Client) -> None:
    customer = next(c for c in all_pages(demo, "/v1/customers/") if c["external_id"])
    query = (
        CUSTOMER_FIELDS + "query($id: ID, $ext: String) { customer(id: $id, externalId: $ext) { ...CustomerFields } }"
    )
    by_id = gql.data(query, {"id": customer["id"]})["customer"]
    by_external = gql.data(query, {"ext": customer["external_id"]})["customer"]
    assert as_polar(by_id) == as_polar(by_external) == polar_times(customer)
    missing = gql.data(query, {"id": "6f1c2a4e-8b7d-4c3e-9f2a-1b2c3d4e5f60"})
    assert missing == {"customer": None}
    assert gql.data(query, {"ext": "no-such-customer"}) == {"customer": None}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("", "exactly one of 'id' or 'externalId'"),
        ('id: "6f1c2a4e-8b7d-4c3e-9f2a-1b2c3d4e5f60", externalId: "x"', "exactly one of 'id' or 'externalId'"),
        ('id: "not-a-uuid"', "'id' must be a customer id (a UUID)"),
        ('externalId: ""', "'externalId' cannot be empty"),
    ],
)
def test_bad_lookup_arguments_are_clear_errors_without_upstream_calls(
    gql: GraphQL, arguments: str, message: str
) -> None:
    call = f"customer({arguments})" if arguments else "customer"
    body = gql.execute(f"{{ {call} {{ id }} }}")
    assert body["data"] == {"customer": None}
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert message in body["errors"][0]["message"]
    assert gql.upstream_calls() == {}


def _ids_via_graphql(gql: GraphQL, arguments: str) -> tuple[list[str], int]:
    connection = gql.data(f"{{ customers(first: 100, {arguments}) {{ totalCount nodes {{ id }} }} }}")["customers"]
    return [n["id"] for n in connection["nodes"]], connection["totalCount"]


def _ids_via_rest(demo: httpx.Client, params: list[tuple[str, str | int]]) -> tuple[list[str], int]:
    body = demo.get("/v1/customers/", params=[*params, ("limit", 100)]).json()
    return [c["id"] for c in body["items"]], body["pagination"]["total_count"]


@pytest.mark.parametrize(
    ("arguments", "params"),
    [
        ('filter: {email: "DEMO.ADA.LISKOV.0@GMAIL.COM"}', [("email", "DEMO.ADA.LISKOV.0@GMAIL.COM")]),
        ('filter: {query: "lovelace"}', [("query", "lovelace")]),
        ("filter: {active: true}", [("active", "true")]),
        ("filter: {active: false}", [("active", "false")]),
        ('filter: {metadata: [{key: "plan", values: ["pro", "free"]}]}', [("metadata[plan]", "pro"), ("metadata[plan]", "free")]),
        ('filter: {metadata: [{key: "plan", values: ["pro"]}, {key: "vip", values: ["true"]}]}', [("metadata[plan]", "pro"), ("metadata[vip]", "true")]),
        ("sortKey: EMAIL", [("sorting", "email")]),
        ("sortKey: EMAIL, reverse: true", [("sorting", "-email")]),
        ("sortKey: NAME, reverse: true", [("sorting", "-name")]),
        ("sortKey: CREATED_AT", [("sorting", "created_at")]),
        ("reverse: true", [("sorting", "created_at")]),
        ("", [("sorting", "-created_at")]),
    ],
)  # fmt: skip
def test_filters_and_sorts_match_polars_list(
    gql: GraphQL, demo: httpx.Client, arguments: str, params: list[tuple[str, str | int]]
) -> None:
    via_graphql = _ids_via_graphql(gql, arguments)
    assert via_graphql == _ids_via_rest(demo, params)
    assert via_graphql[1] > 0


def test_an_empty_listing(gql: GraphQL) -> None:
    connection = gql.data(
        '{ customers(first: 5, filter: {email: "nobody@proton.me"}) { '
        "totalCount edges { cursor } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"
    )
    assert connection["customers"] == {
        "totalCount": 0, "edges": [],
        "pageInfo": {"hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None},
    }  # fmt: skip


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("first: 101", "'first' is at most 100"),
        ("last: 500", "'last' is at most 100"),
        ("first: -1", "'first' cannot be negative"),
        ("first: 5, last: 5", "not both"),
        ('after: "garbage"', "'after' is not a cursor this API issued"),
        (f'after: "{base64.urlsafe_b64encode(b"pos1:xyz:-4").decode()}"', "'after' is not a cursor this API issued"),
        (f'before: "{NOT_UTF8_CURSOR}"', "'before' is not a cursor this API issued"),
        ('filter: {metadata: [{key: "", values: ["x"]}]}', "needs a key and at least one value"),
    ],
)
def test_bad_paging_arguments_are_clear_errors(gql: GraphQL, arguments: str, message: str) -> None:
    body = gql.execute(f"{{ customers({arguments}) {{ totalCount }} }}")
    assert body["data"] is None
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert message in body["errors"][0]["message"]
    assert gql.upstream_calls() == {}


def test_a_cursor_from_another_listing_is_refused(gql: GraphQL) -> None:
    cursor = gql.data("{ customers(first: 3) { pageInfo { endCursor } } }")["customers"]["pageInfo"]["endCursor"]
    body = gql.execute(f'{{ customers(first: 3, after: "{cursor}", sortKey: EMAIL) {{ totalCount }} }}')
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert "another filter or sort" in body["errors"][0]["message"]


def test_another_organization_sees_none_of_demos_customers(gql: GraphQL, gql_other: GraphQL) -> None:
    demo_ids = {n["id"] for n in _all_nodes(gql)}
    other = gql_other.data("{ customers(first: 100) { totalCount nodes { id } } }")["customers"]
    assert other["totalCount"] == 12
    assert not demo_ids & {n["id"] for n in other["nodes"]}
    some = next(iter(demo_ids))
    assert gql_other.data(f'{{ customer(id: "{some}") {{ id }} }}') == {"customer": None}


STATE_PAGE = (
    STATE_FIELDS
    + """
query($after: String) { customers(first: 100, after: $after) {
  pageInfo { hasNextPage endCursor } nodes { id state { ...StateFields } } } }
"""
)


def test_batched_state_equals_polars_state_for_every_customer(
    gql: GraphQL, gql_read: GraphQL, demo: httpx.Client
) -> None:
    """Differential: the state rebuilt from three lists (full token) equals what the per-customer
    ``/state`` fallback gives (read-only token) and what Polar's ``/state`` says, field for field."""
    batched = _all_nodes(gql, STATE_PAGE)
    fallback = _all_nodes(gql_read, STATE_PAGE)
    assert batched == fallback
    assert len(batched) == 250
    non_empty = 0
    for node in batched:
        state = demo.get(f"/v1/customers/{node['id']}/state").json()
        expected = {key: state[key] for key in ("active_subscriptions", "granted_benefits", "active_meters")}
        assert as_polar(node["state"]) == polar_times(expected), node["id"]
        non_empty += bool(state["active_subscriptions"])
    assert non_empty > 50
