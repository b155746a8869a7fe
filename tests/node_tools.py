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


def require_node_tools() -> str:
    """The path of ``node``, after checking that ``make`` installed the packages the scripts import."""
    node = shutil.which("node")
    assert node is not None, "node is not installed: run `make test`, which installs it"
    assert (NODE_DIR / "node_modules" / ".package-lock.json").exists(), (
        "tests/node/node_modules is missing: run `make test` (it runs `npm ci --prefix tests/node`)"
    )
    return node


@contextmanager
def node_script(script: str, env: dict[str, str], timeout: float = 60) -> Iterator[tuple[dict[str, Any], list[str]]]:
    """Runs ``tests/node/<script>``, which prints one JSON line when it is ready; yields that line decoded
    and the script's later output. The script is stopped when the block ends."""
    node = require_node_tools()
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
