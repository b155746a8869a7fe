"""Real servers for the tests: each runs in its own process and listens on 127.0.0.1."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

_SANDBOX_LISTENING = re.compile(r"sandbox listening on (http://127\.0\.0\.1:\d+)")
_VOUCHERIFY_LISTENING = re.compile(r"Voucherify sandbox listening on (http://127\.0\.0\.1:\d+)")
_GATEWAY_LISTENING = re.compile(r"gateway listening on (http://127\.0\.0\.1:\d+)/graphql")
_FLOOR_LISTENING = re.compile(r"floor listening on (http://127\.0\.0\.1:\d+)")
NO_FAULTS = {
    "latency_ms": 0,
    "jitter_ms": 0,
    "error_rate": 0.0,
    "error_status": 503,
    "drop_rate": 0.0,
    "rate_limit_per_minute": None,
    "retry_after": 60,
    "methods": None,
}


@dataclass
class SandboxProcess:
    url: str
    process: subprocess.Popen[str]

    def control(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10)

    def reset(self) -> None:
        with self.control() as client:
            client.post("/__sandbox/reset").raise_for_status()
            client.post("/__sandbox/faults", json=NO_FAULTS).raise_for_status()

    def peak_in_flight(self) -> int:
        """The most API requests the sandbox answered at once since the last reset (Voucherify's sandbox)."""
        with self.control() as client:
            peak: int = client.get("/__sandbox/stats").json()["peak_in_flight"]
            return peak

    def stats(self) -> dict[str, int]:
        with self.control() as client:
            by_route: dict[str, int] = client.get("/__sandbox/stats").json()["by_route"]
            return by_route


@dataclass
class GatewayProcess:
    url: str
    process: subprocess.Popen[str]
    output: list[str]

    def rss_bytes(self) -> int:
        """Resident memory of the process now (Linux)."""
        return self._status("VmRSS:")

    def peak_rss_bytes(self) -> int:
        """The most resident memory the process has had."""
        return self._status("VmHWM:")

    def cpu_seconds(self) -> float:
        """User plus system CPU time the process has used."""
        with open(f"/proc/{self.process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _status(self, key: str) -> int:
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith(key):
                    return int(line.split()[1]) * 1024
        raise RuntimeError(f"no {key} line")

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"


@contextmanager
def sandbox_process(customers: int = 250, seed: int = 1, timeout: float = 30) -> Iterator[SandboxProcess]:
    """``python -m gateway sandbox --port 0``, stopped when the block ends."""
    command = ["sandbox", "--port", "0", "--customers", str(customers), "--seed", str(seed)]
    with _process(command, _SANDBOX_LISTENING, timeout) as (url, process, _output):
        yield SandboxProcess(url, process)


@contextmanager
def voucherify_sandbox_process(customers: int = 120, seed: int = 1, timeout: float = 30) -> Iterator[SandboxProcess]:
    """``python -m gateway sandbox --vendor voucherify --port 0``, stopped when the block ends."""
    command = ["sandbox", "--vendor", "voucherify", "--port", "0", "--customers", str(customers), "--seed", str(seed)]
    with _process(command, _VOUCHERIFY_LISTENING, timeout) as (url, process, _output):
        yield SandboxProcess(url, process)


@contextmanager
def gateway_process(
    upstream_url: str | None,
    timeout: float = 30,
    env: dict[str, str] | None = None,
    wrapper: Sequence[str] = (),
    voucherify_url: str | None = None,
) -> Iterator[GatewayProcess]:
    """``python -m gateway serve --port 0``, on ``upstream_url`` and ``voucherify_url`` or, for each that is
    None, its embedded sandbox; run by ``wrapper`` when given (such as ``unshare --pid --fork``)."""
    command = ["serve", "--port", "0"]
    if upstream_url is not None:
        command += ["--upstream-url", upstream_url]
    if voucherify_url is not None:
        command += ["--voucherify-url", voucherify_url]
    with _process(command, _GATEWAY_LISTENING, timeout, env, wrapper=wrapper) as (url, process, output):
        yield GatewayProcess(url, process, output)


@contextmanager
def floor_process(upstream_url: str, transport: str = "aiohttp", timeout: float = 30) -> Iterator[GatewayProcess]:
    """The benchmark's floor server (``tests.bench.floor``) on ``upstream_url``."""
    arguments = ["--upstream-url", upstream_url, "--transport", transport]
    with _process(arguments, _FLOOR_LISTENING, timeout, module="tests.bench.floor") as (url, process, output):
        yield GatewayProcess(url, process, output)


@contextmanager
def _process(
    arguments: list[str],
    listening: re.Pattern[str],
    timeout: float,
    env: dict[str, str] | None = None,
    module: str = "gateway",
    wrapper: Sequence[str] = (),
) -> Iterator[tuple[str, subprocess.Popen[str], list[str]]]:
    process = subprocess.Popen(
        [*wrapper, sys.executable, "-m", module, *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    try:
        output: list[str] = []
        url = _wait_for_url(process, listening, timeout, output)
        threading.Thread(target=drain, args=(process, output), daemon=True).start()
        yield url, process, output
    finally:
        stop(process)


def stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM, and SIGKILL if it has not ended within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


MAX_KEPT_LINES = 10_000


def drain(process: subprocess.Popen[str], output: list[str]) -> None:
    """Keeps reading the server's output (so a full pipe never blocks it), keeping the first lines."""
    assert process.stdout is not None
    for line in process.stdout:
        if len(output) < MAX_KEPT_LINES:
            output.append(line)


def _wait_for_url(process: subprocess.Popen[str], listening: re.Pattern[str], timeout: float, seen: list[str]) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if match := listening.search(line):
            return match.group(1)
    raise RuntimeError(f"{process.args!r} did not start:\n" + "".join(seen))
