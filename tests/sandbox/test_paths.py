"""The sandbox decodes paths as Polar's server does: uvicorn percent-decodes the whole path, then Starlette
routes on it, so an encoded slash separates segments and nothing resolves dot segments."""

from __future__ import annotations

import http.client
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from gateway.sandbox.seed import DEMO_TOKEN
from tests.servers import SandboxProcess


def _create(demo: httpx.Client, external_id: str) -> str:
    response = demo.post(
        "/v1/customers/", json={"email": f"{abs(hash(external_id))}@fastmail.com", "external_id": external_id}
    )
    assert response.status_code == 201, response.text
    customer_id: str = response.json()["id"]
    return customer_id


def _raw_get(sandbox: SandboxProcess, target: str) -> tuple[int, Any]:
    """A GET of ``target`` byte for byte: http.client neither normalises nor re-quotes."""
    address = urlsplit(sandbox.url)
    connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=10)
    try:
        connection.request("GET", target, headers={"Authorization": f"Bearer {DEMO_TOKEN}"})
        response = connection.getresponse()
        return response.status, httpx.Response(response.status, content=response.read()).json()
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("external_id", "targets"),
    [
        ("..", ["..", "%2E%2E", "%2e.", ".%2E"]),
        (".", [".", "%2E"]),
        ("%", ["%25"]),
        ("%2E", ["%252E"]),
        ("?x#", ["%3Fx%23"]),
        ("a b+c", ["a%20b+c", "a%20b%2Bc"]),
        ("é", ["%C3%A9", "%c3%a9"]),
    ],
)
def test_a_segment_is_percent_decoded_once_and_dots_are_data(
    demo: httpx.Client, sandbox: SandboxProcess, external_id: str, targets: list[str]
) -> None:
    customer_id = _create(demo, external_id)
    for target in targets:
        status, body = _raw_get(sandbox, f"/v1/customers/external/{target}")
        assert (status, body["id"], body["external_id"]) == (200, customer_id, external_id), target


def test_an_encoded_slash_separates_segments(demo: httpx.Client, sandbox: SandboxProcess) -> None:
    """``a%2Fb`` is ``a/b`` to Starlette: no route has two segments there, so it is FastAPI's 404."""
    _create(demo, "a/b")
    assert _raw_get(sandbox, "/v1/customers/external/a%2Fb") == (404, {"detail": "Not Found"})
    assert _raw_get(sandbox, "/v1/customers/external/a%2fb") == (404, {"detail": "Not Found"})


def test_an_encoded_slash_can_reach_another_route(demo: httpx.Client, sandbox: SandboxProcess) -> None:
    """What a gateway must never send: ``x%2Fstate`` is the state of the customer whose external id is x."""
    customer_id = _create(demo, "x")
    status, body = _raw_get(sandbox, "/v1/customers/external/x%2Fstate")
    assert (status, body["id"], "active_subscriptions" in body) == (200, customer_id, True)
    with sandbox.control() as control:
        (entry,) = control.get("/__sandbox/timeline").json()["requests"][-1:]
    assert (entry["route"], entry["target"]) == (
        "GET /v1/customers/external/{external_id}/state", "/v1/customers/external/x%2Fstate")  # fmt: skip
