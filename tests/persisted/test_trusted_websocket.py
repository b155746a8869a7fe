"""``trusted_documents_only`` over WebSocket, on both protocols: a subscription whose text is the manifest's runs
(events reach it), any other is answered with an error whose code is DOCUMENT_NOT_TRUSTED, and the socket and
its trusted subscription go on."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from aiohttp import WSMsgType

from gateway.sandbox.seed import DEMO_TOKEN
from tests.live.gateways import Gateways, LiveGateway
from tests.live.helpers import CUSTOMERS_CHANGED, OWN_CUSTOMER_CHANGED, customers, subscribed
from tests.live.ws_client import LEGACY_WS, TRANSPORT_WS
from tests.persisted.harness import write_apollo_manifest
from tests.servers import SandboxProcess

UNTRUSTED = [
    CUSTOMERS_CHANGED.replace("{ customersChanged", "{  customersChanged"),  # the trusted text, one more space
    OWN_CUSTOMER_CHANGED,
    "subscription { customersChanged { type customerId } ",  # unparsable: refused as untrusted, not parsed
]


@pytest.fixture(scope="module")
def gateways(sandbox_server: SandboxProcess) -> Iterator[Gateways]:
    with ExitStack() as stack:
        yield Gateways(sandbox_server, stack)


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("trusted-websocket")
    return write_apollo_manifest(directory / "manifest.json", [CUSTOMERS_CHANGED])


@pytest.fixture
def trusted_gateway(sandbox: SandboxProcess, gateways: Gateways, manifest: Path) -> LiveGateway:
    """A trusted-only gateway whose webhook endpoint the freshly reset sandbox delivers to."""
    return gateways.live({"GATEWAY_TRUSTED_DOCUMENTS": str(manifest), "GATEWAY_TRUSTED_DOCUMENTS_ONLY": "true"})


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.fixture
async def api(sandbox: SandboxProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=sandbox.url, headers={"Authorization": f"Bearer {DEMO_TOKEN}"}, timeout=10
    ) as client:
        yield client


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_only_the_manifests_subscription_runs_over_websocket(
    protocol: str, trusted_gateway: LiveGateway, http: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    customer = (await customers(api, 1))[0]
    async with trusted_gateway.socket(protocol) as socket:
        await socket.init(DEMO_TOKEN)
        for query in UNTRUSTED:
            operation = await socket.subscribe(query)
            errors = await socket.errors(operation)
            assert [error["extensions"]["code"] for error in errors] == ["DOCUMENT_NOT_TRUSTED"], errors
            assert "trusted_documents_only" in errors[0]["message"]
        trusted = await socket.subscribe(CUSTOMERS_CHANGED)
        await subscribed(http, trusted_gateway, socket, trusted, customer)  # events reach it
        refused = await socket.subscribe(UNTRUSTED[1])
        errors = await socket.errors(refused)
        assert [error["extensions"]["code"] for error in errors] == ["DOCUMENT_NOT_TRUSTED"]
        await subscribed(http, trusted_gateway, socket, trusted, customer)  # and still do
        assert set(socket.frames) <= {WSMsgType.TEXT}
