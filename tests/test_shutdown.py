"""Graceful shutdown: on SIGTERM (or SIGINT) the gateway stops accepting connections, lets the requests in
flight finish, and exits 0 within ``shutdown_grace_s``; as one process, as ``serve --workers 2``, and as
PID 1 of its own PID namespace, as in a container."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Sequence
from typing import Any

import httpx
import pytest

from gateway.sandbox.seed import DEMO_TOKEN
from tests.raw_http import address
from tests.servers import GatewayProcess, SandboxProcess, gateway_process

GRACE_S = 10.0
LATENCY_MS = 4000  # long enough that the refusals are seen while the request is in flight, on a busy machine
QUERY = "{ customers(first: 5) { totalCount nodes { id email } } }"


def _slow_upstream(sandbox: SandboxProcess) -> None:
    with sandbox.control() as control:
        control.post("/__sandbox/faults", json={"latency_ms": LATENCY_MS, "jitter_ms": 0}).raise_for_status()


def _in_flight(gateway: GatewayProcess) -> tuple[threading.Thread, dict[str, Any]]:
    """A query sent now from another thread; its response lands in the dict."""
    result: dict[str, Any] = {}

    def send() -> None:
        try:
            result["response"] = httpx.post(gateway.graphql_url, json={"query": QUERY}, timeout=30,
                                            headers={"Authorization": f"Bearer {DEMO_TOKEN}"})  # fmt: skip
        except httpx.HTTPError as error:
            result["error"] = error

    thread = threading.Thread(target=send)
    thread.start()
    return thread, result


def _refused(url: str) -> bool:
    try:
        socket.create_connection(address(url), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def _drain(gateway: GatewayProcess, target_pid: int, signum: int = signal.SIGTERM) -> None:
    """A request in flight, then the signal: new connections are refused while it is still in flight, it
    completes with all its data, and the process exits 0 within the grace period."""
    thread, result = _in_flight(gateway)
    time.sleep(0.5)  # the request is waiting for the upstream
    assert thread.is_alive()
    os.kill(target_pid, signum)
    signalled = time.monotonic()
    while not _refused(gateway.url):
        assert time.monotonic() - signalled < 3, "still accepting connections 3 s after the signal"
        time.sleep(0.05)
    assert thread.is_alive()  # refused while the request is in flight
    thread.join(timeout=GRACE_S)
    assert "error" not in result, result.get("error")
    response: httpx.Response = result["response"]
    assert response.status_code == 200
    data = response.json()["data"]["customers"]
    assert data["totalCount"] == 250
    assert len(data["nodes"]) == 5
    assert all(node["email"] for node in data["nodes"])
    assert gateway.process.wait(timeout=GRACE_S) == 0
    assert time.monotonic() - signalled < GRACE_S
    time.sleep(0.3)  # the output is read by a thread
    assert "Traceback" not in "".join(gateway.output)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_request_in_flight_completes_and_the_process_exits_0(sandbox: SandboxProcess, signum: int) -> None:
    _slow_upstream(sandbox)
    with gateway_process(sandbox.url, env={"GATEWAY_SHUTDOWN_GRACE_S": str(GRACE_S)}) as gateway:
        _drain(gateway, gateway.process.pid, signum)


def test_serve_with_two_workers_drains_them_and_exits_0(sandbox: SandboxProcess) -> None:
    env = {"GATEWAY_SHUTDOWN_GRACE_S": str(GRACE_S), "GATEWAY_WORKERS": "2"}
    with gateway_process(sandbox.url, env=env) as gateway:
        workers = {httpx.get(f"{gateway.url}/healthz").json()["pid"] for _ in range(40)}
        assert len(workers) == 2
        _slow_upstream(sandbox)
        _drain(gateway, gateway.process.pid)
        for pid in workers:  # the parent waited for its workers
            assert not os.path.exists(f"/proc/{pid}") or _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] == "Z"


def _pid_namespace_wrapper() -> Sequence[str] | None:
    """``unshare`` that runs a command as PID 1 of a new PID namespace, if this machine allows it."""
    if shutil.which("unshare") is None:
        return None
    for wrapper in (["unshare", "--pid", "--fork", "--kill-child"],
                    ["unshare", "--user", "--map-root-user", "--pid", "--fork", "--kill-child"]):  # fmt: skip
        if subprocess.run([*wrapper, "true"], capture_output=True, timeout=10, check=False).returncode == 0:
            return wrapper
    return None


def test_as_pid_1_as_in_a_container_sigterm_drains_too(sandbox: SandboxProcess) -> None:
    """PID 1 ignores signals it has no handler for: a gateway that relied on SIGTERM's default action would
    not stop at all under ``docker stop`` (and be killed 10 s later). The image runs python as PID 1."""
    wrapper = _pid_namespace_wrapper()
    if wrapper is None:
        pytest.skip("unshare cannot make a PID namespace here")
    env = {"GATEWAY_SHUTDOWN_GRACE_S": str(GRACE_S)}
    with gateway_process(sandbox.url, env=env, wrapper=wrapper) as gateway:
        assert httpx.get(f"{gateway.url}/healthz").json()["pid"] == 1
        with open(f"/proc/{gateway.process.pid}/task/{gateway.process.pid}/children") as children:
            (pid_1,) = [int(pid) for pid in children.read().split()]  # as this namespace sees it
        _slow_upstream(sandbox)
        _drain(gateway, pid_1)  # unshare exits with its child's status
