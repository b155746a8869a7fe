"""Malformed requests from the open internet get a clean 400 (or, for credentials, ``UNAUTHENTICATED``):
no 500, no traceback in the answer or the log, no byte of a token anywhere, and no upstream call."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from gateway.http.tokens import MALFORMED, SEVERAL
from gateway.sandbox.seed import DEMO_TOKEN
from tests.raw_http import RawResponse, exchange, request
from tests.servers import GatewayProcess, SandboxProcess, gateway_process

NEEDS_POLAR = "{ customers(first: 1) { totalCount } }"
TOO_DEEP = "The JSON body is nested too deeply."
TOO_WIDE = "The JSON body has an integer out of range: integers must fit in 64 bits."
HEAD_TOO_LONG = {"errors": [{"message": "A request line or header is over 8190 bytes."}]}
HEAD_MALFORMED = {"errors": [{"message": "The request line or headers are malformed."}]}


@pytest.fixture(scope="module")
def gateway(sandbox_server: SandboxProcess) -> Iterator[GatewayProcess]:
    """A gateway of this module's own, so that its output holds only these requests."""
    with gateway_process(sandbox_server.url) as server:
        yield server


def _secret() -> str:
    """A token-shaped secret, different every time, whose bytes must appear nowhere."""
    return f"polar_oat_leakcheck{secrets.token_hex(16)}"


def _assert_nowhere(gateway: GatewayProcess, *secrets_: bytes, answers: list[bytes]) -> None:
    time.sleep(0.3)  # the output is read by a thread
    output = "".join(gateway.output).encode()
    assert b"Traceback" not in output
    for answer in answers:
        assert b"Traceback" not in answer
    for secret in secrets_:
        assert secret not in output
        assert all(secret not in answer for answer in answers)
    assert b"leakcheck" not in output
    assert all(b"leakcheck" not in answer for answer in answers)


def _graphql_body(response: RawResponse) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(response.body)
    return body


# JSON bodies ------------------------------------------------------------------------------------------


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        (f'{{"metadata": {{"a": {_nested(1_100)}}}}}', TOO_DEEP),
        (f'{{"metadata": {{"a": {_nested(40_000)}}}}}', TOO_DEEP),
        ('{"n": 1234567890123456789012345}', TOO_WIDE),  # 25 digits
        ('{"n": ' + "9" * 5_000 + "}", TOO_WIDE),
        ('{"n": 9223372036854775808}', TOO_WIDE),  # 2**63: one over
        ('{"n": -' + "1" * 4_400 + "}", TOO_WIDE),
    ],
    ids=["nested-1100", "nested-40000", "int-25-digits", "int-5000-digits", "int-2**63", "int-minus-4400-digits"],
)
@pytest.mark.parametrize("accept", ["application/json", "application/graphql-response+json"])
def test_json_bodies_over_the_bounds_are_a_clean_400(
    gateway: GatewayProcess, sandbox: SandboxProcess, variables: str, message: str, accept: str
) -> None:
    token = _secret()
    body = f'{{"query": "query($metadata: JSON, $n: Int) {{ __typename }}", "variables": {variables}}}'
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": accept}
    response = httpx.post(gateway.graphql_url, content=body.encode(), headers=headers, timeout=30)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(accept)
    assert response.json() == {"errors": [{"message": message}]}
    assert sandbox.stats() == {}
    _assert_nowhere(gateway, token.encode(), answers=[response.content])


@pytest.mark.parametrize(("variables", "message"), [(_nested(1_100), TOO_DEEP), ("12345678901234567890123", TOO_WIDE)])
def test_the_same_bounds_hold_for_variables_sent_over_get(
    gateway: GatewayProcess, sandbox: SandboxProcess, variables: str, message: str
) -> None:
    url = f"{gateway.graphql_url}?query={quote('query($v: JSON) { __typename }')}&variables={quote(variables)}"
    response = httpx.get(url, headers={"Accept": "application/json"}, timeout=30)
    assert response.status_code == 400
    assert response.json() == {"errors": [{"message": message}]}
    assert sandbox.stats() == {}


def test_wide_looking_digits_in_strings_and_int64_bounds_are_accepted(
    gateway: GatewayProcess, sandbox: SandboxProcess
) -> None:
    """Decoded and executed: with no token the mutation is UNAUTHENTICATED, before any upstream call."""
    mutation = 'mutation($m: JSON) { customerCreate(input: {email: "a@gmail.com", metadata: $m}) { customer { id } } }'
    metadata = {"id": "123456789012345678901234567890", "low": -(2**63), "high": 2**63 - 1}
    response = httpx.post(gateway.graphql_url, json={"query": mutation, "variables": {"m": metadata}}, timeout=30)
    assert response.status_code == 200
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["UNAUTHENTICATED"]
    assert sandbox.stats() == {}


# Headers over 8 KB ------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [9_000, 20_000])
@pytest.mark.parametrize("header", ["Authorization", "X-Forwarded-Token"])
def test_a_header_over_8_kb_is_a_fixed_400_that_echoes_nothing(
    gateway: GatewayProcess, sandbox: SandboxProcess, size: int, header: str
) -> None:
    token = _secret()
    value = f"Bearer {token}{'A' * (size - len(token))}".encode()
    data = request("POST", "/graphql", [("Content-Type", b"application/json"), (header, value)],
                   json.dumps({"query": NEEDS_POLAR}).encode())  # fmt: skip
    response = exchange(gateway.url, data)
    assert response.status == 400
    assert response.headers["content-type"].startswith("application/json")
    assert json.loads(response.body) == HEAD_TOO_LONG
    assert sandbox.stats() == {}
    _assert_nowhere(gateway, token.encode(), b"A" * 64, answers=[response.raw])


# Malformed bearer tokens ------------------------------------------------------------------------------

MALFORMED_TOKENS = {
    "e-acute-utf8": "é".encode(),
    "e-acute-latin1": b"\xe9",
    "space": b" inner",
    "tab": b"\tinner",
    "comma": b",Bearer other",
    "quote": b'"',
}
REFUSED_BY_THE_PARSER = {"control-char": b"\x01", "nul": b"\x00", "del": b"\x7f"}


def _with_token(path: str, authorization: list[bytes], body: bytes = b"") -> bytes:
    headers = [("Authorization", value) for value in authorization]
    if body:
        headers.append(("Content-Type", b"application/json"))
    return request("POST" if body else "GET", path, headers, body)


def _graphql_with(authorization: list[bytes]) -> bytes:
    return _with_token("/graphql", authorization, json.dumps({"query": NEEDS_POLAR}).encode())


@pytest.mark.parametrize("flaw", list(MALFORMED_TOKENS.values()), ids=list(MALFORMED_TOKENS))
def test_a_malformed_bearer_token_is_unauthenticated_without_an_upstream_call(
    gateway: GatewayProcess, sandbox: SandboxProcess, flaw: bytes
) -> None:
    token = _secret().encode()
    value = b"Bearer " + token[:14] + flaw + token[14:]
    graphql = exchange(gateway.url, _graphql_with([value]))
    assert graphql.status == 200
    body = _graphql_body(graphql)
    assert body["data"] is None
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [(MALFORMED, "UNAUTHENTICATED")]
    export = exchange(gateway.url, _with_token("/export/customers.csv", [value]))
    assert export.status == 401
    assert _graphql_body(export)["errors"][0] == {"message": MALFORMED, "extensions": {"code": "UNAUTHENTICATED"}}
    assert sandbox.stats() == {}
    _assert_nowhere(gateway, token[:14], token[14:], answers=[graphql.raw, export.raw])


@pytest.mark.parametrize("flaw", list(REFUSED_BY_THE_PARSER.values()), ids=list(REFUSED_BY_THE_PARSER))
@pytest.mark.parametrize("path", ["/graphql", "/export/customers.csv"])
def test_a_control_character_in_a_header_is_a_fixed_400(
    gateway: GatewayProcess, sandbox: SandboxProcess, flaw: bytes, path: str
) -> None:
    """aiohttp's parser refuses these before any handler sees them; the answer says nothing of the header."""
    token = _secret().encode()
    value = b"Bearer " + token[:14] + flaw + token[14:]
    response = exchange(gateway.url, _graphql_with([value]) if path == "/graphql" else _with_token(path, [value]))
    assert response.status == 400
    assert json.loads(response.body) == HEAD_MALFORMED
    assert sandbox.stats() == {}
    _assert_nowhere(gateway, token[:14], token[14:], answers=[response.raw])


@pytest.mark.parametrize(
    "pair",
    [
        (f"Bearer {DEMO_TOKEN}", f"Bearer {DEMO_TOKEN}"),  # the same twice
        (f"Bearer {DEMO_TOKEN}", "Bearer polar_oat_leakcheck_other"),  # two good-looking ones
        (f"Bearer {DEMO_TOKEN}", "Basic dXNlcjpwYXNz"),  # another scheme beside
    ],
    ids=["same-twice", "two-tokens", "bearer-and-basic"],
)
def test_two_authorization_headers_are_refused_not_picked_from(
    gateway: GatewayProcess, sandbox: SandboxProcess, pair: tuple[str, str]
) -> None:
    values = [value.encode() for value in pair]
    graphql = exchange(gateway.url, _graphql_with(values))
    body = _graphql_body(graphql)
    assert graphql.status == 200
    assert body["data"] is None
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [(SEVERAL, "UNAUTHENTICATED")]
    export = exchange(gateway.url, _with_token("/export/customers.csv", values))
    assert export.status == 401
    assert _graphql_body(export)["errors"][0] == {"message": SEVERAL, "extensions": {"code": "UNAUTHENTICATED"}}
    assert sandbox.stats() == {}
    _assert_nowhere(gateway, DEMO_TOKEN.encode(), answers=[graphql.raw, export.raw])


def test_one_well_formed_token_still_works(gateway: GatewayProcess, sandbox: SandboxProcess) -> None:
    graphql = exchange(gateway.url, _graphql_with([f"bearer  {DEMO_TOKEN}".encode()]))  # any case, 1*SP
    assert _graphql_body(graphql) == {"data": {"customers": {"totalCount": 250}}, "extensions": {"cost": {"requested": 2, "limit": 20000}}}
