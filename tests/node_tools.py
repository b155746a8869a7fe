"""The Node.js side of the tests (tests/node: a federation router, a second subgraph, a Chromium driver),
installed by ``make`` with ``npm ci``; a missing install is a failure that says how to fix it, not a skip."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.servers import drain, stop

NODE_DIR = Path(__file__).parent / "node"
NODE_MAJOR = 20  # Hive Gateway 2 needs it (tests/node/package.json's engines); Debian 12's nodejs is 18


def require_node_tools() -> str:
    """The path of ``node``, after checking that ``make`` installed the packages the scripts import."""
    node = shutil.which("node")
    assert node is not None, "node is not installed: run `make test`, which installs it"
    assert (NODE_DIR / "node_modules" / ".package-lock.json").exists(), (
        "tests/node/node_modules is missing: run `make test` (it runs `npm ci --prefix tests/node`)"
    )
    return node


def require_node_for_routers() -> str:
    """``require_node_tools``, and a Node.js the federation routers run on (Hive Gateway 2: 20 or newer)."""
    node = require_node_tools()
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    assert int(version.lstrip("v").split(".")[0]) >= NODE_MAJOR, (
        f"node {version} is too old for Hive Gateway 2 (tests/node): install Node.js {NODE_MAJOR} or newer"
    )
    return node


@contextmanager
def node_script(script: str, env: dict[str, str], timeout: float = 60) -> Iterator[tuple[dict[str, Any], list[str]]]:
    """Runs ``tests/node/<script>``, which prints one JSON line when it is ready; yields that line decoded
    and the script's later output. The script is stopped when the block ends."""
    node = require_node_for_routers()
    process = subprocess.Popen(
        [node, str(NODE_DIR / script)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=NODE_DIR,
        env={**os.environ, **env},
    )
    output: list[str] = []
    try:
        ready = _first_json_line(process, output, timeout)
        threading.Thread(target=drain, args=(process, output), daemon=True).start()
        yield ready, output
    finally:
        stop(process)


def run_node_script(script: str, stdin: str, timeout: float = 120) -> Any:
    """Runs ``tests/node/<script>`` to its end with ``stdin`` as its input; its last output line, decoded
    (JSON). A script that fails or outlives ``timeout`` fails the test with its output."""
    node = require_node_for_routers()
    done = subprocess.run(
        [node, str(NODE_DIR / script)], input=stdin, capture_output=True, text=True, cwd=NODE_DIR, timeout=timeout
    )
    assert done.returncode == 0, f"{script} exited with {done.returncode}:\n{done.stdout}\n{done.stderr}"
    lines = done.stdout.strip().splitlines()
    assert lines, f"{script} printed nothing:\n{done.stderr}"
    return json.loads(lines[-1])


def _first_json_line(process: subprocess.Popen[str], output: list[str], timeout: float) -> dict[str, Any]:
    assert process.stdout is not None
    timer = threading.Timer(timeout, process.kill)
    timer.start()
    try:
        for line in process.stdout:
            output.append(line)
            if line.startswith("{"):
                ready: dict[str, Any] = json.loads(line)
                return ready
    finally:
        timer.cancel()
    raise RuntimeError(f"{process.args!r} did not start:\n" + "".join(output))
