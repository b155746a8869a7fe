"""``python -m gateway``: bad flags and a busy port are clear one-line refusals, not tracebacks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway", *args], capture_output=True, text=True, timeout=60)


def test_negative_customer_count_is_refused() -> None:
    result = _run("sandbox", "--customers", "-3")
    assert result.returncode == 1
    assert result.stderr.strip() == "--customers must be 0 or more"


def test_busy_port_is_refused_with_its_address() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _run("sandbox", "--port", str(port))
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_command_is_a_usage_error() -> None:
    result = _run("fly")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_invalid_serve_settings_are_named() -> None:
    result = _run("serve", "--port", "70000")
    assert result.returncode == 1
    assert result.stderr.startswith("invalid settings: port:")


def test_invalid_environment_settings_are_named() -> None:
    env = {**os.environ, "GATEWAY_MAX_PAGE_SIZE": "500"}
    result = subprocess.run([sys.executable, "-m", "gateway", "serve"], capture_output=True, text=True, timeout=60,
                            env=env)  # fmt: skip
    assert result.returncode == 1
    assert "max_page_size" in result.stderr
    assert "Traceback" not in result.stderr
