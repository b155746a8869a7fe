"""Metadata numbers: integers within signed 64 bits exact end to end; larger ones refused before any
upstream call, in a JSON body as a 400 (``gateway.http.bodies``: no integer past 64 bits is read at all) and
in a GraphQL literal as a userError at the key; non-finite floats refused as userErrors at the key."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.graphql_client import GRAPHQL_RESPONSE, GraphQL

CREATE = """mutation($input: CustomerCreateInput!) { customerCreate(input: $input) {
  customer { id metadata } userErrors { field message code } } }"""
LITERAL = """mutation { customerCreate(input: {email: "lit@gmail.com", metadata: {n: %s}}) {
  customer { id metadata } userErrors { field message code } } }"""
READ = 'query($id: ID!) { customer(id: $id) { metadata } }'
TOO_BIG = "A metadata integer must fit in 64 bits (-9223372036854775808 to 9223372036854775807); send a larger number as a string."
WIDE_JSON = "The JSON body has an integer out of range: integers must fit in 64 bits."
NOT_FINITE = "A metadata number must be finite: NaN and Infinity are not JSON numbers."
EDGES = {"max": 2**63 - 1, "min": -(2**63), "u32": 2**32, "float": 1.5e300, "tiny": 5e-324, "digits": "123456789012345678901234567890"}


def _raw(gql: GraphQL, body: str) -> httpx.Response:
    """A request body exactly as given: what a client with its own JSON encoder may send."""
    headers = {"Authorization": f"Bearer {gql.token}", "Content-Type": "application/json", "Accept": GRAPHQL_RESPONSE}
    return gql.http.post(gql.url, content=body.encode(), headers=headers)


def _body(query: str, variables_json: str) -> str:
    return f'{{"query": {json.dumps(query)}, "variables": {variables_json}}}'


def _create_raw(gql: GraphQL, metadata_json: str) -> dict[str, Any]:
    response = _raw(gql, _body(CREATE, f'{{"input": {{"email": "raw@gmail.com", "metadata": {metadata_json}}}}}'))
    assert response.status_code == 200, response.text
    payload: dict[str, Any] = response.json()["data"]["customerCreate"]
    return payload


def test_integers_at_the_64_bit_edges_round_trip_exactly(gql: GraphQL, demo: httpx.Client) -> None:
    payload = gql.data(CREATE, {"input": {"email": "edges@gmail.com", "metadata": EDGES}})["customerCreate"]
    assert payload["userErrors"] == []
    assert payload["customer"]["metadata"] == EDGES
    stored = json.loads(demo.get(f"/v1/customers/{payload['customer']['id']}").content)  # json: ints stay exact
    assert stored["metadata"] == EDGES
    read = _raw(gql, json.dumps({"query": READ, "variables": {"id": payload["customer"]["id"]}}))
    assert '"max":9223372036854775807' in read.text
    assert '"min":-9223372036854775808' in read.text
    assert json.loads(read.text)["data"]["customer"]["metadata"] == EDGES


@pytest.mark.parametrize("literal", [str(2**63 - 1), str(-(2**63))])
def test_edge_integer_literals_round_trip_exactly(gql: GraphQL, literal: str) -> None:
    payload = gql.data(LITERAL % literal)["customerCreate"]
    assert payload["customer"]["metadata"] == {"n": int(literal)}


@pytest.mark.parametrize(
    "number",
    [str(2**63), str(-(2**63) - 1), str(2**64 - 1), str(2**64), "123456789012345678901234567890", "-" + "9" * 30],
)
def test_integers_past_64_bits_are_refused(gql: GraphQL, number: str) -> None:
    """2**63 to 2**64-1 reach Python exact through orjson; larger ones it turned into floats, silently."""
    body = _body(CREATE, f'{{"input": {{"email": "raw@gmail.com", "metadata": {{"plan": "pro", "n": {number}}}}}}}')
    response = _raw(gql, body)
    assert response.status_code == 400
    assert response.json() == {"errors": [{"message": WIDE_JSON}]}
    if len(number.lstrip("-")) <= 19:  # a literal of up to 20 characters is read, then judged at its key
        payload = gql.data(LITERAL % number)["customerCreate"]
        assert payload == {"customer": None, "userErrors": [{"field": ["input", "metadata", "n"], "message": TOO_BIG, "code": "INVALID"}]}
    assert gql.upstream_calls() == {}


def test_a_long_integer_literal_is_refused_before_it_runs(gql: GraphQL) -> None:
    response = gql.post(LITERAL % ("1" * 30))
    assert response.status_code == 400  # not executed: a document error
    assert response.json()["errors"][0]["message"] == "An integer of 30 digits is over 64 bits; no argument here takes one."
    assert gql.upstream_calls() == {}


def test_an_update_is_checked_alike(gql: GraphQL, demo: httpx.Client) -> None:
    customer = demo.get("/v1/customers/", params={"limit": 1}).json()["items"][0]
    before = gql.upstream_calls()
    update = "mutation($id: ID!%s) { customerUpdate(id: $id, input: {metadata: %s}) { userErrors { field message code } } }"
    literal = _raw(gql, _body(update % ("", "{n: 9223372036854775808}"), f'{{"id": "{customer["id"]}"}}'))
    assert literal.status_code == 200, literal.text
    assert literal.json()["data"]["customerUpdate"]["userErrors"] == [
        {"field": ["input", "metadata", "n"], "message": TOO_BIG, "code": "INVALID"}]  # fmt: skip
    variable = _body(update % (", $m: JSON", "$m"), f'{{"id": "{customer["id"]}", "m": {{"n": 18446744073709551616}}}}')
    assert _raw(gql, variable).json() == {"errors": [{"message": WIDE_JSON}]}
    assert gql.calls_since(before) == {}


@pytest.mark.parametrize("number", ["1e999", "-1e999", "1e400"])
def test_numbers_that_overflow_to_infinity_are_refused(gql: GraphQL, number: str) -> None:
    assert _create_raw(gql, f'{{"n": {number}}}')["userErrors"] == [
        {"field": ["input", "metadata", "n"], "message": NOT_FINITE, "code": "INVALID"}]  # fmt: skip
    assert gql.data(LITERAL % number)["customerCreate"]["userErrors"][0]["message"] == NOT_FINITE
    assert gql.upstream_calls() == {}


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(gql: GraphQL, constant: str) -> None:
    response = _raw(gql, _body(CREATE, f'{{"input": {{"email": "nan@gmail.com", "metadata": {{"n": {constant}}}}}}}'))
    assert response.status_code == 400
    assert response.json() == {"errors": [{"message": f"The JSON body has {constant}, which is not JSON."}]}
    assert gql.upstream_calls() == {}


def test_long_digit_strings_and_ordinary_numbers_still_pass(gql: GraphQL) -> None:
    """Nineteen digits anywhere (here in strings) send the body through the exact parser: same answers."""
    payload = _create_raw(gql, '{"id": "12345678901234567890123", "n": 42, "f": 0.1, "neg": -7, "e": 1e3, "t": true}')
    assert payload["userErrors"] == []
    assert payload["customer"]["metadata"] == {"id": "12345678901234567890123", "n": 42, "f": 0.1, "neg": -7, "e": 1000.0, "t": True}
