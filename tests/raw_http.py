"""HTTP/1.1 over a bare socket, for requests no HTTP client library will send: unfinished heads, trickled
bytes, control characters in headers, bodies that never arrive."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]  # lower-case names; the last of repeated ones
    body: bytes
    raw: bytes


def address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    return parts.hostname, parts.port


def connect(url: str, timeout: float = 10) -> socket.socket:
    connection = socket.create_connection(address(url), timeout=timeout)
    connection.settimeout(timeout)
    return connection


def request(method: str, path: str, headers: list[tuple[str, bytes]], body: bytes = b"") -> bytes:
    """A request's bytes, exactly as given: header values are bytes and are not checked."""
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: gateway"]
    lines += [name.encode() + b": " + value for name, value in headers]
    if body and not any(name.lower() in {"content-length", "transfer-encoding"} for name, _ in headers):
        lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def read_response(connection: socket.socket, timeout: float = 10) -> RawResponse:
    """One response: its head, then Content-Length bytes of body (or all until the server closes)."""
    deadline = time.monotonic() + timeout
    data = b""
    while b"\r\n\r\n" not in data:
        data += _recv(connection, deadline)
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (h.partition(":") for h in header_lines)}
    length = int(headers.get("content-length", "-1"))
    while length < 0 or len(body) < length:
        chunk = _recv(connection, deadline, eof_ok=length < 0)
        if not chunk:
            break
        body += chunk
    return RawResponse(int(status_line.split()[1]), headers, body, data)


def exchange(url: str, data: bytes, timeout: float = 10) -> RawResponse:
    with connect(url, timeout) as connection:
        connection.sendall(data)
        return read_response(connection, timeout)


def closed_by_peer(connection: socket.socket, within: float) -> bool:
    """Whether the server closes the connection (EOF or reset) within ``within`` seconds, reading and
    discarding whatever it sends before."""
    deadline = time.monotonic() + within
    while (left := deadline - time.monotonic()) > 0:
        connection.settimeout(left)
        try:
            if connection.recv(65536) == b"":
                return True
        except TimeoutError:
            return False
        except OSError:
            return True
    return False


def _recv(connection: socket.socket, deadline: float, eof_ok: bool = False) -> bytes:
    connection.settimeout(max(0.01, deadline - time.monotonic()))
    chunk = connection.recv(65536)
    if not chunk and not eof_ok:
        raise ConnectionError("the server closed the connection before a whole response")
    return chunk
