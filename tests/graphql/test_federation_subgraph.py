"""The gateway as an Apollo Federation v2 subgraph: ``_service`` and ``_entities``, through the loaders."""

from __future__ import annotations

from typing import Any

import pytest

from tests.graphql_client import GraphQL, error_codes

ENTITIES = """
query ($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on Customer { id externalId email } }
}
"""


def _customers(gql: GraphQL, count: int) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = gql.data(f"{{ customers(first: {count}) {{ nodes {{ id externalId email }} }} }}")[
        "customers"
    ]["nodes"]
    gql.reset_sandbox()
    return nodes


def test_service_sdl_declares_both_keys_of_customer(gql: GraphQL) -> None:
    sdl = gql.data("{ _service { sdl } }")["_service"]["sdl"]
    assert 'type Customer @key(fields: "id") @key(fields: "externalId")' in sdl
    assert "@link(url: \"https://specs.apollo.dev/federation/v2" in sdl
    assert "customers(" in sdl
    assert "customerCreate(" in sdl


def test_50_representations_cost_the_distinct_ids(gql: GraphQL) -> None:
    customers = _customers(gql, 10)
    representations = [{"__typename": "Customer", "id": customers[i % 10]["id"]} for i in range(50)]
    entities = gql.data(ENTITIES, {"representations": representations})["_entities"]
    assert [e["id"] for e in entities] == [r["id"] for r in representations]
    assert entities[:10] == customers
    assert gql.upstream_calls() == {"GET /v1/customers/{id}": 10}


def test_representations_by_external_id_resolve_the_same_customers(gql: GraphQL) -> None:
    customers = [c for c in _customers(gql, 30) if c["externalId"]][:5]
    assert len(customers) == 5
    representations = [{"__typename": "Customer", "externalId": c["externalId"]} for c in customers * 3]
    entities = gql.data(ENTITIES, {"representations": representations})["_entities"]
    assert entities == customers * 3
    assert gql.upstream_calls() == {"GET /v1/customers/external/{external_id}": 5}


def test_customers_the_request_already_holds_cost_nothing(gql: GraphQL) -> None:
    customers = _customers(gql, 20)
    representations = [{"__typename": "Customer", "id": c["id"]} for c in customers]
    query = """
    query ($representations: [_Any!]!) {
      customers(first: 20) { nodes { id } }
      _entities(representations: $representations) { ... on Customer { id email } }
    }
    """
    data = gql.data(query, {"representations": representations})
    assert [e["email"] for e in data["_entities"]] == [c["email"] for c in customers]
    assert gql.upstream_calls() == {"GET /v1/customers/": 1}


def test_an_unknown_customer_is_null_and_the_others_resolve(gql: GraphQL) -> None:
    known = _customers(gql, 1)[0]
    representations = [
        {"__typename": "Customer", "id": "00000000-0000-4000-8000-000000000000"},
        {"__typename": "Customer", "id": known["id"]},
        {"__typename": "Customer", "externalId": "no-such-external-id"},
    ]
    entities = gql.data(ENTITIES, {"representations": representations})["_entities"]
    assert entities == [None, known, None]


@pytest.mark.parametrize(
    ("representation", "message"),
    [
        ({"__typename": "Order", "id": "x"}, "__typename must be one of Customer"),
        ({"id": "x"}, "__typename must be one of Customer"),
        ("Customer", "must be an object"),
        ({"__typename": "Customer"}, "exactly one key of Customer"),
        ({"__typename": "Customer", "id": "a", "externalId": "b"}, "exactly one key of Customer"),
        ({"__typename": "Customer", "email": "a@b.c"}, "exactly one key of Customer"),
        ({"__typename": "Customer", "id": 7}, "exactly one key of Customer"),
    ],
)
def test_malformed_representations_are_refused_before_any_call(gql: GraphQL, representation: Any, message: str) -> None:
    body = gql.execute(ENTITIES, {"representations": [representation]})
    assert body["data"] is None
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert message in body["errors"][0]["message"]
    assert gql.upstream_calls() == {}


def test_a_malformed_id_fails_only_its_own_entity(gql: GraphQL) -> None:
    known = _customers(gql, 1)[0]
    representations = [{"__typename": "Customer", "id": "not-a-uuid"}, {"__typename": "Customer", "id": known["id"]}]
    body = gql.execute(ENTITIES, {"representations": representations})
    assert body["data"]["_entities"] == [None, known]
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["path"] == ["_entities", 0]


def test_too_many_representations_are_refused_naming_the_setting(gql: GraphQL) -> None:
    representations = [{"__typename": "Customer", "externalId": f"e{i}"} for i in range(251)]
    body = gql.execute(ENTITIES, {"representations": representations})
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert "max_entities" in body["errors"][0]["message"]
    assert gql.upstream_calls() == {}


def test_entities_need_a_token(gql: GraphQL) -> None:
    body = gql.execute(ENTITIES, {"representations": [{"__typename": "Customer", "externalId": "x"}]}, token=None)
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert gql.upstream_calls() == {}
