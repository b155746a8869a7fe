"""What the live attack tests share: gateways started with the settings under test, sockets that speak as much
of the protocols as the attacker chooses, raw HTTP for webhook deliveries no client library sends, and the
checks every test ends with: the gateway still answers a query over HTTP, and its log has no traceback.

Every wait is bounded: a socket's read, a connection's close, a process's CPU over a fixed idle window.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from typing import Any

import aiohttp
import httpx
from standardwebhooks import Webhook

from gateway.sandbox.seed import DEMO_TOKEN
from tests.live_shared.harness import TRANSPORT_WS, Subscriber, graphql
from tests.raw_http import address
from tests.servers import MAX_KEPT_LINES, GatewayProcess, SandboxProcess, gateway_process

WEBHOOK_ROUTE = "/webhooks/polar"
HEALTH_QUERY = "{ customers(first: 1) { nodes { id } } }"
CUSTOMERS_CHANGED = "subscription { customersChanged { type customerId } }"
CLOSE_WITHIN_S = 10.0  # the longest a test waits for the gateway to close a socket it should close
ABNORMAL = 1006  # aiohttp's code for a connection that ended without a close frame (the gateway failed)


def webhook_secret() -> str:
    """An endpoint secret as Polar shows one: ``whsec_`` and the base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


@contextmanager
def live_gateway(sandbox: SandboxProcess, **settings: object) -> Iterator[GatewayProcess]:
    """A gateway on the sandbox with ``GATEWAY_<NAME>`` for each setting given (a webhook secret of its own
    unless ``polar_webhook_secret`` is one of them)."""
    env = {"GATEWAY_POLAR_WEBHOOK_SECRET": webhook_secret()}
    env.update({f"GATEWAY_{name.upper()}": str(value) for name, value in settings.items()})
    with gateway_process(sandbox.url, env=env) as gateway:
        _first_line[id(gateway)] = (gateway, 0)
        try:
            yield gateway
        finally:
            del _first_line[id(gateway)]


# Each running gateway's first log line of the test under way: a test answers for its own lines only (a
# gateway serves a whole module, and one test's traceback is not the next one's).
_first_line: dict[int, tuple[GatewayProcess, int]] = {}


def mark_logs() -> None:
    for key, (gateway, _) in _first_line.items():
        _first_line[key] = (gateway, len(gateway.output))


# The checks every test ends with ---------------------------------------------------------------


def assert_unharmed(gateway: GatewayProcess) -> None:
    """The gateway answers a query over HTTP, and has written no traceback (nor aiohttp's "Error handling
    request") to its log since the test began. A refused request marks the log first: once its access line is
    there, whatever the gateway logged before it is too."""
    body = graphql(gateway, HEALTH_QUERY)
    assert "errors" not in body, body
    assert body["data"]["customers"]["nodes"], body
    mark = secrets.token_hex(16)
    response = httpx.get(f"{gateway.url}/__attack_mark", headers={"X-Request-Id": mark}, timeout=10)
    assert response.status_code == 404
    deadline = time.monotonic() + 10
    while not any(mark in line for line in list(gateway.output)):
        assert time.monotonic() < deadline, "the gateway's access line for the mark never came"
        time.sleep(0.02)
    assert len(gateway.output) < MAX_KEPT_LINES, "the log outgrew what is kept: a traceback past it would go unseen"
    log = "".join(gateway.output[_first_line.get(id(gateway), (gateway, 0))[1] :])
    assert "Traceback" not in log, log[log.index("Traceback") - 300 :][:3000]
    assert "Error handling request" not in log, log[log.index("Error handling request") - 300 :][:3000]


def polar_calls(sandbox: SandboxProcess) -> int:
    """API requests the sandbox has answered since its last reset (every route, refusals included)."""
    return sum(sandbox.stats().values())


def open_connections(gateway: GatewayProcess) -> int:
    """TCP connections the gateway still holds on its listening port (its own side not closed yet): sockets of
    the process, from ``/proc``, matched with the kernel's table by inode."""
    pid = gateway.process.pid
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    port = address(gateway.url)[1]
    held = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if int(local.rsplit(":", 1)[1], 16) == port and state != "0A" and inode in inodes:  # 0A: LISTEN
                    held += 1
    return held


async def until_no_connections(gateway: GatewayProcess, within_s: float = CLOSE_WITHIN_S) -> None:
    deadline = time.monotonic() + within_s
    while (held := open_connections(gateway)) > 0:
        assert time.monotonic() < deadline, f"the gateway still holds {held} connections after {within_s} s"
        await asyncio.sleep(0.05)


async def idle_cpu_seconds(gateway: GatewayProcess, window_s: float = 2.0) -> float:
    """CPU time the gateway uses over ``window_s`` seconds with nothing sent to it."""
    before = gateway.cpu_seconds()
    await asyncio.sleep(window_s)
    return gateway.cpu_seconds() - before


# Sockets ---------------------------------------------------------------------------------------


async def open_socket(
    gateway: GatewayProcess,
    protocol: str = TRANSPORT_WS,
    headers: dict[str, str] | None = None,
    offered: tuple[str, ...] | None = None,
    compress: int = 0,
) -> Subscriber:
    """An upgraded socket on ``/graphql`` speaking ``protocol``, nothing sent yet; or, with ``offered``, the
    socket whatever the gateway chose of those subprotocols; ``compress``: permessage-deflate offered."""
    session = aiohttp.ClientSession()
    try:
        socket_ = await session.ws_connect(
            gateway.graphql_url,
            protocols=(protocol,) if offered is None else offered,
            headers=headers,
            timeout=aiohttp.ClientWSTimeout(ws_close=5),
            compress=compress,
        )
    except BaseException:
        await session.close()
        raise
    assert offered is not None or socket_.protocol == protocol
    return Subscriber(session, socket_, protocol)


async def send_json(subscriber: Subscriber, message: object) -> None:
    await subscriber.socket.send_str(json.dumps(message))


async def send_init(subscriber: Subscriber, token: str | None = DEMO_TOKEN, key: str = "Authorization") -> None:
    """``connection_init`` with the token in ``connectionParams`` under ``key`` (none: an empty payload)."""
    payload = {key: f"Bearer {token}"} if token is not None else {}
    await send_json(subscriber, {"type": "connection_init", "payload": payload})


async def initialised(gateway: GatewayProcess, protocol: str = TRANSPORT_WS, token: str = DEMO_TOKEN) -> Subscriber:
    """A socket whose ``connection_init`` the gateway acknowledged."""
    subscriber = await open_socket(gateway, protocol)
    try:
        await send_init(subscriber, token)
        ack = await subscriber.receive()
        assert ack["type"] == "connection_ack", ack
    except BaseException:
        await subscriber.close()
        raise
    return subscriber


@asynccontextmanager
async def holding(
    gateway: GatewayProcess, protocols: Iterable[str], token: str = DEMO_TOKEN
) -> AsyncIterator[list[Subscriber]]:
    """Initialised sockets, one per protocol given, all closed when the block ends."""
    held: list[Subscriber] = []
    try:
        for protocol in protocols:
            held.append(await initialised(gateway, protocol, token))
        yield held
    finally:
        for subscriber in held:
            await subscriber.close()


def start_message(protocol: str, operation: str, query: str = CUSTOMERS_CHANGED) -> dict[str, Any]:
    kind = "subscribe" if protocol == TRANSPORT_WS else "start"
    return {"id": operation, "type": kind, "payload": {"query": query, "variables": {}}}


def stop_message(protocol: str, operation: str) -> dict[str, Any]:
    return {"id": operation, "type": "complete" if protocol == TRANSPORT_WS else "stop"}


async def upgrade_status(gateway: GatewayProcess, protocol: str = TRANSPORT_WS, token: str | None = None) -> int:
    """The answer to one upgrade: 101 when it was upgraded (the socket is closed at once), else the status."""
    headers = {"Authorization": f"Bearer {token}"} if token else None
    async with aiohttp.ClientSession() as session:
        try:
            socket_ = await session.ws_connect(gateway.graphql_url, protocols=(protocol,), headers=headers)
        except aiohttp.WSServerHandshakeError as refused:
            return refused.status
        await socket_.close()
        return 101


# Webhook deliveries ----------------------------------------------------------------------------


def plausible_headers() -> list[tuple[str, bytes]]:
    """Signature headers that pass every check made before the body (present once each, a short id, a
    timestamp of now), with a signature that will not verify."""
    made_up = "v1," + base64.b64encode(os.urandom(32)).decode()
    return [
        ("webhook-id", f"msg_{secrets.token_hex(8)}".encode()),
        ("webhook-timestamp", str(int(time.time())).encode()),
        ("webhook-signature", made_up.encode()),
    ]


def signed_headers(secret: str, body: bytes, webhook_id: str | None = None) -> list[tuple[str, bytes]]:
    """The signature headers Polar would send for ``body`` with the endpoint's ``secret``."""
    webhook_id = webhook_id or f"msg_{secrets.token_hex(8)}"
    now = datetime.now(UTC)
    signature = Webhook(secret).sign(webhook_id, now, body.decode())
    return [
        ("webhook-id", webhook_id.encode()),
        ("webhook-timestamp", str(int(now.timestamp())).encode()),
        ("webhook-signature", signature.encode()),
    ]


def customer_event(customer_id: str = "cus_attack", organization_id: str = "org_attack") -> bytes:
    event = {
        "type": "customer.updated",
        "timestamp": datetime.now(UTC).isoformat(),
        "data": {"id": customer_id, "organization_id": organization_id, "external_id": None},
    }
    return json.dumps(event).encode()


def webhook_head(headers: list[tuple[str, bytes]], length: int | None) -> bytes:
    """A delivery's request head: ``Content-Length: length``, or chunked when ``length`` is None."""
    framing = ("Transfer-Encoding", b"chunked") if length is None else ("Content-Length", str(length).encode())
    lines = [f"POST {WEBHOOK_ROUTE} HTTP/1.1".encode(), b"Host: gateway", b"Content-Type: application/json"]
    lines += [name.encode() + b": " + value for name, value in [*headers, framing]]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def status_of(head: bytes) -> int:
    return int(head.split(b"\r\n", 1)[0].split()[1])


def read_head(connection: socket.socket, within_s: float) -> bytes | None:
    """The response head the gateway has sent, waiting at most ``within_s``; None when none came (the
    connection closed, or nothing within the time)."""
    deadline = time.monotonic() + within_s
    data = b""
    while b"\r\n\r\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        connection.settimeout(left)
        try:
            received = connection.recv(65536)
        except TimeoutError:
            return None
        except OSError:
            break
        if not received:
            break
        data += received
    return data.partition(b"\r\n\r\n")[0] if b"\r\n\r\n" in data else None
