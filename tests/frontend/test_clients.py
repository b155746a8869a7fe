"""Each file of tests/node/clients is one test here: Node's test runner runs it (TAP) against the gateways of
conftest.py, and the test passes when every Node test in it passed; else it fails with the runner's output,
which names the Node test that broke and why."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.frontend.conftest import CLIENTS_DIR
from tests.node_tools import NODE_DIR, require_node_for_routers
from tests.servers import GatewayProcess

NODE_TEST_TIMEOUT_MS = 60_000  # each Node test's bound: a hung one is reported by name, not waited for
FILE_TIMEOUT_S = 180  # the whole file's, should the runner itself hang
TRUSTED = "trusted-documents"
FILES = sorted(path.name.removesuffix(".test.mjs") for path in CLIENTS_DIR.glob("*.test.mjs"))


def run_node_tests(name: str, env: dict[str, str]) -> str:
    """Runs tests/node/clients/<name>.test.mjs under ``node --test``; its TAP output. A failed Node test, a
    runner that ends badly or one that outlives FILE_TIMEOUT_S fails the pytest test with that output."""
    node = require_node_for_routers()
    path = CLIENTS_DIR / f"{name}.test.mjs"
    command = [node, "--test", "--test-reporter=tap", f"--test-timeout={NODE_TEST_TIMEOUT_MS}", str(path)]
    try:
        done = subprocess.run(
            command, cwd=NODE_DIR, env={**os.environ, **env}, capture_output=True, text=True, timeout=FILE_TIMEOUT_S
        )
    except subprocess.TimeoutExpired as expired:
        output = _text(expired.stdout) + _text(expired.stderr)
        raise AssertionError(f"{path.name} still running after {FILE_TIMEOUT_S} s:\n{output}") from None
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{path.name}: node --test exited with {done.returncode}:\n{output}"
    assert "\n# fail 0\n" in done.stdout, f"{path.name}: no count of failures:\n{output}"
    assert "\n# pass 0\n" not in done.stdout, f"{path.name} ran no test:\n{output}"
    print(output)  # shown with -s or -rP: what each client sent (APQ's counts) and how long each test took
    return output


def _text(output: bytes | str | None) -> str:
    if isinstance(output, bytes):
        return output.decode(errors="replace")
    return output or ""


def test_every_client_file_is_run() -> None:
    """The parametrization comes from the directory's ``*.test.mjs``: a file renamed away from that pattern, or
    removed, would otherwise drop its tests without a failure."""
    assert set(FILES) >= {"pagination", "mutations", "apq", TRUSTED, "subscriptions", "uploads", "client-awareness"}


@pytest.mark.parametrize("name", [name for name in FILES if name != TRUSTED])
def test_client(name: str, client_env: dict[str, str]) -> None:
    run_node_tests(name, client_env)


def test_trusted_documents(client_env: dict[str, str], trusted_gateway: GatewayProcess, trusted_manifest: Path) -> None:
    run_node_tests(
        TRUSTED,
        {**client_env, "FRONTEND_TRUSTED_GATEWAY_URL": trusted_gateway.graphql_url,
         "FRONTEND_TRUSTED_MANIFEST": str(trusted_manifest)},
    )  # fmt: skip
