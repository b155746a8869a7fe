"""No Voucherify secret or client token in any answer or gateway log line, through every kind of refusal,
on a gateway that logs at DEBUG and prints its spans (every other test of this package checks its own
answers and the session gateway's lines the same way, in conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.sandbox.voucherify.seed import DEMO_APP_ID, DEMO_APP_TOKEN, DEMO_CLIENT_TOKEN, OTHER_APP_TOKEN
from tests import raw_http
from tests.servers import GatewayProcess, SandboxProcess, gateway_process
from tests.voucherify_writes.client import (
    CLIENT_KEYS,
    PREFLIGHT,
    SECRETS,
    SERVER_KEYS,
    Transcript,
    VoucherifyGraphQL,
    answer_within,
    codes,
    multipart_body,
    multipart_head,
    set_faults,
    upload,
)

UPSERT = """mutation { voucherifyCustomerUpsert(input: {sourceId: "crm_secret", name: "S"}) {
  customer { id } userErrors { field message code } } }"""
BULK = 'mutation { voucherifyCustomersBulkUpdate(customers: [{sourceId: "crm_s"}]) { asyncAction { id } } }'
CONSENTS = 'mutation { voucherifyCustomerConsentsUpdate(id: "cust_x", unsubscribed: true) { updated } }'


@pytest.fixture(scope="module")
def chatty_gateway(sandbox_server: SandboxProcess, voucherify_server: SandboxProcess,
                   transcript: Transcript) -> Iterator[GatewayProcess]:  # fmt: skip
    env = {"GATEWAY_LOG_LEVEL": "DEBUG", "GATEWAY_TRACING": "console", "GATEWAY_BREAKER_FAILURE_THRESHOLD": "1000"}
    with gateway_process(sandbox_server.url, env=env, voucherify_url=voucherify_server.url) as server:
        transcript.gateways.append(server)
        yield server
        transcript.gateways.remove(server)


@pytest.fixture
def vf(
    chatty_gateway: GatewayProcess, voucherify: SandboxProcess, transcript: Transcript
) -> Iterator[VoucherifyGraphQL]:
    client = VoucherifyGraphQL(chatty_gateway.graphql_url, voucherify, transcript)
    yield client
    client.close()


def test_refusals_never_echo_a_secret(
    chatty_gateway: GatewayProcess, vf: VoucherifyGraphQL, voucherify: SandboxProcess, transcript: Transcript
) -> None:
    lines_before = len(chatty_gateway.output)
    wrong_secret = {**SERVER_KEYS, "X-Voucherify-App-Token": OTHER_APP_TOKEN}
    malformed = {"X-Voucherify-App-Id": DEMO_APP_ID, "X-Voucherify-App-Token": f"{DEMO_APP_TOKEN} and more"}
    # Refused by Voucherify (401), by the gateway (keys of the wrong kind or shape), and upstream failures.
    assert codes(vf.execute(UPSERT, headers=wrong_secret)) == ["UNAUTHENTICATED"]
    assert codes(vf.execute(CONSENTS, headers={**CLIENT_KEYS, "Origin": "https://evil.example"})) == ["UNAUTHENTICATED"]
    assert codes(vf.execute(BULK, headers=CLIENT_KEYS)) == ["FORBIDDEN"]
    assert codes(vf.execute(UPSERT, headers=malformed)) == ["UNAUTHENTICATED"]
    duplicated = vf.http.post(vf.url, json={"query": UPSERT}, headers=[
        ("X-Voucherify-App-Id", DEMO_APP_ID), ("X-Voucherify-App-Token", DEMO_APP_TOKEN),
        ("X-Voucherify-App-Token", DEMO_APP_TOKEN)])  # fmt: skip
    transcript.record(duplicated)
    assert codes(duplicated.json()) == ["UNAUTHENTICATED"]
    set_faults(voucherify, error_rate=1.0, error_status=429, retry_after=3)
    assert codes(vf.execute(BULK)) == ["RATE_LIMITED"]
    set_faults(voucherify, error_rate=0.0, drop_rate=1.0)
    assert codes(vf.execute(BULK)) == ["UPSTREAM_UNAVAILABLE"]
    set_faults(voucherify, drop_rate=0.0, error_rate=1.0, error_status=503)
    assert codes(vf.execute(UPSERT)) == ["UPSTREAM_UNAVAILABLE"]
    set_faults(voucherify, error_rate=0.0)
    # Uploads refused at the edge, with every kind of key.
    url = chatty_gateway.graphql_url
    assert upload(url, b"Source_id\ncrm_s\n", SERVER_KEYS, transcript).status_code == 400
    assert upload(url, b"Source_id\ncrm_s\n", {**PREFLIGHT, **CLIENT_KEYS}, transcript).status_code == 401
    assert upload(url, b"Source_id\ncrm_s\n", {**PREFLIGHT, **wrong_secret}, transcript).json()["errors"]
    body = multipart_body(b"Source_id\ncrm_s\n")
    with raw_http.connect(url, timeout=15) as connection:
        connection.sendall(multipart_head({**PREFLIGHT, **SERVER_KEYS}, None) + b"5\r\nhello\r\n")
        assert answer_within(connection, 15, transcript)[0].status == 411
    with raw_http.connect(url, timeout=15) as connection:
        connection.sendall(multipart_head({**PREFLIGHT, **SERVER_KEYS}, 2**31) + body)
        assert answer_within(connection, 15, transcript)[0].status == 413

    assert len(chatty_gateway.output) > lines_before  # it did log these (at DEBUG, and spans)
    assert transcript.leaks() == []


def test_the_leak_check_sees_a_secret_where_there_is_one() -> None:
    for secret in (DEMO_APP_TOKEN, DEMO_CLIENT_TOKEN, OTHER_APP_TOKEN):
        assert secret in SECRETS
        assert Transcript(answers=[f'{{"message": "bad key {secret}"}}']).leaks() != []
    assert Transcript(answers=[f"X-Voucherify-App-Id: {DEMO_APP_ID}"]).leaks() == []  # ids are no secret
