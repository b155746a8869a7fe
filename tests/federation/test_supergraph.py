"""A real federation: the gateway and a second subgraph (tests/node/loyalty-subgraph.mjs), composed into a
supergraph and served by @apollo/gateway from npm; queries that span both subgraphs run through it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.sandbox.seed import DEMO_TOKEN
from tests.graphql_client import GraphQL, error_codes
from tests.node_tools import node_script
from tests.servers import GatewayProcess

ARTIFACTS = Path(__file__).parents[2] / "artifacts" / "federation"
HOLDERS = 5


def points_of(external_id: str | None) -> int | None:
    """The loyalty subgraph's rule, computed independently."""
    if not external_id:
        return None
    points = 0
    for character in external_id:
        points = (points * 31 + ord(character)) % 10007
    return points


class Router:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(timeout=30)

    def execute(self, query: str, token: str | None = DEMO_TOKEN) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.http.post(self.url, json={"query": query}, headers=headers)
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture(scope="module")
def holders(gateway_server: GatewayProcess, sandbox_server: Any) -> list[dict[str, Any]]:
    sandbox_server.reset()
    client = GraphQL(gateway_server.graphql_url, DEMO_TOKEN, sandbox_server)
    nodes = client.data("{ customers(first: 40) { nodes { id externalId email } } }")["customers"]["nodes"]
    client.close()
    chosen = [node for node in nodes if node["externalId"]][:HOLDERS]
    assert len(chosen) == HOLDERS
    return chosen


@pytest.fixture(scope="module")
def supergraph(gateway_server: GatewayProcess, holders: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    env = {"CUSTOMERS_URL": gateway_server.graphql_url, "LOYALTY_HOLDERS": json.dumps([h["externalId"] for h in holders])}
    with node_script("supergraph.mjs", env) as (ready, _output):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "supergraph.graphql").write_text(ready["supergraphSdl"])
        yield ready


@pytest.fixture
def router(supergraph: dict[str, Any]) -> Iterator[Router]:
    client = Router(supergraph["router"])
    yield client
    client.http.close()


def _record(name: str, query: str, body: dict[str, Any], calls: dict[str, int]) -> None:
    """What the router answered, kept as a test artifact for the issue's note."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    record = {"query": query, "response": body, "upstream_requests": calls}
    (ARTIFACTS / f"{name}.json").write_text(json.dumps(record, indent=2))


def test_the_supergraph_composes_customer_with_both_keys(supergraph: dict[str, Any]) -> None:
    sdl = supergraph["supergraphSdl"]
    assert '@join__type(graph: CUSTOMERS, key: "id")' in sdl
    assert '@join__type(graph: CUSTOMERS, key: "externalId")' in sdl
    assert '@join__type(graph: LOYALTY, key: "externalId")' in sdl
    assert "loyaltyPoints: Int @join__field(graph: LOYALTY)" in sdl


def test_a_page_of_customers_with_fields_of_the_other_subgraph(router: Router, gql: GraphQL) -> None:
    query = "{ customers(first: 20) { nodes { id email externalId loyaltyPoints } } }"
    body = router.execute(query)
    assert "errors" not in body, body
    nodes = body["data"]["customers"]["nodes"]
    expected = gql.data("{ customers(first: 20) { nodes { id email externalId } } }")["customers"]["nodes"]
    assert [{k: n[k] for k in ("id", "email", "externalId")} for n in nodes] == expected
    assert [n["loyaltyPoints"] for n in nodes] == [points_of(n["externalId"]) for n in nodes]
    assert any(n["loyaltyPoints"] is None for n in nodes)
    assert any(n["loyaltyPoints"] for n in nodes)
    calls = gql.upstream_calls()
    assert calls == {"GET /v1/customers/": 2}  # one for the router, one for the expectation above
    _record("customers-with-loyalty", query, body, calls)


def test_cards_of_the_other_subgraph_resolve_their_holders_through_entities(
    router: Router, gql: GraphQL, holders: list[dict[str, Any]]
) -> None:
    query = """{ loyaltyCards { number holder { id externalId email loyaltyPoints
        state { activeSubscriptions { id status } grantedBenefits { id } } } } }"""
    body = router.execute(query)
    assert "errors" not in body, body
    cards = body["data"]["loyaltyCards"]
    assert [card["number"] for card in cards] == [f"LC-{i:04d}" for i in range(1, HOLDERS + 1)]
    assert [{k: c["holder"][k] for k in ("id", "externalId", "email")} for c in cards] == holders
    assert [c["holder"]["loyaltyPoints"] for c in cards] == [points_of(h["externalId"]) for h in holders]
    calls = gql.upstream_calls()
    # Holders by external id through _entities (one each), then their state in one batch of three lists.
    assert calls == {
        "GET /v1/customers/external/{external_id}": HOLDERS,
        "GET /v1/subscriptions/": 1,
        "GET /v1/benefit-grants/": 1,
        "GET /v1/customer-meters/": 1,
    }
    for card in cards:
        direct = gql.data(
            "query ($id: ID!) { customer(id: $id) { state { activeSubscriptions { id status } grantedBenefits { id } } } }",
            {"id": card["holder"]["id"]},
        )
        assert card["holder"]["state"] == direct["customer"]["state"]
    _record("loyalty-cards-with-holders", query, body, calls)


def test_without_a_token_the_router_passes_on_the_gateway_error(router: Router, gql: GraphQL) -> None:
    body = router.execute("{ customers(first: 2) { nodes { id loyaltyPoints } } }", token=None)
    assert body.get("data") is None
    assert "UNAUTHENTICATED" in error_codes(body)
    assert gql.upstream_calls() == {}
