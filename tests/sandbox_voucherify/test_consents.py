"""The deprecated consents call: 204 on server and client side, 400 for an empty or malformed body, client keys
with an ``Origin`` for ``/client/v1``."""

from __future__ import annotations

import httpx
import pytest

from gateway.sandbox.voucherify.seed import DEMO_APP_ID, DEMO_CLIENT_APP_ID, DEMO_CLIENT_TOKEN
from tests.sandbox_voucherify.openapi import error_body, validate
from tests.servers import SandboxProcess

CLIENT_HEADERS = {
    "X-Client-Application-Id": DEMO_CLIENT_APP_ID,
    "X-Client-Token": DEMO_CLIENT_TOKEN,
    "Origin": "http://localhost:5173",
}


def test_server_side_consents_are_204(demo: httpx.Client) -> None:
    response = demo.put("/v1/customers/crm_00001/consents", json={"cnst_a": True, "cnst_b": False})
    validate(response)
    assert response.status_code == 204
    assert response.content == b""
    unsubscribed = demo.put("/v1/customers/crm_00001/consents", json={"unsubscribed": True})
    validate(unsubscribed)
    assert unsubscribed.status_code == 204


@pytest.mark.parametrize("body", [b"", b"{}", b"[true]", b'{"cnst_a": "yes"}', b'{"marketing": true}', b"{oops"])
def test_empty_or_malformed_consents_are_400(demo: httpx.Client, body: bytes) -> None:
    response = demo.put("/v1/customers/crm_00001/consents", content=body, headers={"Content-Type": "application/json"})
    validate(response)
    error_body(response, 400, "invalid_payload")


def test_empty_payload_message(demo: httpx.Client) -> None:
    body = error_body(demo.put("/v1/customers/crm_00001/consents", json={}), 400, "invalid_payload")
    assert body["details"] == "The payload cannot be empty"


def test_consents_of_an_unknown_customer_are_404(demo: httpx.Client) -> None:
    error_body(demo.put("/v1/customers/nobody/consents", json={"cnst_a": True}), 404, "not_found")


def test_client_side_needs_client_keys_and_an_origin(voucherify: SandboxProcess, demo: httpx.Client) -> None:
    path = f"{voucherify.url}/client/v1/customers/crm_00001/consents"
    response = httpx.put(path, json={"cnst_a": True}, headers=CLIENT_HEADERS)
    validate(response)
    assert response.status_code == 204
    no_origin = {k: v for k, v in CLIENT_HEADERS.items() if k != "Origin"}
    error_body(httpx.put(path, json={"cnst_a": True}, headers=no_origin), 401, "unauthorized")
    error_body(httpx.put(path, json={"cnst_a": True}, headers=dict(demo.headers)), 401, "unauthorized")
    wrong = {**CLIENT_HEADERS, "X-Client-Token": "vf_sandbox_other_client_token"}
    error_body(httpx.put(path, json={"cnst_a": True}, headers=wrong), 401, "unauthorized")
    foreign = {**CLIENT_HEADERS, "Origin": "https://evil.example"}  # an origin the project does not allow
    error_body(httpx.put(path, json={"cnst_a": True}, headers=foreign), 401, "unauthorized")
    server_id = {**CLIENT_HEADERS, "X-Client-Application-Id": DEMO_APP_ID}  # the server app id is not a client's
    error_body(httpx.put(path, json={"cnst_a": True}, headers=server_id), 401, "unauthorized")
