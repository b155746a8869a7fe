"""Upstream request budgets, counted exactly by the sandbox's ``/__sandbox/stats``."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from gateway.sandbox.seed import DEMO_READ_TOKEN, DEMO_TOKEN
from tests.graphql_client import GraphQL
from tests.servers import GatewayProcess, SandboxProcess, gateway_process

PAGE_WITH_STATE = """
{ customers(first: 50) { nodes { id state {
    activeSubscriptions { id } grantedBenefits { id } activeMeters { id } } } } }
"""
BATCH_ROUTES = ("GET /v1/subscriptions/", "GET /v1/benefit-grants/", "GET /v1/customer-meters/")


def _total(counts: dict[str, int]) -> int:
    return sum(counts.values())


def test_a_page_of_50_with_state_costs_4_requests(gql: GraphQL) -> None:
    data = gql.data(PAGE_WITH_STATE)
    nodes = data["customers"]["nodes"]
    assert len(nodes) == 50
    assert sum(bool(n["state"]["activeSubscriptions"]) for n in nodes) > 10  # the state is really there
    assert gql.upstream_calls() == {"GET /v1/customers/": 1, **dict.fromkeys(BATCH_ROUTES, 1)}


def test_state_is_fetched_only_when_selected(gql: GraphQL) -> None:
    gql.data("{ customers(first: 50) { nodes { id email } } }")
    assert gql.upstream_calls() == {"GET /v1/customers/": 1}


@pytest.fixture
def fresh_gateway(sandbox: SandboxProcess) -> Iterator[GatewayProcess]:
    """A gateway that has not yet learned which scopes any token lacks."""
    with gateway_process(sandbox.url) as gateway:
        yield gateway


def test_without_batch_scopes_the_fallback_answers_the_same(
    fresh_gateway: GatewayProcess, sandbox: SandboxProcess
) -> None:
    full = GraphQL(fresh_gateway.graphql_url, DEMO_TOKEN, sandbox)
    read_only = GraphQL(fresh_gateway.graphql_url, DEMO_READ_TOKEN, sandbox)
    expected = full.data(PAGE_WITH_STATE)
    read_only.reset_sandbox()

    assert read_only.data(PAGE_WITH_STATE) == expected
    first = read_only.upstream_calls()
    assert first == {
        "GET /v1/customers/": 1,
        **dict.fromkeys(BATCH_ROUTES, 1),  # refused with 403 once each, then remembered
        "GET /v1/customers/{id}/state": 50,
    }
    assert _total(first) == 54

    read_only.reset_sandbox()
    assert read_only.data(PAGE_WITH_STATE) == expected
    second = read_only.upstream_calls()
    assert second == {"GET /v1/customers/": 1, "GET /v1/customers/{id}/state": 50}
    assert _total(second) == 51

    full.reset_sandbox()  # what one token lacks is never applied to another token
    full.data(PAGE_WITH_STATE)
    assert _total(full.upstream_calls()) == 4


def _ids(client: httpx.Client, count: int) -> list[str]:
    return [c["id"] for c in client.get("/v1/customers/", params={"limit": count}).json()["items"]]


def test_twenty_aliased_lookups_of_five_ids_cost_five_requests(gql: GraphQL, demo: httpx.Client) -> None:
    ids = _ids(demo, 5)
    gql.reset_sandbox()
    fields = " ".join(f'c{n}: customer(id: "{ids[n % 5]}") {{ id email }}' for n in range(20))
    data = gql.data(f"{{ {fields} }}")
    assert [data[f"c{n}"]["id"] for n in range(20)] == [ids[n % 5] for n in range(20)]
    assert gql.upstream_calls() == {"GET /v1/customers/{id}": 5}


def test_lookups_after_a_listing_of_the_same_customers_cost_only_the_listing(gql: GraphQL, demo: httpx.Client) -> None:
    ids = _ids(demo, 5)
    gql.reset_sandbox()
    fields = " ".join(f'c{n}: customer(id: "{ids[n % 5]}") {{ id email }}' for n in range(20))
    data = gql.data(f"{{ customers(first: 5) {{ nodes {{ id }} }} {fields} }}")
    assert [node["id"] for node in data["customers"]["nodes"]] == ids
    assert data["c7"]["id"] == ids[2]
    assert gql.upstream_calls() == {"GET /v1/customers/": 1}


def test_lookups_by_external_id_are_deduplicated_and_primed(gql: GraphQL, demo: httpx.Client) -> None:
    customers = demo.get("/v1/customers/", params={"limit": 20}).json()["items"]
    external = [c["external_id"] for c in customers if c["external_id"]][:3]
    gql.reset_sandbox()
    fields = " ".join(f'e{n}: customer(externalId: "{external[n % 3]}") {{ id }}' for n in range(9))
    gql.data(f"{{ {fields} }}")
    assert gql.upstream_calls() == {"GET /v1/customers/external/{external_id}": 3}
    gql.reset_sandbox()
    gql.data(f"{{ customers(first: 20) {{ nodes {{ id }} }} {fields} }}")
    assert gql.upstream_calls() == {"GET /v1/customers/": 1}


@pytest.mark.parametrize("direction", ["forwards", "backwards"])
def test_walking_all_customers_by_37_yields_each_once_in_order(
    gql: GraphQL, demo: httpx.Client, direction: str
) -> None:
    expected: list[str] = []
    page = 1
    while True:
        body = demo.get("/v1/customers/", params={"limit": 100, "page": page}).json()
        expected += [c["id"] for c in body["items"]]
        if page >= body["pagination"]["max_page"]:
            break
        page += 1
    gql.reset_sandbox()
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        before = _total(gql.upstream_calls())
        if direction == "forwards":
            query = "query($c: String) { customers(first: 37, after: $c) { pageInfo { hasNextPage endCursor } nodes { id } } }"
        else:
            query = "query($c: String) { customers(last: 37, before: $c) { pageInfo { hasPreviousPage startCursor } nodes { id } } }"
        connection = gql.data(query, {"c": cursor})["customers"]
        calls = gql.upstream_calls()
        assert set(calls) == {"GET /v1/customers/"}
        assert _total(calls) - before <= 2
        pages += 1
        ids = [node["id"] for node in connection["nodes"]]
        info = connection["pageInfo"]
        if direction == "forwards":
            seen += ids
            if not info["hasNextPage"]:
                break
            cursor = info["endCursor"]
        else:
            seen = ids + seen
            if not info["hasPreviousPage"]:
                break
            cursor = info["startCursor"]
    assert seen == expected
    assert pages == 7


def test_batching_off_is_the_naive_gateway(sandbox: SandboxProcess, demo: httpx.Client) -> None:
    """``GATEWAY_BATCHING=false``: one upstream call per lookup and per state, as a hand-written gateway does."""
    ids = _ids(demo, 5)
    with gateway_process(sandbox.url, env={"GATEWAY_BATCHING": "false"}) as naive:
        client = GraphQL(naive.graphql_url, DEMO_TOKEN, sandbox)
        client.reset_sandbox()
        fields = " ".join(f'c{n}: customer(id: "{ids[n % 5]}") {{ id }}' for n in range(20))
        client.data(f"{{ {fields} }}")
        assert client.upstream_calls() == {"GET /v1/customers/{id}": 20}
        client.reset_sandbox()
        client.data(PAGE_WITH_STATE)
        assert client.upstream_calls() == {"GET /v1/customers/": 1, "GET /v1/customers/{id}/state": 50}
