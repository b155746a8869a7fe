"""Fuzzing the gateway over its real socket: valid queries and mutations generated from the schema
(hypothesis-graphql), invalid documents, and malformed bodies, variables and headers. Never a 5xx,
never an unplanned error, always a GraphQL-over-HTTP answer. Derandomized and bounded in count."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from graphql import parse_value
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, nodes
from hypothesis_graphql import strategies as gql_st

from gateway.graphql.schema import build_schema
from gateway.sandbox.seed import DEMO_TOKEN
from gateway.sandbox.voucherify.seed import DEMO_APP_ID, DEMO_APP_TOKEN
from gateway.settings import Settings
from tests.graphql_client import GRAPHQL_RESPONSE
from tests.servers import GatewayProcess

SDL = build_schema(Settings())._schema  # the graphql-core schema: its SDL has federation's @link
HEADERS = {
    "Accept": GRAPHQL_RESPONSE, "Authorization": f"Bearer {DEMO_TOKEN}",
    "X-Voucherify-App-Id": DEMO_APP_ID, "X-Voucherify-App-Token": DEMO_APP_TOKEN,
}  # fmt: skip
PLANNED_CODES = {"UNAUTHENTICATED", "FORBIDDEN", "BAD_USER_INPUT", "RATE_LIMITED", "UPSTREAM_TIMEOUT",
                 "UPSTREAM_UNAVAILABLE"}  # fmt: skip
FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_metadata_values = st.integers(-3, 3) | st.booleans() | st.text(alphabet="ab ", max_size=4)
JSON_LITERALS = st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True), _metadata_values, max_size=4).map(
    lambda d: parse_value("{" + ", ".join(f"{k}: {json.dumps(v)}" for k, v in d.items()) + "}")
) | st.text(max_size=8).map(nodes.String)
_REPRESENTATIONS = st.fixed_dictionaries(
    {"__typename": st.sampled_from(["Customer", "Order", ""])},
    optional={"id": st.text(max_size=6) | st.integers(), "externalId": st.text(max_size=6), "x": st.booleans()},
).map(lambda d: parse_value("{" + ", ".join(f"{k}: {json.dumps(v)}" for k, v in d.items()) + "}"))
SCALARS = {
    "JSON": JSON_LITERALS,
    "DateTime": st.just("2026-01-01T00:00:00Z").map(nodes.String),
    "_Any": _REPRESENTATIONS | JSON_LITERALS,
    "Date": st.sampled_from(["2000-01-01", "1999-13-40", ""]).map(nodes.String),
    "Upload": st.just("not a file").map(nodes.String),  # a file comes only in a multipart request
}


def _check(response: httpx.Response) -> dict[str, Any]:
    """The answer is GraphQL over HTTP, and any error is one the gateway meant to give."""
    assert response.status_code < 500, response.text
    assert response.headers["content-type"].split(";")[0] in {GRAPHQL_RESPONSE, "application/json"}
    body: dict[str, Any] = response.json()
    assert "data" in body or "errors" in body
    for error in body.get("errors", []):
        assert isinstance(error["message"], str)
        if error.get("path"):
            assert error.get("extensions", {}).get("code") in PLANNED_CODES, error
        assert "Traceback" not in error["message"]
        assert DEMO_TOKEN not in json.dumps(error)
        assert DEMO_APP_TOKEN not in json.dumps(error)
    if response.status_code == 400:
        assert "data" not in body  # a request error: refused before any resolver ran
    return body


@FUZZ
@given(query=gql_st.queries(SDL, custom_scalars=SCALARS))
def test_generated_queries(gateway_server: GatewayProcess, query: str) -> None:
    _check(httpx.post(gateway_server.graphql_url, json={"query": query}, headers=HEADERS, timeout=30))


@FUZZ
@given(mutation=gql_st.mutations(SDL, custom_scalars=SCALARS))
def test_generated_mutations(gateway_server: GatewayProcess, mutation: str) -> None:
    body = _check(httpx.post(gateway_server.graphql_url, json={"query": mutation}, headers=HEADERS, timeout=30))
    for payload in (body.get("data") or {}).values():
        if isinstance(payload, dict) and payload.get("userErrors"):
            for user_error in payload["userErrors"]:
                assert all(user_error[key] for key in ("code", "message") if key in user_error)


@FUZZ
@given(document=gql_st.queries(SDL, custom_scalars=SCALARS, mode=Mode.NEGATIVE))
def test_invalid_documents(gateway_server: GatewayProcess, document: str) -> None:
    response = httpx.post(gateway_server.graphql_url, json={"query": document}, headers=HEADERS, timeout=30)
    body = _check(response)
    assert response.status_code in {200, 400}
    if response.status_code == 400:
        assert "data" not in body


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)
VARIABLE_QUERY = """query($id: ID, $ext: String, $first: Int, $after: String, $filter: CustomerFilter) {
  customer(id: $id, externalId: $ext) { id }
  customers(first: $first, after: $after, filter: $filter) { totalCount nodes { id } } }"""


@FUZZ
@given(
    variables=st.dictionaries(st.sampled_from(["id", "ext", "first", "after", "filter", "other"]), _json, max_size=5)
)
def test_malformed_variables(gateway_server: GatewayProcess, variables: dict[str, Any]) -> None:
    response = httpx.post(gateway_server.graphql_url, json={"query": VARIABLE_QUERY, "variables": variables},
                          headers=HEADERS, timeout=30)  # fmt: skip
    _check(response)


@FUZZ
@given(raw=st.binary(max_size=200) | _json.map(lambda v: json.dumps(v).encode()))
def test_malformed_bodies(gateway_server: GatewayProcess, raw: bytes) -> None:
    response = httpx.post(gateway_server.graphql_url, content=raw,
                          headers={**HEADERS, "Content-Type": "application/json"}, timeout=30)  # fmt: skip
    assert response.status_code < 500
    assert response.json()


_header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)


@FUZZ
@given(authorization=_header_text, accept=_header_text, content_type=_header_text)
def test_malformed_headers(gateway_server: GatewayProcess, authorization: str, accept: str, content_type: str) -> None:
    headers = {"Authorization": authorization.strip(), "Accept": accept.strip(), "Content-Type": content_type.strip()}
    response = httpx.post(gateway_server.graphql_url, content=b'{"query": "{ customers(first: 1) { totalCount } }"}',
                          headers=headers, timeout=30)  # fmt: skip
    assert response.status_code < 500, response.text


@pytest.mark.parametrize(
    "params",
    [{}, {"query": ""}, {"query": "{"}, {"query": "{ __typename }", "variables": "not json"},
     {"query": "{ __typename }", "variables": "[1]"}, {"query": "mutation { __typename }"}],
)  # fmt: skip
def test_malformed_gets(gateway_server: GatewayProcess, params: dict[str, str]) -> None:
    response = httpx.get(gateway_server.graphql_url, params=params, headers=HEADERS, timeout=30)
    assert 400 <= response.status_code < 500 or response.status_code == 200
    assert response.json()


@pytest.mark.parametrize(
    "body",
    [0, "text", None, [], [1], [{"query": 5}], {"query": 5}, {"query": None}, {"query": "{ __typename }", "variables": [1]},
     {"query": "{ __typename }", "variables": "x"}, {"query": "{ __typename }", "operationName": 7}, {}],
)  # fmt: skip
def test_bodies_of_the_wrong_shape_are_400(gateway_server: GatewayProcess, body: object) -> None:
    response = httpx.post(gateway_server.graphql_url, json=body, headers=HEADERS, timeout=30)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["message"]
