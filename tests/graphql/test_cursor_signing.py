"""Signed cursors against real servers: forged, tampered, out-of-range and foreign cursors are clear
BAD_USER_INPUT errors naming the argument, with no upstream call; walks across pages still work."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest

from gateway.graphql.pagination import MAX_POSITION
from gateway.sandbox.seed import DEMO_TOKEN
from tests.graphql_client import GraphQL, error_codes
from tests.servers import GatewayProcess, SandboxProcess, gateway_process
from tests.unit.test_cursors import signed

SECRET = "k" * 40
WARNING = "cursor_secret is not set"
PAGE = "query($after: String) { customers(first: 7, after: $after) { pageInfo { endCursor } nodes { id } } }"
BACK = "query($before: String) { customers(last: 7, before: $before) { pageInfo { startCursor } nodes { id } } }"


@pytest.fixture(scope="module")
def keyed_server(sandbox_server: SandboxProcess) -> Iterator[GatewayProcess]:
    """A second deployment on the same sandbox, with a known cursor secret."""
    with gateway_process(sandbox_server.url, env={"GATEWAY_CURSOR_SECRET": SECRET}) as server:
        yield server


@pytest.fixture
def keyed(keyed_server: GatewayProcess, sandbox: SandboxProcess) -> Iterator[GraphQL]:
    client = GraphQL(keyed_server.graphql_url, DEMO_TOKEN, sandbox)
    yield client
    client.close()


def _fingerprint(gql: GraphQL) -> str:
    """The listing's fingerprint, read from a cursor the gateway issued (it is not secret, only signed)."""
    cursor = gql.data(PAGE)["customers"]["pageInfo"]["endCursor"]
    return base64.urlsafe_b64decode(cursor)[:-17].decode().split(":")[1]


def _refused(gql: GraphQL, argument: str, cursor: str) -> str:
    before = gql.upstream_calls()
    body = gql.execute(PAGE if argument == "after" else BACK, {argument: cursor})
    assert body["data"] is None
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["argument"] == argument
    assert gql.calls_since(before) == {}
    message: str = body["errors"][0]["message"]
    return message


@pytest.mark.parametrize("argument", ["after", "before"])
def test_a_tampered_cursor_is_refused(gql: GraphQL, argument: str) -> None:
    cursor = gql.data(PAGE)["customers"]["pageInfo"]["endCursor"]
    raw = bytearray(base64.urlsafe_b64decode(cursor))
    raw[-3] ^= 0x40
    assert "is not a cursor this API issued" in _refused(gql, argument, base64.urlsafe_b64encode(raw).decode())


@pytest.mark.parametrize("argument", ["after", "before"])
def test_a_forged_position_of_ten_to_the_21_is_refused(gql: GraphQL, argument: str) -> None:
    print_ = _fingerprint(gql)
    for forged in (
        base64.urlsafe_b64encode(f"pos1:{print_}:{10**21}".encode()).decode(),  # the unsigned form, once accepted
        base64.urlsafe_b64encode(f"pos2:{print_}:{10**21}".encode() + b"." + bytes(16)).decode(),
    ):
        assert f"'{argument}' is not a cursor this API issued" in _refused(gql, argument, forged)


def test_signed_but_out_of_range_or_not_ascii_positions_are_refused(keyed: GraphQL) -> None:
    """Even with the secret, a position is ASCII digits up to MAX_POSITION: Arabic-Indic ones are refused."""
    print_ = _fingerprint(keyed)
    for digits in ("\u0661\u0660", "\u06f1\u06f2", "\uff11\uff12"):
        assert "is not a cursor this API issued" in _refused(keyed, "after", signed(f"pos2:{print_}:{digits}".encode(), SECRET.encode()))
    for position in (MAX_POSITION + 1, 10**21):
        message = _refused(keyed, "before", signed(f"pos2:{print_}:{position}".encode(), SECRET.encode()))
        assert f"'before' points past position {MAX_POSITION:,}" in message
    forged_ok = signed(f"pos2:{print_}:9".encode(), SECRET.encode())  # what only the secret's holder can make
    assert len(keyed.data(PAGE, {"after": forged_ok})["customers"]["nodes"]) == 7


def test_a_cursor_from_another_deployment_is_refused(gql: GraphQL, keyed: GraphQL) -> None:
    theirs = keyed.data(PAGE)["customers"]["pageInfo"]["endCursor"]
    ours = gql.data(PAGE)["customers"]["pageInfo"]["endCursor"]
    assert theirs != ours
    assert "'after' is not a cursor this API issued" in _refused(gql, "after", theirs)
    assert "'after' is not a cursor this API issued" in _refused(keyed, "after", ours)


@pytest.mark.parametrize("client", ["gql", "keyed"])
def test_walks_forwards_and_backwards_still_work(request: pytest.FixtureRequest, client: str) -> None:
    gql: GraphQL = request.getfixturevalue(client)
    total = gql.data("{ customers(first: 1) { totalCount } }")["customers"]["totalCount"]
    forwards: list[str] = []
    after: str | None = None
    while len(forwards) < total:
        connection: dict[str, Any] = gql.data(PAGE, {"after": after})["customers"]
        forwards += [node["id"] for node in connection["nodes"]]
        after = connection["pageInfo"]["endCursor"]
    backwards: list[str] = []
    before: str | None = None
    while len(backwards) < total:
        connection = gql.data(BACK, {"before": before})["customers"]
        backwards = [node["id"] for node in connection["nodes"]] + backwards
        before = connection["pageInfo"]["startCursor"]
    assert forwards == backwards
    assert len(set(forwards)) == total == 250


def test_a_missing_secret_is_warned_about_once_and_a_set_one_never(
    gateway_server: GatewayProcess, keyed_server: GatewayProcess
) -> None:
    assert sum(WARNING in line for line in gateway_server.output) == 1
    assert not any(WARNING in line for line in keyed_server.output)
    assert not any(SECRET in line for line in keyed_server.output)
