"""``_entities`` as routers send it, straight to the gateway: one field per document (Apollo's fetches), or
several aliased fields in one document (Hive Gateway batches a query plan's fetches of one subgraph so).

Each alias must keep what it can: one system's missing credentials fail that system's entities, never the
other system's (``_entities`` is non-null, so an error raised for one whole field nulls the whole response)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gateway.sandbox.seed import DEMO_TOKEN
from tests.graphql_client import GraphQL, error_codes
from tests.servers import GatewayProcess, SandboxProcess
from tests.voucherify.client import CUSTOMER_ROUTE, VoucherifyGraphQL

BATCH = """
query ($customers: [_Any!]!, $members: [_Any!]!) {
  _0: _entities(representations: $customers) { ... on Customer { id externalId voucherify { id } } }
  _1: _entities(representations: $members) { ... on VoucherifyCustomer { id sourceId } }
}
"""
ALONE = """
query ($members: [_Any!]!) { _entities(representations: $members) { ... on VoucherifyCustomer { id sourceId } } }
"""
BY_EXTERNAL_ID = "GET /v1/customers/external/{external_id}"


@pytest.fixture
def client(gateway_server: GatewayProcess, voucherify: SandboxProcess, sandbox: SandboxProcess) -> Iterator[VoucherifyGraphQL]:
    """The Polar demo token and Voucherify's demo keys; both sandboxes reset (``upstream_calls``: Voucherify's)."""
    both = VoucherifyGraphQL(gateway_server.graphql_url, DEMO_TOKEN, voucherify)
    yield both
    both.close()


@pytest.fixture
def people(client: VoucherifyGraphQL, sandbox: SandboxProcess, voucherify: SandboxProcess) -> list[dict[str, Any]]:
    """Three people in both systems: ``{id externalId voucherify { id }}``, read with every credential."""
    page = client.data("{ customers(first: 20, sortKey: CREATED_AT) { nodes { id externalId voucherify { id } } } }")
    chosen = [node for node in page["customers"]["nodes"] if node["voucherify"]][:3]
    assert len(chosen) == 3
    sandbox.reset()
    voucherify.reset()
    return chosen


def _variables(people: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "customers": [{"__typename": "Customer", "externalId": person["externalId"]} for person in people],
        "members": [{"__typename": "VoucherifyCustomer", "sourceId": person["externalId"]} for person in people],
    }


def _members(people: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": person["voucherify"]["id"], "sourceId": person["externalId"]} for person in people]


def test_a_batch_with_every_credential_resolves_both_systems_once_each(
    client: VoucherifyGraphQL, people: list[dict[str, Any]], sandbox: SandboxProcess
) -> None:
    data = client.data(BATCH, _variables(people))
    assert data == {"_0": people, "_1": _members(people)}
    # One document, one set of loaders: each person costs one lookup in each system.
    assert sandbox.stats() == {BY_EXTERNAL_ID: 3}
    assert client.upstream_calls() == {CUSTOMER_ROUTE: 3}


def test_without_voucherify_keys_a_batch_keeps_its_polar_entities(
    client: VoucherifyGraphQL, people: list[dict[str, Any]], sandbox: SandboxProcess
) -> None:
    body = client.with_keys(()).execute(BATCH, _variables(people))
    assert body["data"] == {"_0": [{**person, "voucherify": None} for person in people], "_1": [None, None, None]}
    assert set(error_codes(body)) == {"UNAUTHENTICATED"}
    assert sorted(error["path"] for error in body["errors"]) == sorted(
        [["_0", index, "voucherify"] for index in range(3)] + [["_1", index] for index in range(3)]
    )
    assert sandbox.stats() == {BY_EXTERNAL_ID: 3}
    assert client.upstream_calls() == {}


def test_without_a_polar_token_a_batch_keeps_its_voucherify_entities(
    client: VoucherifyGraphQL, people: list[dict[str, Any]], sandbox: SandboxProcess
) -> None:
    body = client.execute(BATCH, _variables(people), token=None)
    assert body["data"] == {"_0": [None, None, None], "_1": _members(people)}
    assert set(error_codes(body)) == {"UNAUTHENTICATED"}
    assert sorted(error["path"] for error in body["errors"]) == [["_0", index] for index in range(3)]
    assert sandbox.stats() == {}
    assert client.upstream_calls() == {CUSTOMER_ROUTE: 3}


def test_a_lone_entities_field_fails_once_for_a_request_wide_reason(
    client: VoucherifyGraphQL, people: list[dict[str, Any]]
) -> None:
    """Apollo's shape: nothing else in the document to keep, so one error for the field, not one per
    representation."""
    body = client.with_keys(()).execute(ALONE, {"members": _variables(people)["members"]})
    assert body["data"] is None
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert body["errors"][0]["path"] == ["_entities"]
    assert client.upstream_calls() == {}


def test_a_hand_written_document_beside_other_fields_still_fails_once(gql: GraphQL) -> None:
    """Only a router's batch (``_entities`` fields and nothing else) gets an error per representation: a
    refused token beside other root fields is still one error per field (``test_amplification``)."""
    representations = [{"__typename": "Customer", "externalId": f"x{n}"} for n in range(20)]
    query = """query ($r: [_Any!]!) { customer(externalId: "y") { id }
      _entities(representations: $r) { ... on Customer { id } } }"""
    body = gql.execute(query, {"r": representations}, token="not_a_real_token")
    assert set(error_codes(body)) == {"UNAUTHENTICATED"}
    assert len(body["errors"]) == 2
