"""``upstream_transport``: the aiohttp pool (``ExactUrlTransport``, which sets private switches of aiohttp's
session) against httpx's own, the stock path. On a dropped connection both must make exactly the attempts the
Transport decides: aiohttp re-sent idempotent requests by itself, doubling every attempt and repeating a
DELETE whose outcome was unknown."""

from __future__ import annotations

import httpx
import pytest

from gateway.sandbox.voucherify.seed import DEMO_APP_ID, DEMO_APP_TOKEN
from tests.conftest import MANY_NEW_DOCUMENTS
from tests.servers import NO_FAULTS, SandboxProcess, gateway_process

HEADERS = {"X-Voucherify-App-Id": DEMO_APP_ID, "X-Voucherify-App-Token": DEMO_APP_TOKEN}


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
def test_each_transport_makes_exactly_the_attempts_the_transport_decides(
    transport: str, sandbox: SandboxProcess, voucherify: SandboxProcess
) -> None:
    env = {**MANY_NEW_DOCUMENTS, "GATEWAY_UPSTREAM_TRANSPORT": transport, "GATEWAY_RETRY_ATTEMPTS": "3",
           "GATEWAY_RETRY_BACKOFF_S": "0", "GATEWAY_BREAKER_FAILURE_THRESHOLD": "1000"}  # fmt: skip
    with gateway_process(sandbox.url, env=env, voucherify_url=voucherify.url) as gateway, voucherify.control() as control:
        try:
            control.post("/__sandbox/faults", json={**NO_FAULTS, "drop_rate": 1.0}).raise_for_status()
            read = 'query { voucherifyCustomer(sourceId: "crm_00001") { id } }'
            httpx.post(gateway.graphql_url, json={"query": read}, headers=HEADERS, timeout=30)
            reads = voucherify.stats()
            control.post("/__sandbox/faults", json={**NO_FAULTS, "drop_rate": 1.0, "methods": ["DELETE"]})
            write = 'mutation { voucherifyCustomerDelete(sourceId: "crm_00001") { deletedCustomerId } }'
            httpx.post(gateway.graphql_url, json={"query": write}, headers=HEADERS, timeout=30)
            writes = voucherify.stats()
        finally:
            control.post("/__sandbox/faults", json=NO_FAULTS).raise_for_status()
    assert reads == {"GET /v1/customers/{customer_id}": 3}  # a read: three attempts, no more
    # The delete's lookup is answered; the DELETE itself is dropped, and never repeated.
    assert writes == {"GET /v1/customers/{customer_id}": 4, "DELETE /v1/customers/{customer_id}": 1}
