"""``POST /webhooks/polar`` from strangers: signature headers are judged before a byte of the body is read (a
stranger's 5 MB costs no read and no HMAC: ``403`` and the connection closed while it is still sending), a body
is read within ``body_timeout_s`` (``408``), at most ``webhook_max_concurrent`` at a time (``503``) and at most
``webhook_max_bytes`` (``413``), once, into one buffer: memory stays flat over hundreds of large bodies."""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.live_attacks.attack import (
    WEBHOOK_ROUTE,
    assert_unharmed,
    chunk,
    customer_event,
    live_gateway,
    plausible_headers,
    read_head,
    signed_headers,
    status_of,
    until_no_connections,
    webhook_head,
    webhook_secret,
)
from tests.raw_http import closed_by_peer, connect
from tests.servers import GatewayProcess, SandboxProcess

SECRET = webhook_secret()
LARGE = 5_000_000
PIECE = b"x" * 65536
MAX_BYTES = 300_000  # the roomy gateway's webhook_max_bytes: a 256 KB body is read whole
MB = 1 << 20


@pytest.fixture(scope="module")
def strict(sandbox_server: SandboxProcess) -> Iterator[GatewayProcess]:
    with live_gateway(
        sandbox_server, polar_webhook_secret=SECRET, body_timeout_s=1, webhook_max_concurrent=2
    ) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def slots(sandbox_server: SandboxProcess) -> Iterator[GatewayProcess]:
    with live_gateway(
        sandbox_server, polar_webhook_secret=SECRET, body_timeout_s=30, webhook_max_concurrent=2
    ) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def roomy(sandbox_server: SandboxProcess) -> Iterator[GatewayProcess]:
    with live_gateway(
        sandbox_server, polar_webhook_secret=SECRET, webhook_max_bytes=MAX_BYTES, webhook_max_concurrent=64
    ) as gateway:
        yield gateway


def _post(gateway: GatewayProcess, body: bytes, headers: list[tuple[str, bytes]]) -> httpx.Response:
    sent = {name: value.decode() for name, value in headers} | {"content-type": "application/json"}
    return httpx.post(gateway.url + WEBHOOK_ROUTE, content=body, headers=sent, timeout=10)


def _accepted(gateway: GatewayProcess) -> None:
    """A delivery Polar would send is taken: the refusals below are the headers', not the signing's."""
    body = customer_event(customer_id=f"cus_{secrets.token_hex(4)}")
    response = _post(gateway, body, signed_headers(SECRET, body))
    assert response.status_code == 202, response.text
    assert response.json()["outcome"] == "accepted"


def _without_signature() -> list[list[tuple[str, bytes]]]:
    """Signature headers that cannot verify, each judged from the headers alone."""
    good = dict(plausible_headers())
    now = int(time.time())
    variants: list[list[tuple[str, bytes]]] = [[]]
    variants += [[(name, value) for name, value in good.items() if name != missing] for missing in good]
    variants += [[*good.items(), (twice, good[twice])] for twice in good]  # one of them repeated
    for name, value in [
        ("webhook-timestamp", str(now - 3600).encode()),
        ("webhook-timestamp", str(now + 3600).encode()),
        ("webhook-timestamp", b"soon"),
        ("webhook-timestamp", b"nan"),
        ("webhook-timestamp", b"inf"),
        ("webhook-timestamp", b"1" * 400),
        ("webhook-timestamp", b""),
        ("webhook-id", b"m" * 201),
        ("webhook-id", b""),
        ("webhook-signature", b""),
    ]:
        variants.append([*{**good, name: value}.items()])
    return variants


# Headers judged before the body ----------------------------------------------------------------


def _refused_before_the_body(gateway: GatewayProcess, headers: list[tuple[str, bytes]], chunked: bool) -> int:
    """Claims a 5 MB body, sends its first 64 KB, then waits: the answer must come without the rest (a gateway
    that read the body would wait for it, then answer 408), and the connection must be closed after it."""
    with connect(gateway.url, 10) as connection:
        connection.sendall(webhook_head(headers, None if chunked else LARGE))
        connection.sendall(chunk(PIECE) if chunked else PIECE)
        head = read_head(connection, 5)
        assert head is not None, "no answer while the body was still coming"
        assert closed_by_peer(connection, 5), "the connection was kept open for the rest of the body"
        return status_of(head)


async def test_unsigned_large_bodies_are_refused_before_they_are_read(strict: GatewayProcess) -> None:
    async with asyncio.timeout(120):
        await asyncio.to_thread(_accepted, strict)
        variants = _without_signature()
        statuses = await asyncio.gather(
            *(
                asyncio.to_thread(_refused_before_the_body, strict, headers, chunked)
                for headers in variants
                for chunked in (False, True)
            )
        )
        assert set(statuses) == {403}, statuses
        await until_no_connections(strict)
        assert_unharmed(strict)


@dataclass
class Blast:
    status: int | None
    answered_at: float | None  # monotonic
    sent: int
    finished_at: float | None  # monotonic: the whole body was handed to the kernel
    reset: bool


def _blast(gateway: GatewayProcess, headers: list[tuple[str, bytes]], chunked: bool) -> Blast:
    """5 MB as fast as the connection takes it, the answer read meanwhile."""
    with connect(gateway.url, 10) as connection:
        answer: list[tuple[bytes | None, float]] = []
        reader = threading.Thread(target=lambda: answer.append((read_head(connection, 10), time.monotonic())))
        connection.sendall(webhook_head(headers, None if chunked else LARGE))
        reader.start()
        sent, reset, finished = 0, False, None
        try:
            while sent < LARGE:
                connection.sendall(chunk(PIECE) if chunked else PIECE)
                sent += len(PIECE)
            if chunked:
                connection.sendall(b"0\r\n\r\n")
            finished = time.monotonic()
        except OSError:
            reset = True
        reader.join(15)
        assert answer, "the reader did not finish"
        head, at = answer[0]
        return Blast(status_of(head) if head else None, at if head else None, sent, finished, reset)


async def test_a_stranger_sending_5_mb_at_full_speed_is_answered_before_it_is_done(strict: GatewayProcess) -> None:
    async with asyncio.timeout(120):
        variants = _without_signature()[:8]
        blasts = await asyncio.gather(
            *(asyncio.to_thread(_blast, strict, headers, chunked) for headers in variants for chunked in (False, True))
        )
        for blast in blasts:
            assert blast.status == 403, blast
            assert blast.answered_at is not None
            # Either the gateway closed the connection under the sender, or its answer came first.
            assert blast.reset or (blast.finished_at is not None and blast.answered_at < blast.finished_at), blast
        await until_no_connections(strict)
        assert_unharmed(strict)


# Bodies read within body_timeout_s, a few at a time, up to webhook_max_bytes -------------------


def _trickled(
    gateway: GatewayProcess,
    chunked: bool,
    results: list[tuple[int | None, float]],
    stop: threading.Event | None = None,
) -> None:
    """Plausible headers, then a byte every 0.1 s of a 1000-byte body, until the gateway answers, ``stop`` is
    set (then the connection is closed unanswered), or 10 s pass."""
    with connect(gateway.url, 10) as connection:
        started = time.monotonic()
        connection.sendall(webhook_head(plausible_headers(), None if chunked else 1000))
        head = None
        while time.monotonic() - started < 10 and not (stop and stop.is_set()):
            head = read_head(connection, 0.1)
            if head is not None:
                break
            try:
                connection.sendall(chunk(b"{") if chunked else b"{")
            except OSError:
                head = read_head(connection, 1)
                break
        results.append((status_of(head) if head else None, time.monotonic() - started))


async def test_a_trickled_body_is_cut_off_at_body_timeout_s(strict: GatewayProcess) -> None:
    async with asyncio.timeout(60):
        for chunked in (False, True):
            results: list[tuple[int | None, float]] = []
            await asyncio.gather(*(asyncio.to_thread(_trickled, strict, chunked, results) for _ in range(2)))
            assert [status for status, _ in results] == [408, 408], results
            assert all(elapsed < 10 for _, elapsed in results), results  # a bound on a hang: the setting is 1 s
        await until_no_connections(strict)
        await asyncio.to_thread(_accepted, strict)
        assert_unharmed(strict)


async def test_bodies_beyond_webhook_max_concurrent_are_503(slots: GatewayProcess) -> None:
    """Ten trickled at once (``body_timeout_s`` 30: none is cut off meanwhile): two are being read, eight are
    refused at once. The two senders then hang up, and their places are free again."""
    async with asyncio.timeout(90):
        for chunked in (False, True):
            results: list[tuple[int | None, float]] = []
            stop = threading.Event()
            trickles = [asyncio.to_thread(_trickled, slots, chunked, results, stop) for _ in range(10)]
            running = asyncio.gather(*trickles)
            deadline = time.monotonic() + 10
            while len(results) < 8:
                assert time.monotonic() < deadline, results
                await asyncio.sleep(0.05)
            assert [status for status, _ in results] == [503] * 8, results
            stop.set()
            await running
            assert [status for status, _ in results[8:]] == [None, None], results
            await until_no_connections(slots)
            await asyncio.to_thread(_accepted, slots)
        assert_unharmed(slots)


def _over_the_limit(gateway: GatewayProcess, claimed: int | None) -> int:
    """Plausible headers and a body over ``webhook_max_bytes`` (default 256,000): claimed by Content-Length
    (only the head is sent: the answer may not wait for a body), or chunked (5 MB, sent until refused)."""
    with connect(gateway.url, 10) as connection:
        connection.sendall(webhook_head(plausible_headers(), claimed))
        if claimed is None:
            try:
                for _ in range(LARGE // len(PIECE)):
                    connection.sendall(chunk(PIECE))
            except OSError:
                pass  # refused and closed under the sender
        head = read_head(connection, 10)
        assert head is not None, "no answer"
        assert closed_by_peer(connection, 5)
        return status_of(head)


async def test_bodies_over_webhook_max_bytes_are_413(strict: GatewayProcess) -> None:
    async with asyncio.timeout(60):
        for claimed in (256_001, 10**6, 2**40, 2**62, None, None):
            assert await asyncio.to_thread(_over_the_limit, strict, claimed) == 413, claimed
        await until_no_connections(strict)
        junk = b'"' + b"a" * 255_998 + b'"'  # 256,000 bytes, the limit itself: read, verified, not an event
        assert len(junk) == 256_000
        response = await asyncio.to_thread(_post, strict, junk, signed_headers(SECRET, junk))
        assert response.status_code == 400, response.text
        assert_unharmed(strict)


# Memory ----------------------------------------------------------------------------------------


async def test_many_large_bodies_at_once_leave_memory_flat(roomy: GatewayProcess) -> None:
    """Ten rounds of fifty 256 KB bodies at once, each read whole (half signed over junk, half with a made-up
    signature): the process's memory after the last round is near what it was after the first. A bound on a
    leak (bodies kept, buffers grown), generous."""
    body = os.urandom(128 * 1024).hex().encode()  # 256 KB of text that is not JSON
    signed = signed_headers(SECRET, body)
    async with asyncio.timeout(240):
        async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=50)) as client:

            async def deliver(index: int) -> int:
                headers = signed if index % 2 else plausible_headers()
                sent = {name: value.decode() for name, value in headers} | {"content-type": "application/json"}
                response = await client.post(roomy.url + WEBHOOK_ROUTE, content=body, headers=sent)
                return response.status_code

            after_first = 0
            for round_ in range(10):
                statuses = await asyncio.gather(*(deliver(index) for index in range(50)))
                assert sorted(set(statuses)) == [400, 403], statuses
                if round_ == 0:
                    after_first = roomy.rss_bytes()
        grown = roomy.rss_bytes() - after_first
        assert grown < 64 * MB, f"resident memory grew by {grown / MB:.0f} MB over 450 more deliveries"
        assert roomy.peak_rss_bytes() < 512 * MB, f"peak {roomy.peak_rss_bytes() / MB:.0f} MB"
        assert_unharmed(roomy)
