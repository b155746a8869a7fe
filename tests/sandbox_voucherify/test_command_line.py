"""``python -m gateway sandbox --vendor voucherify``: its own seed size, and the same clear refusals as Polar's."""

from __future__ import annotations

import socket
import subprocess
import sys

import httpx

from gateway.sandbox.voucherify.seed import DEMO_APP_ID, DEMO_APP_TOKEN
from tests.servers import voucherify_sandbox_process


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway", *args], capture_output=True, text=True, timeout=60)


def test_customers_sets_the_demo_project_size() -> None:
    with voucherify_sandbox_process(customers=7) as server:
        headers = {"X-App-Id": DEMO_APP_ID, "X-App-Token": DEMO_APP_TOKEN}
        assert httpx.get(f"{server.url}/v1/customers", headers=headers).json()["total"] == 7


def test_negative_customer_count_is_refused() -> None:
    result = _run("sandbox", "--vendor", "voucherify", "--customers", "-3")
    assert result.returncode == 1
    assert result.stderr.strip() == "--customers must be 0 or more"


def test_busy_port_is_refused_with_its_address() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _run("sandbox", "--vendor", "voucherify", "--port", str(port))
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_unknown_vendor_is_a_usage_error() -> None:
    result = _run("sandbox", "--vendor", "stripe")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
