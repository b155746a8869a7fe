"""Every GraphQL example and every ``curl`` line of README.md runs, as written, against the gateway and its
sandbox: no GraphQL error, no userError, every HTTP answer a success. Placeholders written ``"…"`` (an id
the reader has at hand) and the elided cursor ``"cG9zMjo..."`` are the only things filled in."""

from __future__ import annotations

import re
import shlex
import subprocess
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest
from graphql import OperationDefinitionNode, parse, print_ast

from gateway.sandbox.seed import DEMO_TOKEN
from tests.graphql_client import GraphQL
from tests.servers import GatewayProcess, SandboxProcess, voucherify_sandbox_process

README = (Path(__file__).parents[2] / "README.md").read_text()
GRAPHQL_BLOCKS = re.findall(r"^```graphql\n(.*?)^```", README, flags=re.S | re.M)
SHELL_BLOCKS = re.findall(r"^```sh\n(.*?)^```", README, flags=re.S | re.M)
ROUTER_ONLY = ("loyalty",)  # the federation example runs on the supergraph (tests/federation/)
SESSION_TOKEN_ONLY = ("customerPortal {", "customerPortalOrderUpdate(")  # sent with a customer session token


def _operations() -> list[str]:
    found = []
    for block in GRAPHQL_BLOCKS:
        for definition in parse(block).definitions:
            assert isinstance(definition, OperationDefinitionNode)
            text = print_ast(definition)
            if not any(word in text for word in ROUTER_ONLY):
                found.append(text)
    return found


def _curl_lines() -> list[str]:
    lines = []
    for block in SHELL_BLOCKS:
        joined = block.replace("\\\n", " ")
        lines += [line.split("  #")[0].strip() for line in joined.splitlines() if line.strip().startswith("curl ")]
    return lines


OPERATIONS = _operations()
CURLS = _curl_lines()


def test_the_readme_has_examples_of_every_kind() -> None:
    text = "\n".join(OPERATIONS)
    for needle in ("customerCreate", "customerUpdate", "customerDelete", "customerSessionCreate", "customerPortal",
                   "customerPortalOrderUpdate", "customers(", "customer("):  # fmt: skip
        assert needle in text, needle
    assert any("/graphql" in line for line in CURLS)


def _session_token(gql: GraphQL) -> str:
    session = gql.data('mutation { customerSessionCreate(externalCustomerId: "usr_demo_00248") '
                       "{ customerSession { token } } }")  # fmt: skip
    token: str = session["customerSessionCreate"]["customerSession"]["token"]
    return token


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
    elif "usr_grace" in operation and "customerCreate" not in operation:
        gql.data('mutation { customerCreate(input: {email: "grace@gmail.com", externalId: "usr_grace"}) '
                 "{ customer { id } } }")  # fmt: skip
    if '"cG9zMjo..."' in operation:  # a cursor of the same listing, as its first page hands it out
        first_page = gql.data(re.sub(r',?\s*after:\s*"cG9zMjo\.\.\."', "", operation))
        edges = first_page["customers"]["edges"]
        assert edges, "the README's listing example matches no seeded customer"
        operation = operation.replace('"cG9zMjo..."', f'"{edges[0]["cursor"]}"')
    return operation, token


def _user_errors(value: Any) -> list[Any]:
    if isinstance(value, dict):
        found = list(value.get("userErrors") or [])
        return found + [error for child in value.values() for error in _user_errors(child)]
    if isinstance(value, list):
        return [error for child in value for error in _user_errors(child)]
    return []


@pytest.mark.parametrize("operation", OPERATIONS, ids=[f"op{n}" for n in range(len(OPERATIONS))])
def test_a_readme_example_runs_as_written(gql: GraphQL, operation: str) -> None:
    filled, token = _filled(operation, gql)
    data = gql.data(filled, token=token)
    assert _user_errors(data) == [], filled
    assert all(value is not None for value in data.values()), data


@pytest.mark.parametrize("line", CURLS, ids=[f"curl{n}" for n in range(len(CURLS))])
def test_a_readme_curl_line_succeeds(
    line: str, gateway_server: GatewayProcess, sandbox: SandboxProcess, tmp_path: Path
) -> None:
    """Run with curl itself, the ports of the README (8000 the gateway, 8100 the Polar sandbox, 8200 the
    Voucherify one) pointed at this test's servers; ``--fail`` makes any 4xx or 5xx a failed command."""
    assert DEMO_TOKEN in line or "/__sandbox/" in line or "/healthz" in line or "vf_sandbox_secret" in line
    voucherify = "http://127.0.0.1:8200" in line
    with voucherify_sandbox_process() if voucherify else nullcontext(sandbox) as second:
        text = (line.replace("http://127.0.0.1:8000", gateway_server.url).replace("http://127.0.0.1:8100", sandbox.url)
                .replace("http://127.0.0.1:8200", second.url))  # fmt: skip
        _run_curl(text, tmp_path)
    sandbox.reset()  # a curl line may set faults


def _run_curl(text: str, tmp_path: Path) -> None:
    arguments = shlex.split(text)
    done = subprocess.run([arguments[0], "--fail", "--silent", "--show-error", "--max-time", "30", *arguments[1:]],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, (text, done.stderr)
