"""The client's identity through a real gateway logging every request (DEBUG): ``apollographql-client-name`` and
``-version`` as Apollo Client's ``clientAwareness`` sends them are counted in ``gateway_client_requests_total`` and
written on the request's access line; a hostile value (line breaks, control characters, 8 to 10 KB, non-ASCII,
text that would close the JSON line) is refused at the edge or becomes ``invalid``, and never reaches the
output; past ``MAX_CLIENTS`` pairs, new ones are counted as ``other``."""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gateway.observability.clients import MAX_CLIENTS
from gateway.sandbox.seed import DEMO_TOKEN
from tests import raw_http
from tests.persisted.harness import TRUST_ENV, metric, metrics, proven
from tests.servers import GatewayProcess, SandboxProcess, gateway_process

MARK = "HOSTILEMARK"  # in every hostile value: it must appear nowhere in the gateway's output
BODY = json.dumps({"query": "{ __typename }"}).encode()
_request_ids = itertools.count(1)
AUTH = {"Authorization": f"Bearer {DEMO_TOKEN}"}


@pytest.fixture(scope="module")
def logging_gateway(sandbox_server: SandboxProcess, voucherify_server: SandboxProcess) -> Iterator[GatewayProcess]:
    env = {"GATEWAY_LOG_LEVEL": "DEBUG", **TRUST_ENV}  # an access line for every request, healthy ones included
    with gateway_process(sandbox_server.url, env=env, voucherify_url=voucherify_server.url) as server:
        yield proven(server, sandbox_server, voucherify_server)  # a client's name gets labels of its own when its caller's credentials were accepted


def access_line(gateway: GatewayProcess, request_id: str, within: float = 5.0) -> dict[str, Any]:
    """The request's access line, once the thread reading the gateway's output has it."""
    deadline = time.monotonic() + within
    while True:
        lines = [json.loads(line) for line in list(gateway.output) if request_id in line and line.startswith("{")]
        found = [line for line in lines if line.get("logger") == "gateway.access"]
        if found or time.monotonic() > deadline:
            assert len(found) == 1, lines
            line: dict[str, Any] = found[0]
            return line
        time.sleep(0.01)


def send_raw(gateway: GatewayProcess, name: bytes, version: bytes) -> tuple[int, str]:
    """A POST whose client headers are these bytes exactly; its status and the request id it carried."""
    request_id = f"pq-client-{next(_request_ids)}"
    data = raw_http.request(
        "POST",
        "/graphql",
        [
            ("Content-Type", b"application/json"),
            ("Authorization", f"Bearer {DEMO_TOKEN}".encode()),
            ("X-Request-Id", request_id.encode()),
            ("apollographql-client-name", name),
            ("apollographql-client-version", version),
        ],
        BODY,
    )
    return raw_http.exchange(gateway.url, data).status, request_id


def test_a_clients_identity_is_counted_and_written_on_its_access_line(logging_gateway: GatewayProcess) -> None:
    labels = 'client="web-shop",version="4.2.0+build.7"'
    before = metric(logging_gateway, "gateway_client_requests_total", labels)
    headers = {"apollographql-client-name": "web-shop", "apollographql-client-version": "4.2.0+build.7"}
    for number in range(3):
        request_id = f"pq-web-shop-{number}"
        response = httpx.post(
            logging_gateway.graphql_url,
            json={"query": "{ __typename }"},
            headers={**headers, **AUTH, "X-Request-Id": request_id},
        )
        assert response.status_code == 200
        line = access_line(logging_gateway, request_id)
        assert (line["client"], line["client_version"]) == ("web-shop", "4.2.0+build.7")
        assert line["message"].endswith("client=web-shop/4.2.0+build.7")
    assert metric(logging_gateway, "gateway_client_requests_total", labels) == before + 3


def test_a_request_without_an_identity_is_unknown(logging_gateway: GatewayProcess) -> None:
    labels = 'client="unknown",version="unknown"'
    before = metric(logging_gateway, "gateway_client_requests_total", labels)
    response = httpx.post(logging_gateway.graphql_url, json={"query": "{ __typename }"},
                          headers={**AUTH, "X-Request-Id": "pq-anonymous-client"})  # fmt: skip
    assert response.status_code == 200
    line = access_line(logging_gateway, "pq-anonymous-client")
    assert (line["client"], line["client_version"]) == ("unknown", "unknown")
    assert metric(logging_gateway, "gateway_client_requests_total", labels) >= before + 1


def test_identity_is_only_on_graphql_lines(logging_gateway: GatewayProcess) -> None:
    response = httpx.get(f"{logging_gateway.url}/healthz", headers={"X-Request-Id": "pq-health",
                         "apollographql-client-name": "web-shop"})  # fmt: skip
    assert response.status_code == 200
    assert "client" not in access_line(logging_gateway, "pq-health")


ACCEPTED_AS_INVALID = [
    MARK.encode() + b"Z" * 8000,  # long, within aiohttp's 8190 bytes a header
    f"wéb-{MARK}-ünïcödé".encode(),  # UTF-8
    f"web-{MARK}-ø".encode("latin-1"),  # a byte no UTF-8 reader takes
    f"web\t{MARK}".encode(),  # a tab is allowed in a header value, not in a client's name
    f'web"}},{{"level":"ERROR","message":"{MARK}'.encode(),  # would close the JSON line if written raw
    f"web {MARK} ".encode() + b"x" * 70,  # plain characters, too many
]
REFUSED_AT_THE_EDGE = [
    f"web\n{MARK}: 1".encode(),
    f"web\r{MARK}".encode(),
    f"web\x00{MARK}".encode(),
    f"web\x1b[31m{MARK}".encode(),
    MARK.encode() + b"Z" * 10_240,  # over 8190 bytes: the head is refused
]


@pytest.mark.parametrize("value", range(len(ACCEPTED_AS_INVALID)))
def test_a_hostile_value_that_reaches_the_gateway_is_invalid_and_never_written(
    logging_gateway: GatewayProcess, value: int
) -> None:
    hostile = ACCEPTED_AS_INVALID[value]
    invalid_name = 'client="invalid",version="1.0"'
    before = metric(logging_gateway, "gateway_client_requests_total", invalid_name)
    status, request_id = send_raw(logging_gateway, hostile, b"1.0")
    assert status == 200
    line = access_line(logging_gateway, request_id)
    assert (line["client"], line["client_version"]) == ("invalid", "1.0")
    status, request_id = send_raw(logging_gateway, b"web-shop", hostile)
    assert status == 200
    line = access_line(logging_gateway, request_id)
    assert (line["client"], line["client_version"]) == ("web-shop", "invalid")
    assert metric(logging_gateway, "gateway_client_requests_total", invalid_name) == before + 1
    assert_never_written(logging_gateway)


@pytest.mark.parametrize("value", range(len(REFUSED_AT_THE_EDGE)))
def test_a_hostile_value_that_breaks_the_head_is_refused_at_the_edge_and_never_written(
    logging_gateway: GatewayProcess, value: int
) -> None:
    status, _ = send_raw(logging_gateway, REFUSED_AT_THE_EDGE[value], b"1.0")
    assert status == 400
    assert_never_written(logging_gateway)


def test_a_line_break_in_a_value_ends_it_and_what_follows_is_another_header_never_written(
    logging_gateway: GatewayProcess,
) -> None:
    status, request_id = send_raw(logging_gateway, f"web\r\nX-{MARK}: 1".encode(), b"1.0")
    assert status == 200
    line = access_line(logging_gateway, request_id)
    assert (line["client"], line["client_version"]) == ("web", "1.0")
    assert_never_written(logging_gateway)


def assert_never_written(gateway: GatewayProcess) -> None:
    output = "".join(gateway.output)
    assert MARK not in output
    assert MARK.lower() not in output.lower()
    assert "Z" * 64 not in output
    assert "ünïcödé" not in output
    assert "\\u00fc" not in output
    assert MARK not in metrics(gateway)


def test_past_max_clients_pairs_new_ones_are_counted_as_other(logging_gateway: GatewayProcess) -> None:
    other_before = metric(logging_gateway, "gateway_client_requests_total", 'client="other",version="other"')
    with httpx.Client(timeout=10) as client:
        for number in range(MAX_CLIENTS + 20):
            headers = {"apollographql-client-name": f"bounded-{number}", "apollographql-client-version": "1"}
            assert client.post(logging_gateway.graphql_url, json={"query": "{ __typename }"},
                               headers={**headers, **AUTH}).status_code == 200  # fmt: skip
    pairs = set(re.findall(r'^gateway_client_requests_total\{client="([^"]*)",version="([^"]*)"\}',
                           metrics(logging_gateway), re.MULTILINE))  # fmt: skip
    assert len(pairs - {("other", "other")}) == MAX_CLIENTS
    assert metric(logging_gateway, "gateway_client_requests_total", 'client="other",version="other"') >= (
        other_before + 20
    )


def test_a_made_up_token_cannot_take_a_clients_labels(logging_gateway: GatewayProcess) -> None:
    """Its request is counted, under ``other`` when its pair is new: only callers an upstream accepted add pairs."""
    other = 'client="other",version="other"'
    before = metric(logging_gateway, "gateway_client_requests_total", other)
    headers = {"apollographql-client-name": "squatter", "apollographql-client-version": "6.6.6",
               "Authorization": "Bearer polar_oat_made_up_token_0123456789"}  # fmt: skip
    response = httpx.post(logging_gateway.graphql_url, json={"query": "{ customers(first: 1) { totalCount } }"},
                          headers=headers)  # fmt: skip
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert metric(logging_gateway, "gateway_client_requests_total", other) == before + 1
    assert 'client="squatter"' not in metrics(logging_gateway)
