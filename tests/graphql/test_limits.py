"""Abusive or oversized requests are refused cheaply, with an error naming the limit; and the
production switches (introspection, GraphiQL, suggestions, CORS) do what they say."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
import strawberry

from gateway.graphql.masking import MaskUnexpectedErrors
from gateway.sandbox.seed import DEMO_TOKEN
from tests.graphql_client import GRAPHQL_RESPONSE, GraphQL
from tests.servers import GatewayProcess, SandboxProcess, gateway_process

HEADERS = {"Accept": GRAPHQL_RESPONSE, "Authorization": f"Bearer {DEMO_TOKEN}"}


def _refused(gql: GraphQL, query: str) -> str:
    response = gql.post(query)
    assert response.status_code == 400, response.text
    assert "data" not in response.json()
    message: str = response.json()["errors"][0]["message"]
    return message


def test_depth_over_the_limit(sandbox: SandboxProcess) -> None:
    """The customer types are 7 levels deep at most, so a gateway with a depth limit of 4 shows it."""
    deep = "{ customers(first: 1) { edges { node { state { activeSubscriptions { meters { meterId } } } } } } }"
    shallow = "{ customers(first: 1) { nodes { id } } }"
    with gateway_process(sandbox.url, env={"GATEWAY_MAX_DEPTH": "4"}) as gateway:
        gql = GraphQL(gateway.graphql_url, DEMO_TOKEN, sandbox)
        assert "Operation 'anonymous' is 6 levels deep, over the limit of 4 (setting max_depth)" in _refused(gql, deep)
        assert gql.upstream_calls() == {}
        assert gql.data(shallow)["customers"]["nodes"]


def test_too_many_aliases(gql: GraphQL) -> None:
    fields = " ".join(f'a{n}: customer(externalId: "x{n}") {{ id }}' for n in range(31))
    assert "has 31 aliases, over the limit of 30 (setting max_aliases)" in _refused(gql, f"{{ {fields} }}")
    assert gql.upstream_calls() == {}


def test_too_many_tokens(gql: GraphQL) -> None:
    query = "{ " + " ".join("__typename" for _ in range(6000)) + " }"
    assert "more than 5000 tokens" in _refused(gql, query)


def test_cost_multiplies_by_page_size(gql: GraphQL) -> None:
    state = "state { activeSubscriptions { id amount meters { meterId amount } } grantedBenefits { id } activeMeters { id } }"
    pages = " ".join(f"p{n}: customers(first: 100) {{ nodes {{ id email {state} }} }}" for n in range(20))
    message = _refused(gql, f"{{ {pages} }}")
    assert "over the limit of 20000 (setting max_cost)" in message
    assert gql.upstream_calls() == {}
    assert gql.data(f"{{ customers(first: 100) {{ nodes {{ id {state} }} }} }}")  # one such page is fine


def test_a_page_size_given_as_a_variable_is_costed_at_its_value(gql: GraphQL) -> None:
    """Taken at the maximum first; weighed again with the request's value only when that is over."""
    state = "state { activeSubscriptions { id meters { meterId } } grantedBenefits { id } activeMeters { id } }"
    pages = " ".join(f"p{n}: customers(first: $n) {{ nodes {{ id {state} }} }}" for n in range(25))
    query = f"query($n: Int) {{ {pages} }}"
    for variables in ({"n": 100}, {}):  # a missing variable may have a default: taken at the maximum
        response = gql.post(query, variables)
        assert response.status_code == 400
        assert "costs 27525, over the limit of 20000 (setting max_cost)" in response.json()["errors"][0]["message"]
    assert gql.upstream_calls() == {}
    assert len(gql.data(query, {"n": 1})["p0"]["nodes"]) == 1


def test_an_oversized_body_is_413_naming_the_limit(gateway_server: GatewayProcess) -> None:
    body = json.dumps({"query": "{ __typename }", "variables": {"pad": "x" * 200_000}})
    response = httpx.post(
        gateway_server.graphql_url, content=body, headers={**HEADERS, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert "max_body_bytes" in response.json()["errors"][0]["message"]


def test_batches_are_bounded(gateway_server: GatewayProcess) -> None:
    ok = httpx.post(gateway_server.graphql_url, json=[{"query": "{ __typename }"}] * 3, headers=HEADERS)
    assert ok.status_code == 200
    assert ok.json() == [{"data": {"__typename": "Query"}, "extensions": {"cost": {"requested": 1, "limit": 20000}}}] * 3
    refused = httpx.post(gateway_server.graphql_url, json=[{"query": "{ __typename }"}] * 11, headers=HEADERS)
    assert refused.status_code == 400
    assert "at most 10 (setting max_batch_operations)" in refused.json()["errors"][0]["message"]


@pytest.fixture
def production_gateway(sandbox: SandboxProcess) -> Iterator[GatewayProcess]:
    env = {"GATEWAY_INTROSPECTION": "false", "GATEWAY_CORS_ORIGINS": '["https://app.example.com"]'}
    with gateway_process(sandbox.url, env=env) as gateway:
        yield gateway


def test_introspection_graphiql_and_suggestions_can_be_switched_off(production_gateway: GatewayProcess) -> None:
    url = production_gateway.graphql_url
    introspection = httpx.post(url, json={"query": "{ __schema { types { name } } }"}, headers=HEADERS)
    assert introspection.status_code == 400
    assert "introspection" in introspection.json()["errors"][0]["message"].lower()
    typo = httpx.post(url, json={"query": "{ custmers(first: 1) { totalCount } }"}, headers=HEADERS)
    assert "Did you mean" not in typo.json()["errors"][0]["message"]
    page = httpx.get(url, headers={"Accept": "text/html"})
    assert "graphiql" not in page.text.lower()
    assert httpx.post(url, json={"query": "{ customers(first: 1) { totalCount } }"}, headers=HEADERS).json() == {
        "data": {"customers": {"totalCount": 250}}, "extensions": {"cost": {"requested": 2, "limit": 20000}}}  # fmt: skip


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ custmers(first: 1) { totalCount } }", {}),
        ("{ customers(frist: 1) { totalCount } }", {}),
        ("{ customers(sortKey: EMAL) { totalCount } }", {}),
        ("query($k: CustomerSortKey) { customers(sortKey: $k) { totalCount } }", {"k": "EMAL"}),
        ('{ customers(filter: { emial: "a@b.co" }) { totalCount } }', {}),
        ("query($f: CustomerFilter) { customers(filter: $f) { totalCount } }", {"f": {"emial": "a@b.co"}}),
        ("query($n: Itn) { customers(first: $n) { totalCount } }", {}),
        ("{ customers(first: 1) { totalCont } }", {}),
    ],
    ids=["field", "argument", "enum", "enum-variable", "input-field", "input-variable", "type", "nested-field"],
)
def test_no_message_suggests_a_name_with_introspection_off(
    production_gateway: GatewayProcess, gateway_server: GatewayProcess, query: str, variables: dict[str, object]
) -> None:
    """Each of these is suggested a name by default; with introspection off, none is."""
    on = httpx.post(gateway_server.graphql_url, json={"query": query, "variables": variables}, headers=HEADERS)
    assert "Did you mean" in on.text
    off = httpx.post(production_gateway.graphql_url, json={"query": query, "variables": variables}, headers=HEADERS)
    assert off.json()["errors"]
    assert "Did you mean" not in off.text
    repeat = httpx.post(production_gateway.graphql_url, json={"query": query, "variables": variables}, headers=HEADERS)
    assert repeat.json() == off.json()  # the cached verdict answers the same, locations included


def test_service_sdl_needs_the_router_secret_with_introspection_off(sandbox: SandboxProcess) -> None:
    env = {"GATEWAY_INTROSPECTION": "false", "GATEWAY_ROUTER_SECRET": "s3cret-router"}
    with gateway_process(sandbox.url, env=env) as gateway:
        query = {"query": "{ _service { sdl } }"}
        anyone = httpx.post(gateway.graphql_url, json=query).json()
        assert anyone["data"] is None
        assert anyone["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert "X-Router-Secret" in anyone["errors"][0]["message"]
        wrong = httpx.post(gateway.graphql_url, json=query, headers={"X-Router-Secret": "guess"}).json()
        assert wrong["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        router = httpx.post(gateway.graphql_url, json=query, headers={"X-Router-Secret": "s3cret-router"}).json()
        assert "type Customer" in router["data"]["_service"]["sdl"]
        assert "s3cret-router" not in "".join(gateway.output)


def test_suggestions_are_on_by_default(gql: GraphQL) -> None:
    assert "Did you mean 'customers' or 'customer'?" in _refused(gql, "{ custmers(first: 1) { totalCount } }")


def test_cors_answers_only_allowed_origins(production_gateway: GatewayProcess) -> None:
    url = production_gateway.graphql_url
    preflight = httpx.options(
        url, headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "https://app.example.com"
    allowed_headers = {name.strip().lower() for name in preflight.headers["access-control-allow-headers"].split(",")}
    # What Apollo Client sends: its token, its uploads' CSRF guard, and its identity (clientAwareness).
    for header in ("authorization", "apollo-require-preflight", "apollographql-client-name",
                   "apollographql-client-version"):  # fmt: skip
        assert header in allowed_headers, header
    allowed = httpx.post(
        url, json={"query": "{ __typename }"}, headers={**HEADERS, "Origin": "https://app.example.com"}
    )
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    other = httpx.post(url, json={"query": "{ __typename }"}, headers={**HEADERS, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    evil_preflight = httpx.options(
        url, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in evil_preflight.headers


def test_unexpected_errors_are_masked_as_internal() -> None:
    @strawberry.type
    class Query:
        @strawberry.field
        def boom(self) -> str:
            raise ValueError("secret: polar_oat_sandbox_demo at http://user:pass@polar")

        @strawberry.field
        def fine(self) -> str:
            return "ok"

    schema = strawberry.Schema(query=Query, extensions=[MaskUnexpectedErrors])
    result = schema.execute_sync("{ boom fine }")
    assert result.data == {"boom": None, "fine": "ok"} or result.data is None
    assert result.errors is not None
    [error] = result.errors
    assert error.message == "Internal error."
    assert error.extensions == {"code": "INTERNAL"}
    assert "secret" not in json.dumps(error.formatted)


def test_a_document_of_several_operations_needs_an_operation_name(gql: GraphQL) -> None:
    """Without operationName the first operation used to run, here a mutation; the spec makes it an error."""
    document = 'mutation Wipe { customerDelete(externalId: "usr_demo_00248") { deletedCustomerId } } query Read { __typename }'
    message = _refused(gql, document)
    assert message == "Must provide operation name if query contains multiple operations."
    assert gql.upstream_calls() == {}
    named = gql.http.post(
        gql.url, json={"query": document, "operationName": "Read"}, headers={"Authorization": f"Bearer {DEMO_TOKEN}"}
    )
    assert named.json() == {"data": {"__typename": "Query"}, "extensions": {"cost": {"requested": 1, "limit": 20000}}}
    assert gql.upstream_calls() == {}
