"""A real Redis for the tests: Debian's ``redis-server`` (``make redis`` installs it) in its own process.

Live events are shared across gateway instances through Redis, so their tests need a real one, and one they
can crash (``kill``) and bring back (``start``) on the same port, as happens to a deployment's Redis: the
gateway's clients keep the same URL and must reconnect by themselves. It listens on 127.0.0.1 only, on a
free port, with no config file and no persistence, in its own temporary directory, logging to a file there
(shown when it does not come up): the machine's own Redis, if any, is never touched, and no process is left
behind (``close``, the context manager, and an ``atexit`` guard for whatever a test forgot)."""

from __future__ import annotations

import atexit
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

_LOG_TAIL_LINES = 40


def free_port() -> int:
    """A port nothing listens on now, on 127.0.0.1 (Redis has no ``--port 0`` that reports the port)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class RedisServer:
    """``redis-server`` on 127.0.0.1:``port``; ``start`` again after ``kill`` or ``stop`` reuses the port."""

    def __init__(self, port: int | None = None, timeout: float = 10) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: `make redis` installs Debian's")
        self._binary = binary
        self._chosen_port = port is None  # a free port was picked: another one may be picked if it is taken
        self.port = free_port() if port is None else port
        self.timeout = timeout
        self._directory = Path(tempfile.mkdtemp(prefix="redis-server-"))
        self.log_path = self._directory / "redis.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._served = False  # whether this port has been ours once: then it is kept, whatever happens
        atexit.register(self.close)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Starts it and waits until it answers PING, within ``timeout`` seconds (else raises with the log's
        tail). On its first start, a picked port that another process took meanwhile is replaced (3 tries)."""
        if self.running:
            raise RuntimeError(f"redis-server is already running on port {self.port}")
        for attempt in range(3):
            log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
            if self._launch():
                self._served = True
                return
            taken = "Address already in use" in self.log_path.read_text(errors="replace")[log_start:]
            if not (taken and self._chosen_port and not self._served) or attempt == 2:
                break
            self.port = free_port()
        tail = self.log_tail()
        self._end(kill=True)
        raise RuntimeError(f"redis-server did not come up on port {self.port} within {self.timeout} s:\n{tail}")

    def kill(self) -> None:
        """SIGKILL, as a crash would, and waits for it to end: clients see their connections reset."""
        self._end(kill=True)

    def stop(self) -> None:
        """SIGTERM (Redis shuts down cleanly, saving nothing) and waits; SIGKILL if it takes over 10 s."""
        self._end(kill=False)

    def close(self) -> None:
        """Stops it and removes its directory. Safe to call twice; ``atexit`` calls it too."""
        self._end(kill=False)
        shutil.rmtree(self._directory, ignore_errors=True)
        atexit.unregister(self.close)

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "".join(text.splitlines(keepends=True)[-lines:])

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def _launch(self) -> bool:
        """One ``redis-server`` on ``port``; whether it answered PING in time (it may have ended instead)."""
        command = [
            self._binary,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self._directory),
            "--daemonize", "no",
            "--logfile", "",  # its standard output, which is the log file
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self._directory
            )
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False  # such as "Address already in use"
            if self._answers_ping():
                return True
            time.sleep(0.02)
        return False

    def _answers_ping(self) -> bool:
        """Whether Redis answers PING on the port, and it is ours (INFO's process id), not another one."""
        assert self._process is not None
        client = redis.Redis(
            host="127.0.0.1", port=self.port, socket_timeout=1, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0)
        )
        try:
            return client.ping() is True and client.info("server").get("process_id") == self._process.pid
        except redis.RedisError:
            return False
        finally:
            client.close()

    def _end(self, *, kill: bool) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        if kill:
            process.kill()
        else:
            process.terminate()
            try:
                process.wait(timeout=10)
                return
            except subprocess.TimeoutExpired:
                process.kill()
        process.wait()
