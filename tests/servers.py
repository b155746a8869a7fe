"""Real servers for the tests: each runs in its own process and listens on 127.0.0.1."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

_LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")


@dataclass
class SandboxProcess:
    url: str
    process: subprocess.Popen[str]

    def control(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10)

    def reset(self) -> None:
        with self.control() as client:
            client.post("/__sandbox/reset").raise_for_status()
            client.post(
                "/__sandbox/faults",
                json={
                    "latency_ms": 0,
                    "jitter_ms": 0,
                    "error_rate": 0.0,
                    "error_status": 503,
                    "drop_rate": 0.0,
                    "rate_limit_per_minute": None,
                },
            ).raise_for_status()

    def stats(self) -> dict[str, int]:
        with self.control() as client:
            by_route: dict[str, int] = client.get("/__sandbox/stats").json()["by_route"]
            return by_route


@contextmanager
def sandbox_process(customers: int = 250, seed: int = 1, timeout: float = 30) -> Iterator[SandboxProcess]:
    """``python -m gateway sandbox --port 0``, stopped when the block ends."""
    command = [
        sys.executable,
        "-m",
        "gateway",
        "sandbox",
        "--port",
        "0",
        "--customers",
        str(customers),
        "--seed",
        str(seed),
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        url = _wait_for_url(process, timeout)
        threading.Thread(target=_drain, args=(process,), daemon=True).start()
        yield SandboxProcess(url, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _drain(process: subprocess.Popen[str]) -> None:
    """Keeps reading the server's output so that a full pipe never blocks it."""
    assert process.stdout is not None
    for _line in process.stdout:
        pass


def _wait_for_url(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if match := _LISTENING.search(line):
            return match.group(1)
    raise RuntimeError("sandbox did not start:\n" + "".join(seen))
