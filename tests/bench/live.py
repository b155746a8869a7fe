"""``make bench``'s live scenario: how long a Polar webhook takes to reach GraphQL subscribers, with 1,000 of
them spread over two gateway processes that share one Redis.

One real ``redis-server``, one Polar sandbox, one Voucherify sandbox (so that no gateway holds an embedded one)
and, for each run, two fresh gateway processes (A and B) sharing them, each given the same webhook secret
(``whsec_`` and 32 random bytes, keyed as Polar keys it). From this process, with aiohttp's client:

1. subscribers connect over WebSocket (``graphql-transport-ws``, the demo token in ``connection_init``), half
   to A and half to B, each connection carrying ``--per-connection`` subscriptions of ``customersChanged``;
2. once both processes count them all (``gateway_live_subscribers`` on ``/metrics``), one warm-up webhook is
   posted and waited for at every subscriber (not measured);
3. ``--events`` signed ``customer.updated`` deliveries are posted to process A only, ``--interval-ms`` apart;
   each frame's arrival is timed (``perf_counter`` as the frame is read, parsed afterwards) from just before
   its delivery's POST was sent, and from the moment its 202 answer was read;
4. until every expected frame is in, or ``--drain-s`` after the last POST.

Reported: p50, p99 and max delivery time (from the POST sent, from its 202), also for A's and for B's
subscribers; frames delivered against expected (every subscriber, every event, no loss); the POST's own
latency and statuses; each gateway's resident memory (before subscribers, with them, after the events,
peak) and CPU seconds during the events, beside Redis's, the sandbox's and this process's; the sandbox's
upstream request count while subscribing and during the events.

Two runs by default: every subscriber selecting scalar fields only (``type customerId occurredAt``: no
upstream call per event), and ``--resolved-subscribers`` selecting ``customer { id name }`` too (each event
resolved per subscriber through its own fresh loaders: one Polar call per subscriber per event). The
gateways' cache of Polar's reads (on by default with a webhook secret) is turned off here
(``GATEWAY_CACHE=false``), so that this count stays exact and the figures compare with the runs before the
cache: with it on, the first subscriber to resolve after an event's invalidation fills the entry and the
others of either process may find it, a number that depends on who comes first. Cached reads are measured
by the hot columns of ``tests/bench/run.py``.

Everything runs on 127.0.0.1 of this 2-core machine: the 1,000 client sockets share the cores with the two
gateways, Redis and the sandbox, and a frame's time includes this process's own turn to read it. Every wait
is bounded, so a run ends by itself; nothing about time is asserted (``make bench`` prints figures). The
subscriptions' token revalidation (``subscription_token_revalidate_s``, 60 s by default) is set to 600 s so
that its Polar calls fall outside the measured window.

    python -m tests.bench.live                                        # both runs, as make bench
    python -m tests.bench.live --subscribers 200 --events 10 --resolved-subscribers 0   # a quick look
    python -m tests.bench.run --live-only                             # the same, through the bench's entry
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import secrets
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from standardwebhooks import Webhook

from gateway.sandbox.seed import DEMO_TOKEN
from tests.redis_server import RedisServer
from tests.servers import GatewayProcess, SandboxProcess, gateway_process, sandbox_process, voucherify_sandbox_process

PROTOCOL = "graphql-transport-ws"
SCALARS = "subscription { customersChanged { type customerId occurredAt } }"
RESOLVED = "subscription { customersChanged { type customerId occurredAt customer { id name } } }"
SELECTIONS = {"scalars": SCALARS, "customer { id name }": RESOLVED}
WEBHOOK_ROUTE = "/webhooks/polar"
OPEN_AT_ONCE = 50  # connections being opened at the same time (each subscription asks Polar once)
READY_TIMEOUT_S = 60.0  # for both processes to count every subscription, and for the warm-up to reach them all
PHASE_TIMEOUT_S = 120.0  # opening every connection
MB = 2**20


@dataclass
class LiveFigures:
    selection: str
    subscribers: int
    connections: int
    subscriptions_per_connection: int
    events: int
    interval_ms: int
    expected_frames: int
    delivered_frames: int
    missing_frames: int
    unexpected_messages: int  # errors, completes, duplicates, anything but one "next" per event and subscription
    closed_connections: int  # closed by the gateway before the end
    notes: list[str]  # the first unexpected messages and close codes, verbatim
    ms_from_post: dict[str, float]  # p50, p99, max: from just before the POST was sent to the frame read
    ms_from_202: dict[str, float]  # p50, p99, max, min: from the 202 read to the frame read
    ms_from_post_by_process: dict[str, dict[str, float]]  # A's subscribers, B's (p50, p99, max)
    # Per event and process, its first and its last subscriber's frame, from the POST sent: p50 and max of each
    first_frame_ms_by_process: dict[str, dict[str, float]]
    last_frame_ms_by_process: dict[str, dict[str, float]]
    post_ms: dict[str, float]  # the webhook POST itself: p50, p99, max
    post_statuses: dict[str, int]
    rss_mb: dict[str, dict[str, float]]  # per gateway: started, subscribed, after, peak
    cpu_s: dict[str, float]  # during the events: A, B, redis, sandbox, client (this process)
    upstream_requests_subscribing: int
    upstream_requests_events: int
    subscribe_s: float  # opening every connection and subscription until both processes count them all
    clock_s: float  # from the first POST until every frame was in (or the drain ended)
    load_average: list[float]  # the machine's 1-minute load average before and after the events


@dataclass
class _Socket:
    process: str  # "A" or "B"
    socket: aiohttp.ClientWebSocketResponse[bool]
    frames: list[tuple[float, str]] = field(default_factory=list)  # (perf_counter when read, text)
    close_code: int | None = None


@dataclass
class _Delivery:
    occurred_at: datetime
    sent: float = 0.0
    answered: float = 0.0
    status: int = 0


class _Frames:
    """Counts frames as they are read, so that a wait ends as soon as every awaited one is in."""

    def __init__(self) -> None:
        self.count = 0
        self._target = 0
        self._reached = asyncio.Event()

    def add(self) -> None:
        self.count += 1
        if self.count >= self._target:
            self._reached.set()

    async def wait_for(self, target: int, timeout_s: float) -> bool:
        self._target = target
        self._reached.clear()
        if self.count < target:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout_s):
                    await self._reached.wait()
        return self.count >= target


@dataclass
class _Timings:
    """What the frames read say, once the run is over."""

    from_post: list[float] = field(default_factory=list)  # ms, every expected frame
    from_202: list[float] = field(default_factory=list)
    by_process: dict[str, list[float]] = field(default_factory=lambda: {"A": [], "B": []})
    first: dict[tuple[str, datetime], float] = field(default_factory=dict)  # (process, event): its first frame
    last: dict[tuple[str, datetime], float] = field(default_factory=dict)
    unexpected: int = 0
    notes: list[str] = field(default_factory=list)


def _timings(sockets: list[_Socket], deliveries: list[_Delivery], warm_up: _Delivery, document: str) -> _Timings:
    """Each frame matched to its delivery by ``occurredAt`` (each delivery has its own); anything else, or a
    second frame of one event on one subscription, is unexpected and its first ones kept verbatim."""
    by_time = {delivery.occurred_at: delivery for delivery in deliveries}
    found = _Timings()
    seen: set[tuple[int, str, datetime]] = set()
    for index, opened in enumerate(sockets):
        for read_at, text in opened.frames:
            message = json.loads(text)
            payload = message.get("payload")
            data = payload.get("data") if isinstance(payload, dict) else None
            event = data.get("customersChanged") if isinstance(data, dict) else None
            stamp = event.get("occurredAt") if isinstance(event, dict) else None
            occurred = datetime.fromisoformat(stamp) if isinstance(stamp, str) else None
            if (
                message.get("type") != "next"
                or not isinstance(payload, dict)
                or "errors" in payload
                or not isinstance(event, dict)
                or occurred is None
                or (index, str(message.get("id")), occurred) in seen
                or (occurred not in by_time and occurred != warm_up.occurred_at)
                or (document is RESOLVED and not isinstance(event.get("customer"), dict))  # resolved, not null
            ):
                found.unexpected += 1
                if len(found.notes) < 10:
                    found.notes.append(f"process {opened.process}: {text[:300]}")
                continue
            seen.add((index, str(message.get("id")), occurred))
            delivery = by_time.get(occurred)
            if delivery is None:
                continue  # the warm-up
            elapsed = (read_at - delivery.sent) * 1000
            found.from_post.append(elapsed)
            found.from_202.append((read_at - delivery.answered) * 1000)
            found.by_process[opened.process].append(elapsed)
            key = (opened.process, occurred)
            found.first[key] = min(found.first.get(key, elapsed), elapsed)
            found.last[key] = max(found.last.get(key, elapsed), elapsed)
        if opened.close_code not in (None, 1000) and len(found.notes) < 20:
            found.notes.append(f"process {opened.process}: closed with {opened.close_code}")
    return found


def new_secret() -> str:
    """An endpoint secret as Polar's look: ``whsec_`` and base64 of 32 random bytes (``webhook_signing_key``
    reads such a secret as those bytes, and so does ``standardwebhooks``)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def signed_delivery(webhook: Webhook, customer: dict[str, Any], occurred_at: datetime) -> tuple[bytes, dict[str, str]]:
    """A ``customer.updated`` delivery of ``customer`` as Polar sends it: body and Standard Webhooks headers."""
    body = json.dumps({"type": "customer.updated", "timestamp": occurred_at.isoformat(), "data": customer})
    webhook_id = f"msg_bench_{uuid.uuid4().hex}"
    now = datetime.now(UTC)
    headers = {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": webhook.sign(webhook_id, now, body),
        "Content-Type": "application/json",
    }
    return body.encode(), headers


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process (``/proc/PID/stat``)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _summary(values: list[float], *, low: bool = False) -> dict[str, float]:
    if not values:
        return {}
    figures = {"p50": statistics.median(values), "p99": percentile(values, 0.99), "max": max(values)}
    if low:
        figures["min"] = min(values)
    return {name: round(value, 1) for name, value in figures.items()}


def _per_process(times: dict[tuple[str, datetime], float]) -> dict[str, dict[str, float]]:
    return {
        name: {key: value for key, value in _summary([t for (p, _), t in times.items() if p == name]).items()
               if key != "p99"}
        for name in ("A", "B")
    }  # fmt: skip


def _gateway_env(secret: str, redis_url: str, connections_per_process: int) -> dict[str, str]:
    room = max(1000, connections_per_process + 100)
    return {
        "GATEWAY_POLAR_WEBHOOK_SECRET": secret,
        "GATEWAY_REDIS_URL": redis_url,
        "GATEWAY_MAX_CONNECTIONS_PER_TOKEN": str(max(20, connections_per_process)),
        "GATEWAY_MAX_WEBSOCKET_CONNECTIONS": str(room),
        "GATEWAY_MAX_CONNECTIONS": str(2 * room + 100),  # sockets take at most half of the connections
        "GATEWAY_MAX_SUBSCRIPTIONS_PER_TOKEN": str(room * 10),  # one demo token holds every subscriber here
        "GATEWAY_SUBSCRIPTION_TOKEN_REVALIDATE_S": "600",
        "GATEWAY_CACHE": "false",  # one Polar call per resolved subscriber per event, exactly (the docstring)
    }


async def _open(
    session: aiohttp.ClientSession, gateway: GatewayProcess, process: str, document: str, subscriptions: int
) -> _Socket:
    socket = await session.ws_connect(gateway.graphql_url, protocols=(PROTOCOL,), max_msg_size=2**20)
    await socket.send_str(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {DEMO_TOKEN}"}}))
    answer = await socket.receive(timeout=30)
    if answer.type is not aiohttp.WSMsgType.TEXT or json.loads(answer.data).get("type") != "connection_ack":
        await socket.close()
        raise RuntimeError(f"process {process}: no connection_ack but {answer.type.name} {answer.data!r} "
                           f"(close code {socket.close_code})")  # fmt: skip
    for n in range(subscriptions):
        message = {"id": str(n + 1), "type": "subscribe", "payload": {"query": document}}
        await socket.send_str(json.dumps(message))
    return _Socket(process, socket)


async def _read(opened: _Socket, frames: _Frames) -> None:
    """Every text frame with the time it was read; nothing else is done with it until the run is over
    (only a protocol ping is answered)."""
    socket = opened.socket
    async for message in socket:
        now = time.perf_counter()
        if message.type is aiohttp.WSMsgType.TEXT:
            text: str = message.data
            if '"type":"ping"' in text:
                await socket.send_str('{"type":"pong"}')
                continue
            opened.frames.append((now, text))
            frames.add()
    opened.close_code = socket.close_code


def _what_came(sockets: list[_Socket]) -> str:
    """What the subscribers have been sent so far, for a run that cannot go on: closed connections and the
    first frames that are not events."""
    closed = Counter(f"{opened.process} {opened.socket.close_code}" for opened in sockets if opened.socket.closed)
    other = [f"{opened.process}: {text[:300]}" for opened in sockets for _, text in opened.frames
             if '"type":"next"' not in text or '"errors"' in text]  # fmt: skip
    return f"closed (process, code): {dict(closed)}; {len(other)} other frames, the first: {other[:5]}"


async def _metric(session: aiohttp.ClientSession, gateway: GatewayProcess, name: str) -> float:
    async with session.get(f"{gateway.url}/metrics") as response:
        text = await response.text()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


async def _upstream_total(session: aiohttp.ClientSession, sandbox: SandboxProcess) -> int:
    async with session.get(f"{sandbox.url}/__sandbox/stats") as response:
        total: int = (await response.json())["total"]
    return total


async def _post(session: aiohttp.ClientSession, url: str, webhook: Webhook, customer: dict[str, Any],
                delivery: _Delivery) -> None:  # fmt: skip
    body, headers = signed_delivery(webhook, customer, delivery.occurred_at)
    delivery.sent = time.perf_counter()
    async with session.post(url, data=body, headers=headers) as response:
        await response.read()
        delivery.answered = time.perf_counter()
        delivery.status = response.status


async def measure_delivery(
    a: GatewayProcess, b: GatewayProcess, sandbox: SandboxProcess, redis_pid: int, secret: str,
    customers: list[dict[str, Any]], *, selection: str, subscribers: int, per_connection: int, events: int,
    interval_ms: int, drain_s: float, open_at_once: int = OPEN_AT_ONCE,
) -> LiveFigures:  # fmt: skip
    """One run on two fresh gateways: subscribe, warm up, post ``events`` deliveries to A, read every frame."""
    document = SELECTIONS[selection]
    webhook = Webhook(secret)
    gateways = {"A": a, "B": b}
    rss_started = {name: gateway.rss_bytes() / MB for name, gateway in gateways.items()}
    frames = _Frames()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
        upstream_before_subscribing = await _upstream_total(session, sandbox)
        started = time.monotonic()
        slots = asyncio.Semaphore(open_at_once)
        per_process = subscribers // 2

        async def open_one(process: str, subscriptions: int) -> _Socket:
            async with slots:
                return await _open(session, gateways[process], process, document, subscriptions)

        plan: list[tuple[str, int]] = []  # (process, subscriptions) of each connection
        for process, count in (("A", subscribers - per_process), ("B", per_process)):
            full, rest = divmod(count, per_connection)
            plan += [(process, per_connection)] * full + ([(process, rest)] if rest else [])
        async with asyncio.timeout(PHASE_TIMEOUT_S):
            sockets = await asyncio.gather(*(open_one(*entry) for entry in plan))
        readers = [asyncio.create_task(_read(opened, frames)) for opened in sockets]
        counted = {"A": subscribers - per_process, "B": per_process}
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            seen = {name: await _metric(session, gateways[name], "gateway_live_subscribers") for name in gateways}
            if all(seen[name] >= counted[name] for name in gateways):
                break
            await asyncio.sleep(0.5)  # /metrics costs the gateway milliseconds of CPU
        else:
            raise RuntimeError(f"the gateways count {seen} subscriptions after {READY_TIMEOUT_S} s, not {counted}; "
                               + _what_came(sockets))  # fmt: skip
        subscribe_s = time.monotonic() - started
        rss_subscribed = {name: gateway.rss_bytes() / MB for name, gateway in gateways.items()}
        upstream_after_subscribing = await _upstream_total(session, sandbox)

        url = a.url + WEBHOOK_ROUTE
        warm_up = _Delivery(datetime.now(UTC) - timedelta(seconds=1))
        await _post(session, url, webhook, customers[0], warm_up)
        if warm_up.status != 202:
            raise RuntimeError(f"the warm-up delivery was answered {warm_up.status}, not 202")
        if not await frames.wait_for(subscribers, READY_TIMEOUT_S):
            raise RuntimeError(f"the warm-up event reached {frames.count} of {subscribers} subscribers; "
                               + _what_came(sockets))  # fmt: skip
        warmed = frames.count

        processes = {"A": a.process.pid, "B": b.process.pid, "redis": redis_pid, "sandbox": sandbox.process.pid}
        cpu_before = {name: cpu_seconds(pid) for name, pid in processes.items()}
        client_before = time.process_time()
        upstream_before = await _upstream_total(session, sandbox)
        load_before = os.getloadavg()[0]
        base = datetime.now(UTC)
        deliveries = [_Delivery(base + timedelta(milliseconds=n)) for n in range(events)]
        first = time.perf_counter()
        for n, delivery in enumerate(deliveries):
            await asyncio.sleep(max(0.0, first + n * interval_ms / 1000 - time.perf_counter()))
            await _post(session, url, webhook, customers[n % len(customers)], delivery)
        expected = subscribers * events
        await frames.wait_for(warmed + expected, drain_s)
        clock_s = time.perf_counter() - first
        load_after = os.getloadavg()[0]
        cpu = {name: round(cpu_seconds(pid) - cpu_before[name], 2) for name, pid in processes.items()}
        cpu["client"] = round(time.process_time() - client_before, 2)
        upstream_events = await _upstream_total(session, sandbox) - upstream_before
        rss = {
            name: {"started": round(rss_started[name], 1), "subscribed": round(rss_subscribed[name], 1),
                   "after": round(gateway.rss_bytes() / MB, 1), "peak": round(gateway.peak_rss_bytes() / MB, 1)}
            for name, gateway in gateways.items()
        }  # fmt: skip
        closed_early = sum(1 for opened in sockets if opened.socket.closed)
        await asyncio.gather(*(opened.socket.close() for opened in sockets), return_exceptions=True)
        await asyncio.gather(*readers, return_exceptions=True)

    found = _timings(sockets, deliveries, warm_up, document)
    return LiveFigures(
        selection=selection, subscribers=subscribers, connections=len(sockets),
        subscriptions_per_connection=per_connection, events=events, interval_ms=interval_ms,
        expected_frames=expected, delivered_frames=len(found.from_post),
        missing_frames=expected - len(found.from_post), unexpected_messages=found.unexpected,
        closed_connections=closed_early, notes=found.notes, ms_from_post=_summary(found.from_post),
        ms_from_202=_summary(found.from_202, low=True),
        ms_from_post_by_process={name: _summary(values) for name, values in found.by_process.items()},
        first_frame_ms_by_process=_per_process(found.first), last_frame_ms_by_process=_per_process(found.last),
        post_ms=_summary([(d.answered - d.sent) * 1000 for d in deliveries]),
        post_statuses=dict(Counter(str(d.status) for d in deliveries)),
        rss_mb=rss, cpu_s=cpu,
        upstream_requests_subscribing=upstream_after_subscribing - upstream_before_subscribing,
        upstream_requests_events=upstream_events, subscribe_s=round(subscribe_s, 1), clock_s=round(clock_s, 1),
        load_average=[round(load_before, 2), round(load_after, 2)],
    )  # fmt: skip


@contextmanager
def two_gateways(
    sandbox: SandboxProcess, voucherify: SandboxProcess, env: dict[str, str]
) -> Iterator[tuple[GatewayProcess, GatewayProcess]]:
    """Processes A and B, given the Voucherify sandbox too, so that neither holds an embedded one."""
    with (
        gateway_process(sandbox.url, env=env, voucherify_url=voucherify.url) as a,
        gateway_process(sandbox.url, env=env, voucherify_url=voucherify.url) as b,
    ):
        yield a, b


def run_live(subscribers: int = 1000, per_connection: int = 1, events: int = 50, interval_ms: int = 100,
             resolved_subscribers: int = 100, drain_s: float = 10.0,
             open_at_once: int = OPEN_AT_ONCE) -> list[LiveFigures]:  # fmt: skip
    """Both runs (the resolved one skipped when ``resolved_subscribers`` is 0), each on two fresh gateways
    sharing one Redis and one sandbox, printing each run's lines as it ends."""
    results: list[LiveFigures] = []
    secret = new_secret()
    runs = [("scalars", subscribers), ("customer { id name }", resolved_subscribers)]
    with ExitStack() as stack:
        redis_server = stack.enter_context(RedisServer())
        sandbox = stack.enter_context(sandbox_process())
        voucherify = stack.enter_context(voucherify_sandbox_process())
        assert redis_server.pid is not None
        with httpx.Client(base_url=sandbox.url, headers={"Authorization": f"Bearer {DEMO_TOKEN}"}) as rest:
            customers: list[dict[str, Any]] = rest.get("/v1/customers/", params={"limit": 100}).json()["items"]
        for selection, count in runs:
            if count <= 0:
                continue
            connections_per_process = -(-((count + 1) // 2) // per_connection)
            env = _gateway_env(secret, redis_server.url, connections_per_process)
            with two_gateways(sandbox, voucherify, env) as (a, b):
                started = {gateway.process.pid: len(gateway.output) for gateway in (a, b)}  # start-up's lines left out
                figures = asyncio.run(
                    measure_delivery(a, b, sandbox, redis_server.pid, secret, customers, selection=selection,
                                     subscribers=count, per_connection=per_connection, events=events,
                                     interval_ms=interval_ms, drain_s=drain_s, open_at_once=open_at_once)
                )  # fmt: skip
                problems = [line for gateway in (a, b) for line in gateway.output[started[gateway.process.pid]:]
                            if _is_problem(line)]  # fmt: skip
            figures.notes += [f"gateway log: {line.strip()[:300]}" for line in problems[:10]]
            results.append(figures)
            for line in describe(figures):
                print(line, flush=True)
    return results


def _is_problem(line: str) -> bool:
    """A gateway log line worth showing beside the figures: a warning, an error, a traceback (JSON lines)."""
    return any(mark in line for mark in ('"level":"WARNING"', '"level":"ERROR"', '"level":"CRITICAL"', "Traceback"))


def _connections(f: LiveFigures) -> str:
    if f.subscriptions_per_connection == 1:
        return f"{f.connections} connections of 1 subscription"
    return f"{f.connections} connections of up to {f.subscriptions_per_connection} subscriptions"


def describe(f: LiveFigures) -> list[str]:
    """The run's figures as the bench prints them: one line each for delivery, the POST, CPU and memory."""
    half = f.subscribers - f.subscribers // 2
    post, answer = f.ms_from_post, f.ms_from_202
    by = f.ms_from_post_by_process
    lines = [
        f"live | {f.selection} | {f.subscribers} subscribers ({half} on A, {f.subscribers - half} on B), "
        f"{_connections(f)} | {f.events} webhooks to A, {f.interval_ms} ms apart",
        f"live | {f.selection} | delivered {f.delivered_frames} of {f.expected_frames} frames ({f.missing_frames} "
        f"missing, {f.unexpected_messages} unexpected, {f.closed_connections} connections closed early)",
        f"live | {f.selection} | ms from POST sent: p50 {post.get('p50')} p99 {post.get('p99')} max "
        f"{post.get('max')}; from 202 read: p50 {answer.get('p50')} p99 {answer.get('p99')} max {answer.get('max')} "
        f"min {answer.get('min')}; A's subscribers p50 {by['A'].get('p50')} p99 {by['A'].get('p99')}, B's p50 "
        f"{by['B'].get('p50')} p99 {by['B'].get('p99')}",
        "live | {} | per event, first and last frame of each process (ms from POST, p50/max): {}".format(
            f.selection, "; ".join(
                f"{name} first {f.first_frame_ms_by_process[name].get('p50')}/{f.first_frame_ms_by_process[name].get('max')}"
                f" last {f.last_frame_ms_by_process[name].get('p50')}/{f.last_frame_ms_by_process[name].get('max')}"
                for name in ("A", "B"))),
        f"live | {f.selection} | webhook POST ms: p50 {f.post_ms.get('p50')} p99 {f.post_ms.get('p99')} max "
        f"{f.post_ms.get('max')}, statuses {f.post_statuses}",
        f"live | {f.selection} | CPU s over the {f.clock_s} s of events: A {f.cpu_s['A']}, B {f.cpu_s['B']}, redis "
        f"{f.cpu_s['redis']}, sandbox {f.cpu_s['sandbox']}, this client {f.cpu_s['client']}; upstream requests: "
        f"{f.upstream_requests_subscribing} subscribing ({f.subscribe_s} s), {f.upstream_requests_events} during "
        f"the events; load average {f.load_average[0]} before, {f.load_average[1]} after",
        "live | {} | RSS MB (started, subscribed, after, peak): {}".format(f.selection, "; ".join(
            f"{name} {m['started']}, {m['subscribed']}, {m['after']}, {m['peak']}" for name, m in f.rss_mb.items())),
    ]  # fmt: skip
    lines += [f"live | {f.selection} | note: {note}" for note in f.notes]
    return lines


MACHINE_NOTE = (
    f"live: {os.cpu_count()} cores, everything on 127.0.0.1: this client's sockets share the cores with both "
    "gateways, Redis and the sandbox (and whatever else the machine runs), and each frame's time includes this "
    "process's own turn to read it"
)


def add_arguments(parser: argparse.ArgumentParser, prefix: str = "") -> None:
    parser.add_argument(f"--{prefix}subscribers", type=int, default=1000, help="subscribers, half on each process")
    parser.add_argument(f"--{prefix}per-connection", type=int, default=1, help="subscriptions per WebSocket connection")
    parser.add_argument(f"--{prefix}events", type=int, default=50, help="webhooks posted to process A")
    parser.add_argument(f"--{prefix}interval-ms", type=int, default=100, help="between two webhooks")
    parser.add_argument(f"--{prefix}resolved-subscribers", type=int, default=100,
                        help="subscribers of the run selecting customer { id name } (0: no such run)")  # fmt: skip
    parser.add_argument(f"--{prefix}drain-s", type=float, default=10.0, help="wait for frames after the last POST")
    parser.add_argument(f"--{prefix}open-at-once", type=int, default=OPEN_AT_ONCE, help="connections opened at once")


def run_from_arguments(args: argparse.Namespace, prefix: str = "") -> list[LiveFigures]:
    def value(name: str) -> Any:
        return getattr(args, (prefix + name).replace("-", "_"))

    print(MACHINE_NOTE, flush=True)
    return run_live(subscribers=value("subscribers"), per_connection=value("per-connection"), events=value("events"),
                    interval_ms=value("interval-ms"), resolved_subscribers=value("resolved-subscribers"),
                    drain_s=value("drain-s"), open_at_once=value("open-at-once"))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    parser.add_argument("--output", type=Path, default=Path("artifacts/bench-live.json"))
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]} ({sys.executable}); results also in {args.output}")
    results = run_from_arguments(args)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"python": sys.version.split()[0], "live": [asdict(r) for r in results]},
                                      indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
