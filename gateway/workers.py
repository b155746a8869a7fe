"""``serve --workers N``: N gateway processes on one port, and a parent that starts, watches and stops them.

The gateway keeps no state between requests, so any process can answer any request: the kernel spreads
connections over the workers (``SO_REUSEPORT``), and the parent holds the port from the start so that every
worker binds the same one, even when it was 0 (any free port). With the embedded sandboxes, the parent runs
one of each (Polar's, Voucherify's) for all workers, so they share their data. Metrics go to a shared
directory, so ``/metrics`` from any worker counts every worker's requests (on ``metrics_port`` too, which
the parent holds the same way).

On SIGTERM or SIGINT the parent passes SIGTERM to the workers, which stop accepting and let requests in
flight finish, and waits for them (``shutdown_grace_s`` and a margin) before it stops the sandbox they use.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from types import FrameType

from pydantic import SecretStr

from .observability.metrics import MULTIPROCESS_DIR
from .settings import Settings

READY = re.compile(r"gateway worker (\d+) ready")
SANDBOX_LISTENING = re.compile(r"sandbox listening on (http://\S+)")
START_TIMEOUT_S = 60.0
RESTART_DELAY_S = 1.0
STOP_MARGIN_S = 5.0  # beyond shutdown_grace_s, for a worker's own cleanup
SANDBOX_STOP_S = 10.0
log = logging.getLogger("gateway.workers")


class Stop(Exception):
    """SIGTERM or SIGINT: stop the workers and leave."""


def worker_environment(
    settings: Settings,
    port: int,
    upstream_url: str,
    metrics_dir: str,
    metrics_port: int | None = None,
    voucherify_url: str | None = None,
) -> dict[str, str]:
    """The parent's settings (from flags and environment alike) as ``GATEWAY_*`` variables for one worker."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GATEWAY_")}
    for name, value in settings.model_dump(mode="json").items():
        if value is not None:
            env[f"GATEWAY_{name.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    for name in type(settings).model_fields:  # a secret dumps as '**********': hand over the value itself
        if isinstance(secret := getattr(settings, name), SecretStr):
            env[f"GATEWAY_{name.upper()}"] = secret.get_secret_value()
    env.update({
        "GATEWAY_PORT": str(port), "GATEWAY_UPSTREAM_URL": upstream_url, "GATEWAY_WORKERS": "1",
        "GATEWAY_REUSE_PORT": "true", MULTIPROCESS_DIR: metrics_dir, "PYTHONUNBUFFERED": "1",
        **({"GATEWAY_VOUCHERIFY_URL": voucherify_url} if voucherify_url else {}),
    })  # fmt: skip
    if metrics_port is not None:
        env["GATEWAY_METRICS_PORT"] = str(metrics_port)
    return env


def _reserve_port(host: str, port: int) -> socket.socket:
    """A bound, never listening socket: it fixes the port for the workers and receives no connection."""
    reservation = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    reservation.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    reservation.bind((host, port))
    return reservation


def _start(
    command: list[str], env: dict[str, str] | None, ready: re.Pattern[str], own_group: bool = False
) -> tuple[subprocess.Popen[str], str]:
    """Starts a child, forwards its output to ours, and returns once it printed its ready line. A child in
    its own process group does not get a terminal's Ctrl-C: the parent stops it when it is no longer used."""
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             process_group=0 if own_group else None)  # fmt: skip
    assert child.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT_S
    for line in child.stdout:
        sys.stdout.write(line)
        if match := ready.search(line):
            threading.Thread(target=_forward, args=(child,), daemon=True).start()
            return child, match.group(1)
        if time.monotonic() > deadline:
            break
    child.kill()
    raise SystemExit(f"{' '.join(command[1:4])} did not start; its output is above")


def _forward(child: subprocess.Popen[str]) -> None:
    assert child.stdout is not None
    for line in child.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()


def _stop(children: list[subprocess.Popen[str]], timeout_s: float) -> bool:
    """SIGTERM to each child, then waits for all of them until ``timeout_s``; kills those still running.
    True when none had to be killed."""
    for child in children:
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + timeout_s
    clean = True
    for child in children:
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
            clean = False
    return clean


def _on_signal(signum: int, frame: FrameType | None) -> None:
    raise Stop


def _stopping(signum: int, frame: FrameType | None) -> None:
    """Another SIGTERM or SIGINT while the workers drain: they have it already; the wait goes on."""


def run_workers(settings: Settings, demo_token: str) -> None:
    """``demo_token``: the embedded sandbox's, which registers the webhook endpoint (the command line has it)."""
    if settings.subscriptions and settings.redis_url is None:
        log.warning(
            "serve --workers %d without redis_url: a Polar webhook reaches only the subscribers of the worker it "
            "is delivered to. Set GATEWAY_REDIS_URL so that every worker's subscribers get every change.",
            settings.workers,
        )
    if settings.redis_url is None and settings.cache is not False:
        log.warning(
            "serve --workers %d without redis_url: the cache of upstream reads is off, since each worker would keep "
            "its own and a write or a webhook reaches one worker only. Set GATEWAY_REDIS_URL to share one.",
            settings.workers,
        )
        settings = settings.model_copy(update={"cache": False})
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    reservations = []
    for wanted in (settings.port, settings.metrics_port if settings.metrics else None):
        if wanted is None:
            continue
        try:
            reservations.append(_reserve_port(settings.host, wanted))
        except OSError as error:
            raise SystemExit(f"cannot listen on {settings.host}:{wanted}: {error.strerror or error}") from None
    port = reservations[0].getsockname()[1]
    metrics_port = reservations[1].getsockname()[1] if len(reservations) > 1 else None
    metrics_dir = tempfile.mkdtemp(prefix="gateway-metrics-")
    children: list[subprocess.Popen[str]] = []  # the sandbox, when the parent runs one
    workers: list[subprocess.Popen[str]] = []
    python = sys.executable
    try:
        upstream_url = settings.upstream_url
        if upstream_url is None:
            data = ["--customers", str(settings.sandbox_customers), "--seed", str(settings.sandbox_seed)]
            command = [python, "-m", "gateway", "sandbox", "--port", "0", *data]
            sandbox, upstream_url = _start(command, None, SANDBOX_LISTENING, own_group=True)
            children.append(sandbox)
        voucherify_url = settings.voucherify_url
        if voucherify_url is None:
            data = ["--customers", str(settings.sandbox_voucherify_customers), "--seed", str(settings.sandbox_seed)]
            command = [python, "-m", "gateway", "sandbox", "--vendor", "voucherify", "--port", "0", *data]
            voucherify, voucherify_url = _start(command, None, SANDBOX_LISTENING, own_group=True)
            children.append(voucherify)
        if settings.upstream_url is None and settings.polar_webhook_secret is None and settings.subscriptions:
            settings = _listening_to_sandbox(settings, upstream_url, port, demo_token)
        env = worker_environment(settings, port, upstream_url, metrics_dir, metrics_port, voucherify_url)
        for _ in range(settings.workers):
            workers.append(_start([python, "-m", "gateway", "serve"], env, READY)[0])
        print(
            f"GraphQL gateway listening on http://{settings.host}:{port}/graphql ({settings.workers} workers)",
            flush=True,
        )
        if metrics_port is not None:
            print(f"  metrics: http://{settings.host}:{metrics_port}/metrics", flush=True)
        _supervise(workers, env, metrics_dir)
    except Stop:
        pass
    finally:
        signal.signal(signal.SIGTERM, _stopping)
        signal.signal(signal.SIGINT, _stopping)
        drained = _stop(workers, settings.shutdown_grace_s + STOP_MARGIN_S)  # the sandbox serves them till then
        _stop(children, SANDBOX_STOP_S)
        for reservation in reservations:
            reservation.close()
        shutil.rmtree(metrics_dir, ignore_errors=True)
    if not drained:
        raise SystemExit("workers still running after shutdown_grace_s were killed")


def _listening_to_sandbox(settings: Settings, sandbox_url: str, port: int, token: str) -> Settings:
    """The embedded sandbox's webhooks, registered once by the parent for the shared port; every worker
    verifies with the secret. Without Redis each delivery reaches the subscribers of the worker it lands on."""
    from .live.receiver import WEBHOOK_ROUTE
    from .live.registration import endpoint_url, register_at

    url = endpoint_url(settings.host, port, WEBHOOK_ROUTE)
    secret = asyncio.run(register_at(sandbox_url, settings, token, url))
    return settings.model_copy(update={"polar_webhook_secret": SecretStr(secret)})


def _supervise(workers: list[subprocess.Popen[str]], env: dict[str, str], metrics_dir: str) -> None:
    """Replaces a worker that died (its in-flight requests are lost; the others go on serving)."""
    from prometheus_client import multiprocess

    while True:
        time.sleep(0.5)
        for index, worker in enumerate(workers):
            if worker.poll() is not None:
                log.error("worker %s exited with %s; starting another", worker.pid, worker.returncode)
                multiprocess.mark_process_dead(worker.pid, metrics_dir)  # type: ignore[no-untyped-call]
                time.sleep(RESTART_DELAY_S)
                workers[index] = _start([sys.executable, "-m", "gateway", "serve"], env, READY)[0]
