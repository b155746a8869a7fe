"""With ``trusted_documents_only``, two callers are not clients of the manifest: the federation router, whose
query planner writes its documents (it sends ``router_secret``, and safelists at its own edge), and GraphiQL,
which needs introspection and documents typed by hand (it is not served at all). And a subscription may name
its manifest document by id, as Apollo's links send it beside their own printing of the text."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.graphql.federation import ROUTER_SECRET_HEADER
from gateway.sandbox.seed import DEMO_TOKEN
from tests.live.ws_client import connect
from tests.servers import GatewayProcess, gateway_process

TRUSTED = "query Count { customers(first: 1) { totalCount } }"
FOLLOW = "subscription Follow { customersChanged { type customerId } }"
ROUTER_SECRET = "router-secret-for-the-tests-0123456789"
AUTH = {"Authorization": f"Bearer {DEMO_TOKEN}", "Accept": "application/graphql-response+json"}


@pytest.fixture(scope="module")
def trusted_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    manifest = tmp_path_factory.mktemp("manifest") / "persisted_queries.json"
    manifest.write_text(json.dumps({"count-1": TRUSTED, "follow-1": FOLLOW}))  # Relay's format
    env = {
        "GATEWAY_TRUSTED_DOCUMENTS": str(manifest),
        "GATEWAY_TRUSTED_DOCUMENTS_ONLY": "true",
        "GATEWAY_ROUTER_SECRET": ROUTER_SECRET,
    }
    with gateway_process(None, env=env) as gateway:
        yield gateway


def test_the_router_with_its_secret_runs_the_documents_its_planner_writes(trusted_only: GatewayProcess) -> None:
    entities = '{ _service { sdl } }'
    refused = httpx.post(trusted_only.graphql_url, json={"query": entities}, headers=AUTH)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"
    wrong = httpx.post(trusted_only.graphql_url, json={"query": entities},
                       headers={**AUTH, ROUTER_SECRET_HEADER: "not-the-secret"})  # fmt: skip
    assert wrong.json()["errors"][0]["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"
    routed = httpx.post(trusted_only.graphql_url, json={"query": entities},
                        headers={**AUTH, ROUTER_SECRET_HEADER: ROUTER_SECRET})  # fmt: skip
    assert routed.status_code == 200
    assert "type Customer" in routed.json()["data"]["_service"]["sdl"]


def test_the_manifest_documents_run_for_everyone_else(trusted_only: GatewayProcess) -> None:
    by_id = httpx.post(trusted_only.graphql_url, json={"documentId": "count-1"}, headers=AUTH)
    assert by_id.json()["data"]["customers"]["totalCount"] == 250
    by_text = httpx.post(trusted_only.graphql_url, json={"query": TRUSTED}, headers=AUTH)
    assert by_text.json() == by_id.json()


def test_graphiql_is_not_served(trusted_only: GatewayProcess) -> None:
    page = httpx.get(trusted_only.graphql_url, headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert "graphiql" not in page.text.lower()
    assert httpx.get(f"{trusted_only.url}/graphiql/start.js").status_code == 404


def test_a_manifest_that_cannot_be_read_stops_the_start(tmp_path: Path) -> None:
    broken = tmp_path / "manifest.json"
    broken.write_text('{"format": "apollo-persisted-query-manifest", "version": 2, "operations": []}')
    with pytest.raises(RuntimeError) as failed, gateway_process(None, env={"GATEWAY_TRUSTED_DOCUMENTS": str(broken)}):
        pass
    assert 'invalid settings: trusted_documents: an Apollo manifest needs "format"' in str(failed.value)
    assert '"version": 1' in str(failed.value)


def _subscribers(gateway: GatewayProcess) -> float:
    metrics = httpx.get(f"{gateway.url}/metrics").text
    found = re.search(r"^gateway_live_subscribers (\S+)$", metrics, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def test_a_subscription_runs_the_manifest_text_its_id_names(trusted_only: GatewayProcess) -> None:
    reprinted = "subscription Follow {\n  customersChanged {\n    type\n    customerId\n  }\n}"  # not byte for byte
    before = _subscribers(trusted_only)
    async with connect(trusted_only.graphql_url) as socket:
        await socket.init(DEMO_TOKEN)
        await socket.send({"id": "ad-hoc", "type": "subscribe", "payload": {"query": reprinted}})
        refused = await socket.errors("ad-hoc")
        assert refused[0]["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"
        unknown = {"persistedQuery": {"version": 1, "sha256Hash": "follow-2"}}
        await socket.send({"id": "unknown", "type": "subscribe", "payload": {"query": reprinted, "extensions": unknown}})
        assert (await socket.errors("unknown"))[0]["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"
        named = {"persistedQuery": {"version": 1, "sha256Hash": "follow-1"}}
        await socket.send({"id": "named", "type": "subscribe", "payload": {"query": reprinted, "extensions": named}})
        for _ in range(50):  # the subscription starts once its first check is done; bounded: 5 s
            if _subscribers(trusted_only) == before + 1:
                break
            await asyncio.sleep(0.1)
        assert _subscribers(trusted_only) == before + 1
        assert [m for m in socket.received if m.get("id") == "named"] == []  # no error for it
