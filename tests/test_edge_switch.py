"""The edge's guards subclass aiohttp's server and read its private attributes; with ``edge_guards`` off the
gateway runs aiohttp's stock server. Every ordinary request gets the same answer from both, byte for byte
but for the request id and the date, so an aiohttp upgrade that changed what the guards rely on shows here
(and in tests/test_edge.py, which holds the guards to what they do)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from gateway.sandbox.seed import DEMO_TOKEN
from tests.raw_http import RawResponse, connect, read_response, request
from tests.servers import GatewayProcess, SandboxProcess, gateway_process

AUTH = ("Authorization", f"Bearer {DEMO_TOKEN}".encode())
JSON = ("Content-Type", b"application/json")
VARYING = {"x-request-id", "date"}


def _post(query: str, *headers: tuple[str, bytes]) -> bytes:
    return request("POST", "/graphql", [AUTH, JSON, *headers], json.dumps({"query": query}).encode())


CORPUS: list[bytes] = [
    _post("{ customers(first: 2) { totalCount nodes { id email } } }"),
    _post("{ customers(first: 2) { totalCount } }", ("Accept", b"application/graphql-response+json")),
    _post("{ custmers { id } }", ("Accept", b"application/graphql-response+json")),
    _post('{ customer(id: "not-a-uuid") { id } }'),
    request("POST", "/graphql", [AUTH, JSON], b'[{"query": "{ __typename }"}, {"query": "{ __typename }"}]'),
    request("POST", "/graphql", [AUTH, JSON], b'{"query": '),
    request("GET", "/graphql?query=%7B__typename%7D", [AUTH, ("Accept", b"application/json")]),
    request("GET", "/graphql?query=mutation%7B__typename%7D", [AUTH, ("Accept", b"application/json")]),
    request("GET", "/readyz", []),
    request("GET", "/no-such-page", []),
    request("OPTIONS", "/graphql", [("Origin", b"https://elsewhere.example")]),
    request("GET", "/export/customers.csv", [("Authorization", b"Bearer not_a_real_token")]),
    request("GET", "/export/customers.csv", []),
]


@pytest.fixture(scope="module")
def both(sandbox_server: SandboxProcess) -> Iterator[tuple[GatewayProcess, GatewayProcess]]:
    with gateway_process(sandbox_server.url) as guarded, gateway_process(
        sandbox_server.url, env={"GATEWAY_EDGE_GUARDS": "false"}
    ) as stock:
        yield guarded, stock


def _answers(gateway: GatewayProcess) -> list[RawResponse]:
    """The corpus on one kept-alive connection, as a browser or a router would send it."""
    with connect(gateway.url) as connection:
        answers = []
        for data in CORPUS:
            connection.sendall(data)
            answers.append(read_response(connection))
        return answers


def test_ordinary_requests_are_answered_alike_with_and_without_the_guards(
    both: tuple[GatewayProcess, GatewayProcess], sandbox: SandboxProcess
) -> None:
    guarded, stock = both
    for data, mine, theirs in zip(CORPUS, _answers(guarded), _answers(stock), strict=True):
        what = data.split(b"\r\n", 1)[0]
        assert mine.status == theirs.status, what
        assert {k: v for k, v in mine.headers.items() if k not in VARYING} == {
            k: v for k, v in theirs.headers.items() if k not in VARYING
        }, what
        assert mine.body == theirs.body, what


def test_only_the_guarded_server_refuses_a_malformed_head_without_echoing_it(
    both: tuple[GatewayProcess, GatewayProcess],
) -> None:
    """The one intended difference: aiohttp's own answer echoes the offending header."""
    head = request("GET", "/healthz", [("Authorization", b"Bearer " + b"polar_oat_echo" * 700)])
    guarded, stock = both
    answers = []
    for gateway in (guarded, stock):
        with connect(gateway.url) as connection:
            connection.sendall(head)
            answers.append(read_response(connection))
    assert answers[0].status == answers[1].status == 400
    assert b"polar_oat_echo" not in answers[0].body
    assert b"polar_oat_echo" in answers[1].raw
