"""Composition through Hive Gateway's composer (@theguild/federation-composition, the copy
@graphql-hive/gateway composes with; tests/node/compose.mjs), with the loyalty subgraph: the SDL the gateway
serves composes, and so does the schema at every ``federation_version`` up to v2.9; past it the composer
refuses the link (UNKNOWN_FEDERATION_LINK_VERSION), which is why the default is the lowest version."""

from __future__ import annotations

import json
from typing import get_args

import httpx

from gateway.settings import FederationVersion, Settings
from tests.federation.test_link_version import served_sdl, version_of
from tests.node_tools import run_node_script
from tests.servers import GatewayProcess

HIVE_NEWEST = (2, 9)  # the newest federation version the composer knows


def test_hive_composes_the_sdl_the_gateway_serves(gateway_server: GatewayProcess) -> None:
    response = httpx.post(gateway_server.graphql_url, json={"query": "{ _service { sdl } }"}, timeout=30)
    assert response.status_code == 200, response.text
    sdl = response.json()["data"]["_service"]["sdl"]
    default = Settings().federation_version
    assert f'@link(url: "https://specs.apollo.dev/federation/v{default}"' in sdl
    result = run_node_script("compose.mjs", json.dumps({"served": sdl}))["served"]
    assert result["errors"] == []
    supergraph = result["supergraphSdl"]
    for directive in (
        '@join__type(graph: CUSTOMERS, key: "id") @join__type(graph: CUSTOMERS, key: "externalId") '
        '@join__type(graph: LOYALTY, key: "externalId")',
        '@join__type(graph: CUSTOMERS, key: "id") @join__type(graph: CUSTOMERS, key: "sourceId") '
        '@join__type(graph: LOYALTY, key: "sourceId")',
    ):
        assert directive in supergraph
    assert "loyaltyPoints: Int @join__field(graph: LOYALTY)" in supergraph
    assert "loyaltyCardNumber: String @join__field(graph: LOYALTY)" in supergraph


def test_hive_composes_every_federation_version_up_to_2_9_and_refuses_the_newer() -> None:
    versions = get_args(FederationVersion)
    results = run_node_script("compose.mjs", json.dumps({version: served_sdl(version) for version in versions}))
    assert set(results) == set(versions)
    for version in versions:
        errors = results[version]["errors"]
        if version_of(version) <= HIVE_NEWEST:
            assert errors == [], (version, errors)
            assert results[version]["supergraphSdl"]
        else:
            assert [error["code"] for error in errors] == ["UNKNOWN_FEDERATION_LINK_VERSION"], (version, errors)
            assert f"Invalid version v{version} for the federation feature in @link directive" in errors[0]["message"]
    assert any(version_of(version) > HIVE_NEWEST for version in versions)  # the refusal is really exercised
