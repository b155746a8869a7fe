"""Every GraphQL example and every ``curl`` line of README.md runs, as written, against the gateway and its
sandboxes: no GraphQL error, no userError, every HTTP answer a success. Placeholders written ``"…"`` (an id
the reader has at hand), ``"aa_…"`` (an async action the reader has scheduled) and the elided cursors
``"cG9zMjo..."`` and ``"bWFyazE6..."`` are the only things filled in.

Credentials: every GraphQL example is sent with the Polar demo token; one that names Voucherify, or a mutation
of both systems (``BOTH_SYSTEMS``), also with the Voucherify demo server keys, or, when the comment above it
says "client keys", with the client keys and the browser's Origin instead. A ``curl`` line sends what it says; ``customers.csv`` is the README's ```csv block,
in the directory the lines run in."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shlex
import subprocess
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from graphql import OperationDefinitionNode, parse, print_ast

from gateway.sandbox.seed import DEMO_TOKEN
from gateway.sandbox.voucherify.seed import DEMO_APP_ID, DEMO_APP_TOKEN, DEMO_CLIENT_APP_ID, DEMO_CLIENT_TOKEN
from tests.graphql_client import GRAPHQL_RESPONSE, GraphQL
from tests.servers import GatewayProcess, SandboxProcess, voucherify_sandbox_process

ROOT = Path(__file__).parents[2]
README = (ROOT / "README.md").read_text()
GRAPHQL_BLOCKS = re.findall(r"^```graphql\n(.*?)^```", README, flags=re.S | re.M)
SHELL_BLOCKS = re.findall(r"^```sh\n(.*?)^```", README, flags=re.S | re.M)
CSV_BLOCKS = re.findall(r"^```csv\n(.*?)^```", README, flags=re.S | re.M)
ROUTER_ONLY = ("loyaltyPoints", "loyaltyCards")  # the federation example runs on the supergraph (tests/federation/)
SESSION_TOKEN_ONLY = ("customerPortal {", "customerPortalOrderUpdate(")  # sent with a customer session token
CLIENT_KEYS = "client keys"  # in the comment above an example: sent with Voucherify's client keys and an Origin
ORIGIN = "http://localhost:5173"  # an origin the Voucherify sandbox's Demo project allows
VOUCHERIFY_FIELDS = sorted(set(re.findall(r"^  (voucherify\w+)\(", (ROOT / "schema.graphql").read_text(), flags=re.M)))
MULTIPART_ONLY = ("voucherifyCustomersImport",)  # an upload: a curl line, not a JSON GraphQL example
BOTH_SYSTEMS = ("customerErase(",)  # needs the Voucherify keys without naming Voucherify
ELIDED_CURSOR = re.compile(r',?\s*(after|before):\s*"[A-Za-z0-9_-]+\.\.\."')
SCHEDULED = 'mutation { voucherifyCustomersMetadataBulkUpdate(sourceIds: ["usr_demo_00083"], metadata: {seen: true}) ' \
            "{ asyncAction { id } userErrors { code } } }"  # fmt: skip


def _operations() -> list[tuple[str, bool]]:
    """Each operation of the README's GraphQL blocks, and whether the comment above it says client keys."""
    found = []
    for block in GRAPHQL_BLOCKS:
        previous_end = 0
        for definition in parse(block).definitions:
            assert isinstance(definition, OperationDefinitionNode)
            assert definition.loc is not None
            above = block[previous_end : definition.loc.start].splitlines()
            if previous_end:  # the rest of the previous operation's last line is not above this one
                above = above[1:]
            previous_end = definition.loc.end
            comment = " ".join(line for line in above if line.strip().startswith("#"))
            text = print_ast(definition)
            if not any(word in text for word in ROUTER_ONLY):
                found.append((text, CLIENT_KEYS in comment.lower()))
    return found


def _curl_lines() -> list[str]:
    lines = []
    for block in SHELL_BLOCKS:
        joined = block.replace("\\\n", " ")
        lines += [line.split("  #")[0].strip() for line in joined.splitlines() if line.strip().startswith("curl ")]
    return lines


ALL_OPERATIONS = _operations()
OPERATIONS = [(text, keys) for text, keys in ALL_OPERATIONS if not text.startswith("subscription")]
SUBSCRIPTIONS = [text for text, _ in ALL_OPERATIONS if text.startswith("subscription")]
CURLS = _curl_lines()


def test_the_readme_has_examples_of_every_kind() -> None:
    text = "\n".join(operation for operation, _ in ALL_OPERATIONS)
    for needle in ("customerCreate", "customerUpdate", "customerDelete", "customerSessionCreate", "customerPortal",
                   "customerPortalOrderUpdate", "customers(", "customer(", "customersChanged", "customerChanged("):  # fmt: skip
        assert needle in text, needle
    assert any("/graphql" in line for line in CURLS)
    assert len(VOUCHERIFY_FIELDS) >= 11, VOUCHERIFY_FIELDS
    for field in VOUCHERIFY_FIELDS:  # each Voucherify operation both as GraphQL and as curl
        assert any(f"{field}(" in line for line in CURLS), field
        if field not in MULTIPART_ONLY:
            assert f"{field}(" in text, field
    for argument in ("voucherifyCustomer(id:", "voucherifyCustomer(sourceId:", "segments {", "activity("):
        assert argument in text, argument
    for joined in ("voucherify {", "customer {", "customerLoyaltyEnroll(", "customerErase("):  # both systems
        assert joined in text, joined
        assert any(joined in line for line in CURLS), joined
    client_side = [operation for operation, client in OPERATIONS if client]
    assert client_side, "no example is sent with client keys"
    assert all("voucherifyCustomerConsentsUpdate" in operation for operation in client_side), client_side
    assert len(CSV_BLOCKS) == 1, "one customers.csv for the upload"
    assert any("-F 0=@customers.csv" in line for line in CURLS)


def _session_token(gql: GraphQL) -> str:
    session = gql.data('mutation { customerSessionCreate(externalCustomerId: "usr_demo_00248") '
                       "{ customerSession { token } } }")  # fmt: skip
    token: str = session["customerSessionCreate"]["customerSession"]["token"]
    return token


def _headers(operation: str, token: str | None, client_keys: bool) -> dict[str, str]:
    headers = {"Accept": GRAPHQL_RESPONSE, "Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if client_keys:
        headers |= {"X-Voucherify-Client-Id": DEMO_CLIENT_APP_ID, "X-Voucherify-Client-Token": DEMO_CLIENT_TOKEN,
                    "Origin": ORIGIN}  # fmt: skip
    elif "voucherify" in operation or any(name in operation for name in BOTH_SYSTEMS):
        headers |= {"X-Voucherify-App-Id": DEMO_APP_ID, "X-Voucherify-App-Token": DEMO_APP_TOKEN}
    return headers


def _data(gql: GraphQL, operation: str, headers: dict[str, str]) -> dict[str, Any]:
    response = gql.http.post(gql.url, json={"query": operation}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, (operation, body["errors"])
    data: dict[str, Any] = body["data"]
    return data


def _async_action(gql: GraphQL) -> str:
    """An async action scheduled as a reader would have, for ``"aa_…"``."""
    scheduled = _data(gql, SCHEDULED, _headers(SCHEDULED, None, client_keys=False))
    action_id: str = scheduled["voucherifyCustomersMetadataBulkUpdate"]["asyncAction"]["id"]
    return action_id


def _first_cursor(value: Any) -> str | None:
    """The cursor of the first edge of the first connection in ``value``."""
    if isinstance(value, dict):
        edges = value.get("edges")
        if isinstance(edges, list) and edges:
            cursor: str = edges[0]["cursor"]
            return cursor
        return next((found for child in value.values() if (found := _first_cursor(child)) is not None), None)
    return None


def _filled(operation: str, gql: GraphQL) -> tuple[str, str | None]:
    """The operation with its placeholders filled in, and the token to send it with."""
    token = gql.token
    if any(word in operation for word in SESSION_TOKEN_ONLY):
        token = _session_token(gql)
        orders = gql.data("{ customerPortal { orders(first: 1) { nodes { id } } } }", token=token)
        [order] = orders["customerPortal"]["orders"]["nodes"]
        operation = operation.replace('"…"', f'"{order["id"]}"')
    elif '"…"' in operation:  # a customer's id: the README's own customer, created as its example does
        created = gql.data('mutation { customerCreate(input: {email: "grace@gmail.com", externalId: "usr_grace"}) '
                           "{ customer { id } } }")  # fmt: skip
        operation = operation.replace('"…"', f'"{created["customerCreate"]["customer"]["id"]}"')
    elif "usr_grace" in operation and "customerCreate" not in operation and "voucherify" not in operation:
        gql.data('mutation { customerCreate(input: {email: "grace@gmail.com", externalId: "usr_grace"}) '
                 "{ customer { id } } }")  # fmt: skip
    if "aa_…" in operation:
        operation = operation.replace("aa_…", _async_action(gql))
    if ELIDED_CURSOR.search(operation):  # a cursor of the same listing, as its first page hands it out
        first_page = _data(gql, ELIDED_CURSOR.sub("", operation), _headers(operation, token, client_keys=False))
        cursor = _first_cursor(first_page)
        assert cursor, "the README's listing example matches no seeded customer"
        operation = re.sub(r'"[A-Za-z0-9_-]+\.\.\."', f'"{cursor}"', operation)
    return operation, token


def _user_errors(value: Any) -> list[Any]:
    if isinstance(value, dict):
        found = list(value.get("userErrors") or [])
        return found + [error for child in value.values() for error in _user_errors(child)]
    if isinstance(value, list):
        return [error for child in value for error in _user_errors(child)]
    return []


@pytest.mark.parametrize(("operation", "client_keys"), OPERATIONS, ids=[f"op{n}" for n in range(len(OPERATIONS))])
def test_a_readme_example_runs_as_written(
    gql: GraphQL, voucherify: SandboxProcess, operation: str, client_keys: bool
) -> None:
    filled, token = _filled(operation, gql)
    data = _data(gql, filled, _headers(filled, token, client_keys))
    assert _user_errors(data) == [], filled
    assert all(value is not None for value in data.values()), data
    if "voucherifyCustomers" in data:
        assert _listed(data["voucherifyCustomers"]), data


@pytest.mark.parametrize("operation", SUBSCRIPTIONS, ids=[f"sub{n}" for n in range(len(SUBSCRIPTIONS))])
def test_a_readme_subscription_starts_as_written(gateway_server: GatewayProcess, sandbox: SandboxProcess,
                                                 operation: str) -> None:  # fmt: skip
    """Sent over the socket with the demo token, it passes validation and its checks with Polar (the token reads
    the customer it names): no error within a second, then it is completed by the client. Its events are
    the live tests' (tests/live/, tests/live_shared/)."""

    async def run() -> list[dict[str, Any]]:
        async with aiohttp.ClientSession() as session:
            url = gateway_server.url.replace("http://", "ws://") + "/graphql"
            async with session.ws_connect(url, protocols=["graphql-transport-ws"]) as ws:
                await ws.send_str(json.dumps({"type": "connection_init",
                                              "payload": {"Authorization": f"Bearer {DEMO_TOKEN}"}}))  # fmt: skip
                assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
                await ws.send_str(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": operation}}))
                answers = []
                with contextlib.suppress(TimeoutError):
                    answers.append(await ws.receive_json(timeout=1))
                await ws.send_str(json.dumps({"id": "1", "type": "complete"}))
                return answers

    assert asyncio.run(run()) == []


def _listed(connection: Any) -> bool:
    """Whether a README list example found customers (an empty page would show nothing)."""
    return bool(connection.get("nodes") or connection.get("edges") or connection.get("totalCount"))


@pytest.mark.parametrize("line", CURLS, ids=[f"curl{n}" for n in range(len(CURLS))])
def test_a_readme_curl_line_succeeds(
    line: str, gql: GraphQL, gateway_server: GatewayProcess, sandbox: SandboxProcess, voucherify: SandboxProcess,
    tmp_path: Path,
) -> None:  # fmt: skip
    """Run with curl itself, the ports of the README (8000 the gateway, 8100 the Polar sandbox, 8200 the
    Voucherify one) pointed at this test's servers; ``--fail`` makes any 4xx or 5xx a failed command, and
    an answer of the gateway's GraphQL endpoint must hold no error and no userError."""
    assert any(key in line for key in (DEMO_TOKEN, "/__sandbox/", "/healthz", DEMO_APP_TOKEN, DEMO_CLIENT_TOKEN))
    (tmp_path / "customers.csv").write_text(CSV_BLOCKS[0] if CSV_BLOCKS else "")
    if "aa_…" in line:
        line = line.replace("aa_…", _async_action(gql))
    alone = "http://127.0.0.1:8200" in line  # the Voucherify sandbox by itself, as its own section starts it
    with voucherify_sandbox_process() if alone else nullcontext(sandbox) as second:
        text = (line.replace("http://127.0.0.1:8000", gateway_server.url).replace("http://127.0.0.1:8100", sandbox.url)
                .replace("http://127.0.0.1:8200", second.url))  # fmt: skip
        output = _run_curl(text, tmp_path)
    if "http://127.0.0.1:8000/graphql" in line:
        body = json.loads(output)
        assert "errors" not in body, (line, body)
        assert _user_errors(body["data"]) == [], (line, body)
        assert all(value is not None for value in body["data"].values()), body
        if "voucherifyCustomers" in body["data"]:
            assert _listed(body["data"]["voucherifyCustomers"]), body
        if "voucherifyCustomersImport" in line:  # the README's CSV, imported whole
            _imported_whole(gql, body["data"]["voucherifyCustomersImport"]["asyncAction"]["id"])
    sandbox.reset()  # a curl line may set faults


def _imported_whole(gql: GraphQL, action_id: str) -> None:
    read = f'{{ voucherifyAsyncAction(id: "{action_id}", waitSeconds: 5) {{ status result }} }}'
    action = _data(gql, read, _headers(read, None, client_keys=False))["voucherifyAsyncAction"]
    assert action["status"] == "DONE", action
    rows = len(CSV_BLOCKS[0].strip().splitlines()) - 1
    assert (action["result"]["done_count"], action["result"]["failed_count"]) == (rows, 0), action


def _run_curl(text: str, tmp_path: Path) -> str:
    arguments = shlex.split(text)
    done = subprocess.run([arguments[0], "--fail", "--silent", "--show-error", "--max-time", "30", *arguments[1:]],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, (text, done.stderr)
    return done.stdout
