"""GraphQL over HTTP: methods, media types, status codes, and no token means no upstream call."""

from __future__ import annotations

import httpx
import pytest

from gateway.sandbox.seed import DEMO_TOKEN
from tests.graphql_client import GRAPHQL_RESPONSE, GraphQL, error_codes
from tests.servers import GatewayProcess, gateway_process

QUERY = "{ customers(first: 2) { totalCount nodes { id } } }"


def test_post_json_answers_graphql_response_json(gql: GraphQL) -> None:
    data = gql.data(QUERY)
    assert data["customers"]["totalCount"] == 250
    assert len(data["customers"]["nodes"]) == 2


def test_plain_json_clients_get_application_json_and_200_even_for_errors(gateway_server: GatewayProcess) -> None:
    response = httpx.post(
        gateway_server.graphql_url, json={"query": "{ nope }"}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["errors"][0]["message"] == "Cannot query field 'nope' on type 'Query'."


@pytest.mark.parametrize("query", ["{ nope }", "{ customers(first: 1) { totalCount ", "query { customer }"])
def test_request_errors_are_400_without_data(gateway_server: GatewayProcess, query: str) -> None:
    response = httpx.post(gateway_server.graphql_url, json={"query": query}, headers={"Accept": GRAPHQL_RESPONSE})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    body = response.json()
    assert "data" not in body
    assert body["errors"]


@pytest.mark.parametrize(
    ("query", "codes"),
    [
        ("query Two { customers(first: 2) { nodes { id email state { grantedBenefits { id } } } } }", []),
        ("{ nope }", [None]),  # a validation error, which carries no code
        ('{ customer(id: "not-a-uuid") { id } }', ["BAD_USER_INPUT"]),
    ],
)
def test_a_single_post_answers_as_get_and_a_batch_of_one_do(
    gateway_server: GatewayProcess, query: str, codes: list[str | None]
) -> None:
    """A single JSON POST takes the view's lean path; GET and batches take Strawberry's general one."""
    headers = {"Authorization": f"Bearer {DEMO_TOKEN}", "Accept": "application/json"}
    url = gateway_server.graphql_url
    single = httpx.post(url, json={"query": query}, headers=headers)
    over_get = httpx.get(url, params={"query": query}, headers=headers)
    batch = httpx.post(url, json=[{"query": query}], headers=headers)
    assert single.status_code == over_get.status_code == batch.status_code == 200
    assert single.json() == over_get.json() == batch.json()[0]
    body = single.json()
    assert error_codes(body) == codes
    if not codes:
        assert len(body["data"]["customers"]["nodes"]) == 2


def test_get_runs_queries(gateway_server: GatewayProcess) -> None:
    response = httpx.get(
        gateway_server.graphql_url,
        params={"query": QUERY},
        headers={"Accept": GRAPHQL_RESPONSE, "Authorization": f"Bearer {DEMO_TOKEN}"},
    )
    assert response.status_code == 200
    assert response.json()["data"]["customers"]["totalCount"] == 250


def test_mutation_over_get_is_405_and_nothing_changes(gql: GraphQL, gateway_server: GatewayProcess) -> None:
    response = httpx.get(
        gateway_server.graphql_url,
        params={"query": 'mutation { customerCreate(input: {email: "get@gmail.com"}) { customer { id } } }'},
        headers={"Accept": GRAPHQL_RESPONSE, "Authorization": f"Bearer {DEMO_TOKEN}"},
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "POST" in response.json()["errors"][0]["message"]
    assert gql.upstream_calls() == {}


@pytest.mark.parametrize("header", [None, "", "Bearer", "Basic abc", "Bearer a b", "polar_oat_sandbox_demo"])
def test_missing_or_malformed_authorization_is_unauthenticated_without_upstream_calls(
    gql: GraphQL, header: str | None
) -> None:
    headers = {"Accept": GRAPHQL_RESPONSE}
    if header is not None:
        headers["Authorization"] = header
    response = httpx.post(gql.url, json={"query": '{ customers(first: 5) { totalCount } customer(externalId: "x") { id } }'},
                          headers=headers)  # fmt: skip
    body = response.json()
    assert response.status_code == 200
    assert error_codes(body) == ["UNAUTHENTICATED", "UNAUTHENTICATED"]
    assert body["data"] is None
    assert gql.upstream_calls() == {}


def test_a_token_polar_refuses_is_unauthenticated(gql: GraphQL) -> None:
    body = gql.execute("{ customers(first: 1) { totalCount } }", token="polar_oat_not_a_real_token")
    assert error_codes(body) == ["UNAUTHENTICATED"]


def test_introspection_needs_no_token(gql: GraphQL) -> None:
    data = gql.data("{ __schema { queryType { name } } }", token=None)
    assert data["__schema"]["queryType"]["name"] == "Query"


def test_healthz(gateway_server: GatewayProcess) -> None:
    response = httpx.get(f"{gateway_server.url}/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok", "pid": gateway_server.process.pid})


def test_serve_without_upstream_url_embeds_the_sandbox() -> None:
    with gateway_process(None) as gateway:
        response = httpx.post(
            gateway.graphql_url,
            json={"query": "{ customers(first: 1) { totalCount } }"},
            headers={"Authorization": f"Bearer {DEMO_TOKEN}"},
            timeout=30,
        )
    assert response.json() == {"data": {"customers": {"totalCount": 250}}, "extensions": {"cost": {"requested": 2, "limit": 20000}}}


def test_include_and_skip_follow_each_requests_variables(gql: GraphQL) -> None:
    """Sub-selections are collected once per document only when it has no directives: these vary."""
    query = """query Q($withEmail: Boolean!) { customers(first: 2) { nodes {
        id email @include(if: $withEmail) name @skip(if: $withEmail) } } }"""
    for with_email in (True, False, True):
        nodes = gql.data(query, {"withEmail": with_email})["customers"]["nodes"]
        assert len(nodes) == 2
        assert all(("email" in node) is with_email and ("name" in node) is not with_email for node in nodes)


def test_the_same_document_answers_each_request_with_its_own_data(gql: GraphQL) -> None:
    """Twenty aliases over five ids, twice with other ids: collected once, resolved each time."""
    ids = [n["id"] for n in gql.data("{ customers(first: 10) { nodes { id } } }")["customers"]["nodes"]]
    query = (
        "query A($a: ID!, $b: ID!) { "
        + " ".join(f"c{i}: customer(id: {'$a' if i % 2 else '$b'}) {{ id email }}" for i in range(20))
        + " }"
    )
    for a, b in ((ids[0], ids[1]), (ids[2], ids[3])):
        data = gql.data(query, {"a": a, "b": b})
        assert [data[f"c{i}"]["id"] for i in range(20)] == [a if i % 2 else b for i in range(20)]
