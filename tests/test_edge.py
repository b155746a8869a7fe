"""The edge against slow and greedy clients, on a real gateway: unfinished or trickled request heads,
idle kept-alive connections, bodies that never finish, more connections than the cap; and ``/metrics``
kept off the main port when ``metrics_port`` is set."""

from __future__ import annotations

import re
import select
import selectors
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.raw_http import closed_by_peer, connect, read_response, request
from tests.servers import GatewayProcess, SandboxProcess, gateway_process

UNFINISHED_HEAD = b"POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
QUERY = b'{"query": "{ __typename }"}'


@pytest.fixture(scope="module")
def quick(sandbox_server: SandboxProcess) -> Iterator[GatewayProcess]:
    """A gateway with one-second head and body timeouts and a three-second keep-alive."""
    env = {"GATEWAY_HEADER_TIMEOUT_S": "1", "GATEWAY_BODY_TIMEOUT_S": "1", "GATEWAY_KEEPALIVE_TIMEOUT_S": "3"}
    with gateway_process(sandbox_server.url, env=env) as gateway:
        yield gateway
        _assert_clean_output(gateway)


def _assert_clean_output(gateway: GatewayProcess) -> None:
    time.sleep(0.3)  # the output is read by a thread
    assert "Traceback" not in "".join(gateway.output)


def _close_times(
    connections: list[socket.socket], within: float, since: float | None = None
) -> dict[socket.socket, float]:
    """When (seconds from ``since``, else from now) the server closed each connection, for those it closed
    within ``within`` seconds from now."""
    started = time.monotonic() if since is None else since
    closed: dict[socket.socket, float] = {}
    with selectors.DefaultSelector() as selector:
        for connection in connections:
            connection.setblocking(False)
            selector.register(connection, selectors.EVENT_READ)
        deadline = time.monotonic() + within
        while len(closed) < len(connections) and (left := deadline - time.monotonic()) > 0:
            for key, _ in selector.select(timeout=left):
                sock: socket.socket = key.fileobj  # type: ignore[assignment]
                try:
                    data = sock.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    closed[sock] = time.monotonic() - started
                    selector.unregister(sock)
    return closed


def _healthz(gateway: GatewayProcess) -> int:
    return httpx.get(f"{gateway.url}/healthz", timeout=5).status_code


# Request heads ----------------------------------------------------------------------------------------


def test_200_unfinished_heads_are_closed_after_header_timeout_while_others_are_served(quick: GatewayProcess) -> None:
    """Closes are timed from before the first connection opened, so none can come under the one-second
    timeout however slow the machine is; the heads would never finish, so every close is the timeout's."""
    opened = time.monotonic()
    slow = [connect(quick.url) for _ in range(200)]
    try:
        for connection in slow:
            connection.sendall(UNFINISHED_HEAD)
        assert _healthz(quick) == 200  # served meanwhile
        closed = _close_times(slow, within=30, since=opened)
        assert len(closed) == 200
        assert min(closed.values()) >= 1  # not before the timeout
        assert _healthz(quick) == 200
    finally:
        for connection in slow:
            connection.close()


@pytest.mark.parametrize("interval", [0.05, 0.3])
def test_a_head_trickled_a_byte_at_a_time_is_cut_off(quick: GatewayProcess, interval: float) -> None:
    """More bytes do not extend the head timeout: 20 clients each send a byte every ``interval`` seconds."""
    started = time.monotonic()  # before the first connection opens: no close can come under a second
    trickling = [connect(quick.url) for _ in range(20)]
    head = UNFINISHED_HEAD + b"X-Padding: " + b"a" * 4000
    closed_at: dict[socket.socket, float] = {}
    try:
        for offset in range(len(head)):
            for connection in trickling:
                if connection not in closed_at and closed_by_peer(connection, within=0.001) is False:
                    try:
                        connection.sendall(head[offset : offset + 1])
                    except OSError:
                        closed_at[connection] = time.monotonic() - started
                elif connection not in closed_at:
                    closed_at[connection] = time.monotonic() - started
            if len(closed_at) == len(trickling) or time.monotonic() - started > 20:
                break
            time.sleep(interval)
        assert len(closed_at) == 20
        assert min(closed_at.values()) >= 1  # not before the timeout
        assert offset < len(head) // 10  # cut off while the head was still trickling, not when it ended
    finally:
        for connection in trickling:
            connection.close()


def test_a_kept_alive_connection_idles_for_keepalive_timeout_and_its_next_head_has_header_timeout(
    quick: GatewayProcess,
) -> None:
    # Idle after a response: the head timeout does not run; the keep-alive timeout (3 s) closes it.
    with connect(quick.url) as idle:
        idle.sendall(request("GET", "/healthz", []))
        assert read_response(idle).status == 200
        answered = time.monotonic()
        assert closed_by_peer(idle, within=2) is False
        assert closed_by_peer(idle, within=20) is True  # a bound on the wait, not a timing claim
        assert time.monotonic() - answered > 2.5  # the keep-alive timeout's doing, not an early close
    # A next request that starts, then trickles: cut off one second after its first byte.
    with connect(quick.url) as trickling:
        trickling.sendall(request("GET", "/healthz", []))
        assert read_response(trickling).status == 200
        time.sleep(0.5)
        first_byte = time.monotonic()
        cut = False
        for byte in UNFINISHED_HEAD:
            try:
                trickling.sendall(bytes([byte]))
            except OSError:
                cut = True
                break
            if closed_by_peer(trickling, within=0.1):
                cut = True
                break
        assert cut
        assert time.monotonic() - first_byte > 0.8  # the head timeout, counted from its first byte


# Bodies -----------------------------------------------------------------------------------------------


def _stalled(connection: socket.socket) -> None:
    connection.sendall(request("POST", "/graphql", [("Content-Type", b"application/json"),
                                                   ("Content-Length", b"200")], QUERY[:10]))  # fmt: skip


def _trickled(connection: socket.socket) -> None:
    connection.sendall(request("POST", "/graphql", [("Content-Type", b"application/json"),
                                                   ("Content-Length", b"200")]))  # fmt: skip
    for _ in range(20):  # a byte every 0.1 s: it would take 20 s, if the gateway has not answered yet
        if select.select([connection], [], [], 0.1)[0]:
            return
        connection.sendall(b" ")


def _chunked(connection: socket.socket) -> None:
    connection.sendall(request("POST", "/graphql", [("Content-Type", b"application/json"),
                                                   ("Transfer-Encoding", b"chunked")]))  # fmt: skip
    connection.sendall(b"5\r\n{\"que\r\n")  # and no last chunk


@pytest.mark.parametrize("send", [_stalled, _trickled, _chunked], ids=["stalled", "trickled", "chunked"])
def test_a_slow_body_is_answered_408_and_the_connection_closed(
    quick: GatewayProcess, sandbox: SandboxProcess, send: object
) -> None:
    assert callable(send)
    with connect(quick.url) as connection:
        started = time.monotonic()
        send(connection)
        response = read_response(connection, timeout=5)
        elapsed = time.monotonic() - started
        assert response.status == 408
        assert response.headers["content-type"].startswith("application/json")
        assert response.headers.get("connection", "").lower() == "close"
        assert response.headers["x-request-id"]
        message = httpx.Response(200, content=response.body).json()["errors"][0]["message"]
        assert "body_timeout_s" in message
        assert elapsed > 0.9  # the body timeout's answer: the body never completes
        assert closed_by_peer(connection, within=1)
    assert sandbox.stats() == {}


def test_a_body_that_arrives_in_time_is_served(quick: GatewayProcess) -> None:
    with connect(quick.url) as connection:
        connection.sendall(request("POST", "/graphql", [("Content-Type", b"application/json"),
                                                        ("Content-Length", str(len(QUERY)).encode())]))  # fmt: skip
        for offset in range(0, len(QUERY), 9):  # in pieces, within the second
            time.sleep(0.05)
            connection.sendall(QUERY[offset : offset + 9])
        response = read_response(connection)
    assert response.status == 200
    assert response.body == b'{"data":{"__typename":"Query"},"extensions":{"cost":{"requested":1,"limit":20000}}}'


# Connections ------------------------------------------------------------------------------------------


def test_connections_over_max_connections_are_closed_at_once_and_the_rest_are_served(
    sandbox_server: SandboxProcess,
) -> None:
    env = {"GATEWAY_MAX_CONNECTIONS": "20", "GATEWAY_HEADER_TIMEOUT_S": "30", "GATEWAY_KEEPALIVE_TIMEOUT_S": "30"}
    with gateway_process(sandbox_server.url, env=env) as gateway:
        idle = [connect(gateway.url) for _ in range(20 + 15)]
        try:
            closed = _close_times(idle, within=10)  # the head timeout is 30 s: every close here is the cap's
            assert len(closed) == 15  # the cap's worth stay open
            kept = [connection for connection in idle if connection not in closed]
            for connection in kept[:3]:  # those open are served
                connection.setblocking(True)
                connection.sendall(request("GET", "/healthz", []))
                assert read_response(connection).status == 200
            with pytest.raises(httpx.TransportError):  # at the cap, a new one is closed at once
                httpx.get(f"{gateway.url}/healthz", timeout=5)
            for connection in kept[:5]:
                connection.close()
            time.sleep(0.3)
            assert _healthz(gateway) == 200  # once some close, new ones are served
            metrics = httpx.get(f"{gateway.url}/metrics", timeout=5).text
            assert 'gateway_http_connections_closed_total{reason="max_connections"} 16.0' in metrics
        finally:
            for connection in idle:
                connection.close()
        _assert_clean_output(gateway)
        assert "closed 1 connections at once: 20 are open (setting max_connections)" in "".join(gateway.output)


# /metrics ---------------------------------------------------------------------------------------------


def test_metrics_are_on_the_main_port_by_default(quick: GatewayProcess) -> None:
    response = httpx.get(f"{quick.url}/metrics", timeout=5)
    assert response.status_code == 200
    assert "gateway_http_connections_closed_total" in response.text


def _metrics_url(gateway: GatewayProcess) -> str:
    """The metrics address the gateway printed after its listening line."""
    deadline = time.monotonic() + 10
    while not (found := re.search(r"metrics: (http://127\.0\.0\.1:\d+)/metrics", "".join(gateway.output))):
        assert time.monotonic() < deadline, gateway.output
        time.sleep(0.1)
    return found.group(1)


def test_with_metrics_port_metrics_are_served_only_there(sandbox_server: SandboxProcess) -> None:
    with gateway_process(sandbox_server.url, env={"GATEWAY_METRICS_PORT": "0"}) as gateway:
        metrics_url = _metrics_url(gateway)
        assert metrics_url != gateway.url
        assert httpx.get(f"{gateway.url}/metrics", timeout=5).status_code == 404
        assert httpx.post(gateway.graphql_url, json={"query": "query Probe { __typename }"}).status_code == 200
        scraped = httpx.get(f"{metrics_url}/metrics", timeout=5)
        assert scraped.status_code == 200
        assert 'gateway_graphql_operations_total{operation="Probe",outcome="ok",type="query"} 1.0' in scraped.text
        assert httpx.get(f"{metrics_url}/healthz", timeout=5).status_code == 404  # nothing else there
        assert httpx.post(f"{metrics_url}/graphql", json={"query": "{ __typename }"}, timeout=5).status_code == 404


def test_workers_share_the_metrics_port(sandbox_server: SandboxProcess) -> None:
    env = {"GATEWAY_METRICS_PORT": "0", "GATEWAY_WORKERS": "2"}
    with gateway_process(sandbox_server.url, env=env) as gateway:
        metrics_url = _metrics_url(gateway)
        for _ in range(10):
            assert httpx.post(gateway.graphql_url, json={"query": "query Probe { __typename }"}).status_code == 200
        for _ in range(6):  # whichever worker answers counts both
            scraped = httpx.get(f"{metrics_url}/metrics", timeout=5).text
            assert 'gateway_graphql_operations_total{operation="Probe",outcome="ok",type="query"} 10.0' in scraped
            assert httpx.get(f"{gateway.url}/metrics", timeout=5).status_code == 404
