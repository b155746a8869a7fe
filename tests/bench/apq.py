"""Automatic persisted queries in ``make bench`` (``python -m tests.bench.run --apq-only`` runs this part alone):
the bench's own read documents (scenarios 1 to 3 of ``tests.bench.run``: a lookup, a page of 50 with state,
twenty aliased lookups) sent by hash alone, by POST and by GET, beside the same documents POSTed in full.

Columns, measured side by side (``measure_side_by_side``: their concurrency-32 rounds take turns, so a slow
spell of this shared machine falls on all of them alike):

- ``full_post``: ``{"query": ...}`` POSTed, what a client without APQ sends (the gateway's lean path);
- ``hash_post``: ``{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": ...}}}`` POSTed;
- ``hash_get``: ``?extensions=...`` by GET (Apollo Client's ``useGETForHashedQueries``);
- ``full_get``: ``?query=...`` by GET. Not APQ: the control that tells what GET costs (Strawberry's general
  path, where the lean path takes only POSTs) from what the hash lookup costs.

The store in memory (``memory/...``) and in a real Redis of the run's own (``redis/...``, on a second gateway
with ``GATEWAY_REDIS_URL``, whose ``full_post`` never reaches the store: the control that tells the second
gateway from its store's lookups; ``Redis CPU`` is the server's own). A hash column's operation is what Apollo's link
does: the hash alone, and on ``PERSISTED_QUERY_NOT_FOUND`` the document with its hash; each hash is registered
before anything is measured, and ``misses`` counts the not-found answers while measured (0: every one a hit).

Bytes on the wire are counted on a raw socket: a TCP relay (``CountingRelay``) between httpx and the gateway
counts what the client's socket writes (request line, headers, body) and reads (status line, headers, body),
HTTP/1.1 without TLS or compression, with httpx's default headers and the bench's ``Authorization`` and
``Accept``. Latency and throughput are measured without the relay: at concurrency 1 the columns take turns
operation by operation (``interleaved_latencies``), at 32 round by round; the gateway's CPU (and Redis's) is
read to the nanosecond (``precise_cpu_seconds``), as a lookup's is a tenth of the kernel's 10 ms tick.

First use (``FirstUse``): a caller the store has never seen sends the hash alone, is answered
``PERSISTED_QUERY_NOT_FOUND``, and sends the document with its hash, which runs and registers it; Apollo's GET
variant misses by GET and registers by POST. Each new caller is the same Polar token with Voucherify keys of its
own (part of the caller's digest, so the store has never seen it; Polar sees the same token, so the upstream
requests compare): those two header lines make its requests longer than the steady ones, by
``extra_header_bytes``.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any

import httpx

from gateway.sandbox.voucherify.seed import DEMO_APP_TOKEN
from tests.bench.run import (
    HEADERS,
    Figures,
    Operation,
    _latencies,
    _percentile,
    _reset,
    _set_latency,
    _upstream_total,
    measure_side_by_side,
    precise_cpu_seconds,
    scenarios,
)
from tests.redis_server import RedisServer
from tests.servers import GatewayProcess, SandboxProcess, gateway_process, sandbox_process

APQ_SCENARIOS = ("1", "2", "3")  # the read documents of one upstream: 4 writes, 5 and 6 need Voucherify's too
MEMORY_COLUMNS = ("full_post", "hash_post", "hash_get", "full_get")
REDIS_COLUMNS = ("full_post", "hash_post", "hash_get")  # full_post: the control that never reaches the store
NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
# Operations a concurrency-32 round are c32 times the scenario's weight: a lookup costs a tenth of a page's CPU,
# and two of them a worker keep its rounds long enough to be a rate; the other rounds are one operation per
# worker, the fewest that are still 32 at once, to keep the whole part near two minutes on two cores.
ROUND_WEIGHT = {"1": 2, "2": 1, "3": 1}
FIRST_USE_CALLERS = 10  # new callers timed per scenario, store and way of missing
_callers = itertools.count(1)  # every new caller of a run is new to both stores


def sha256_hash(document: str) -> str:
    """The hash Apollo's link sends: SHA-256 of the document's UTF-8 text, in lowercase hex."""
    return hashlib.sha256(document.encode()).hexdigest()


def persisted_extensions(document: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256_hash(document)}}


def hash_only_body(document: str) -> dict[str, Any]:
    return {"extensions": persisted_extensions(document)}


def registering_body(document: str) -> dict[str, Any]:
    """The retry after a miss: the document and its hash, which registers it once it ran."""
    return {"query": document, "extensions": persisted_extensions(document)}


def hash_only_params(document: str) -> dict[str, str]:
    """A hash-only GET's query string, before URL encoding: the extensions as compact JSON (as
    ``JSON.stringify`` writes them). The bench's documents have no variables or operation name to add."""
    return {"extensions": json.dumps(persisted_extensions(document), separators=(",", ":"))}


def not_found(body: object) -> bool:
    """Whether an answer is the store's miss, which a client answers by sending the document."""
    errors = body.get("errors") if isinstance(body, dict) else None
    return isinstance(errors, list) and any(
        isinstance(error, dict) and (error.get("extensions") or {}).get("code") == NOT_FOUND for error in errors
    )


def new_caller_headers(number: int) -> dict[str, str]:
    """The bench's headers plus Voucherify keys of a caller numbered ``number`` (same length for any number
    below a million, so every new caller's requests have the same size)."""
    return {**HEADERS, "X-Voucherify-App-Id": f"vf_bench_{number:06d}", "X-Voucherify-App-Token": DEMO_APP_TOKEN}


Send = Callable[[httpx.AsyncClient, Mapping[str, str]], Awaitable[httpx.Response]]


def sender(column: str, url: str, document: str) -> Send:
    """The first request of a ``column``'s operation (for a hash column, the retry is ``registering_body``)."""
    if column == "full_post":
        return lambda client, headers: client.post(url, json={"query": document}, headers=headers)
    if column == "hash_post":
        return lambda client, headers: client.post(url, json=hash_only_body(document), headers=headers)
    if column == "hash_get":
        return lambda client, headers: client.get(url, params=hash_only_params(document), headers=headers)
    if column == "full_get":
        return lambda client, headers: client.get(url, params={"query": document}, headers=headers)
    raise ValueError(f"no column {column}")


@dataclass
class Misses:
    count: int = 0


def _checked(response: httpx.Response) -> Any:
    body = response.json()
    if response.status_code != 200 or "errors" in body:
        raise RuntimeError(f"operation failed: {response.status_code} {response.text[:300]}")
    return body


def apq_operation(column: str, url: str, document: str, misses: Misses, headers: Mapping[str, str] = HEADERS
                  ) -> Operation:  # fmt: skip
    """One operation as a client of ``column`` makes it: for a hash column, the hash alone, and after a miss
    (counted in ``misses``) the document with its hash."""
    send = sender(column, url, document)

    async def run(client: httpx.AsyncClient) -> None:
        response = await send(client, headers)
        if column.startswith("hash") and not_found(response.json()):
            misses.count += 1
            response = await client.post(url, json=registering_body(document), headers=headers)
        _checked(response)

    return run


@dataclass
class Traffic:
    sent: int = 0  # by the client: request lines, headers, bodies
    received: int = 0  # by the client: status lines, headers, bodies

    def minus(self, before: Traffic) -> Traffic:
        return Traffic(self.sent - before.sent, self.received - before.received)


class CountingRelay:
    """A TCP relay on 127.0.0.1 to ``host:port`` that counts every byte each way: what the client's socket
    writes and reads, whatever the client library adds. A request is counted once its response has arrived
    (the relay counts before it forwards; HTTP/1.1 without pipelining)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.target_port = host, port
        self.traffic = Traffic()
        self.port = 0
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> CountingRelay:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:  # fmt: skip
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(self.host, self.target_port)
        await asyncio.gather(self._pump(client_reader, server_writer, sent=True),
                             self._pump(server_reader, client_writer, sent=False))  # fmt: skip

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, sent: bool) -> None:
        try:
            while data := await reader.read(2**16):
                if sent:
                    self.traffic.sent += len(data)
                else:
                    self.traffic.received += len(data)
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()


def median_traffic(samples: list[Traffic]) -> Traffic:
    """The median of each way (the samples of one operation repeated differ by a byte at most, if at all)."""
    return Traffic(round(statistics.median(t.sent for t in samples)),
                   round(statistics.median(t.received for t in samples)))  # fmt: skip


async def wire_bytes(make: Callable[[str], Operation], graphql_url: str, repeats: int = 3) -> Traffic:
    """Bytes of one operation made by ``make(url)``, each way: the median of ``repeats`` operations on one
    keep-alive connection through a ``CountingRelay``, after one that opened it (and registered a hash)."""
    target = httpx.URL(graphql_url)
    async with CountingRelay(target.host, target.port or 80) as relay, httpx.AsyncClient(timeout=60) as client:
        operation = make(relay.url + target.path)
        await operation(client)
        samples = []
        for _ in range(repeats):
            before = Traffic(relay.traffic.sent, relay.traffic.received)
            await operation(client)
            samples.append(relay.traffic.minus(before))
    return median_traffic(samples)


async def interleaved_latencies(operations: Mapping[str, Operation], count: int) -> dict[str, list[float]]:
    """``count`` operations of each column at concurrency 1, taking turns (one of each, then again, in a new
    order each turn), each column on a keep-alive connection of its own opened beforehand: a slow spell of this
    shared machine falls on every column alike, not on whichever column was being measured. The order is
    shuffled (the same for every run), not rotated: a rotated one always puts a column after the same other,
    and a gateway answers its first request after the other gateway's turn slowest (a lookup at 0 ms: 3.9 ms
    at the median, then 3.6, 3.5 and 3.3 for the next three in a row), which had favoured every column but the
    first of each gateway by about 0.4 ms."""
    timings: dict[str, list[float]] = {column: [] for column in operations}
    shuffler = random.Random(0)
    async with AsyncExitStack() as stack:
        clients = {column: await stack.enter_async_context(httpx.AsyncClient(timeout=60)) for column in operations}
        for column, operation in operations.items():
            await operation(clients[column])
        order = list(operations)
        for _turn in range(count):
            shuffler.shuffle(order)
            for column in order:
                started = time.perf_counter()
                await operations[column](clients[column])
                timings[column].append(time.perf_counter() - started)
    return timings


@dataclass
class Step:
    seconds: float
    traffic: Traffic


async def first_use_steps(
    client: httpx.AsyncClient, url: str, document: str, miss_via: str, headers: Mapping[str, str],
    relay: CountingRelay | None = None,
) -> tuple[Step, Step]:  # fmt: skip
    """A new caller's first use of ``document``: the hash alone (by ``miss_via``, POST or GET), answered not
    found, then the document with its hash by POST. Each step's time, and its bytes when sent by ``relay``."""
    column = "hash_get" if miss_via == "GET" else "hash_post"
    steps = []
    for send in (sender(column, url, document),
                 lambda c, h: c.post(url, json=registering_body(document), headers=h)):  # fmt: skip
        before = Traffic(relay.traffic.sent, relay.traffic.received) if relay else Traffic()
        started = time.perf_counter()
        response = await send(client, headers)
        seconds = time.perf_counter() - started
        steps.append(Step(seconds, relay.traffic.minus(before) if relay else Traffic()))
        if len(steps) == 1 and not not_found(response.json()):
            raise RuntimeError(f"a new caller's hash was found: {response.text[:300]}")
        if len(steps) == 2:
            _checked(response)
    return steps[0], steps[1]


@dataclass
class ApqFigures:
    store: str
    latency_ms: int
    scenario: str
    column: str
    request_bytes: int
    response_bytes: int
    upstream_requests: int  # of one operation, alone
    upstream_per_op_c32: float  # of every concurrency-32 operation
    p50_ms_c1: float
    p99_ms_c1: float
    p50_ms_c32: float
    p99_ms_c32: float
    ops_per_s_c32: float
    cpu_ms_per_op: float  # the gateway's
    redis_cpu_ms_per_op: float | None  # the Redis server's (redis columns)
    misses: int  # not-found answers while measured


@dataclass
class FirstUse:
    store: str
    latency_ms: int
    scenario: str
    miss_via: str  # the hash-only request's method; the registering retry is a POST
    miss_request_bytes: int
    miss_response_bytes: int
    register_request_bytes: int
    register_response_bytes: int
    extra_header_bytes: int  # of a new caller's keys, in each of its requests (beside the steady ones')
    miss_p50_ms: float
    register_p50_ms: float
    pair_p50_ms: float
    upstream_requests_per_pair: float
    callers: int


@dataclass
class ApqReport:
    python: str
    executable: str
    load_average: list[float] = field(default_factory=list)  # 1-minute, at the start and the end
    seconds: float = 0.0  # the whole part's, servers started and stopped
    steady: list[ApqFigures] = field(default_factory=list)
    first_use: list[FirstUse] = field(default_factory=list)


def _first_use(store: str, gateway: GatewayProcess, sandbox: SandboxProcess, scenario: str, document: str,
               latency_ms: int, miss_via: str, steady_bytes: Traffic, callers: int) -> FirstUse:  # fmt: skip
    """``callers`` new callers' first use, timed, and the upstream requests they made; one more, through a
    relay, for the bytes."""

    async def timed() -> list[tuple[Step, Step]]:
        async with httpx.AsyncClient(timeout=60) as client:
            await client.get(gateway.url + "/healthz")  # the connection, opened before anything is timed
            return [await first_use_steps(client, gateway.graphql_url, document, miss_via,
                                          new_caller_headers(next(_callers))) for _ in range(callers)]  # fmt: skip

    async def counted() -> tuple[Step, Step]:
        target = httpx.URL(gateway.graphql_url)
        async with CountingRelay(target.host, target.port or 80) as relay, httpx.AsyncClient(timeout=60) as client:
            await client.get(relay.url + "/healthz")
            return await first_use_steps(client, relay.url + target.path, document, miss_via,
                                         new_caller_headers(next(_callers)), relay)  # fmt: skip

    _set_latency(sandbox, latency_ms)
    _reset(sandbox)
    pairs = asyncio.run(timed())
    upstream = _upstream_total(sandbox)
    miss, register = asyncio.run(counted())
    return FirstUse(
        store=store, latency_ms=latency_ms, scenario=scenario, miss_via=miss_via,
        miss_request_bytes=miss.traffic.sent, miss_response_bytes=miss.traffic.received,
        register_request_bytes=register.traffic.sent, register_response_bytes=register.traffic.received,
        extra_header_bytes=miss.traffic.sent - steady_bytes.sent,
        miss_p50_ms=round(statistics.median(m.seconds for m, _ in pairs) * 1000, 1),
        register_p50_ms=round(statistics.median(r.seconds for _, r in pairs) * 1000, 1),
        pair_p50_ms=round(statistics.median(m.seconds + r.seconds for m, r in pairs) * 1000, 1),
        upstream_requests_per_pair=round(upstream / callers, 2), callers=callers,
    )  # fmt: skip


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def run_apq(latencies: list[int], chosen: tuple[str, ...] = APQ_SCENARIOS, c1: int = 30, c32: int = 32,
            rounds: int = 3, callers: int = FIRST_USE_CALLERS, print_rows: bool = True) -> ApqReport:  # fmt: skip
    """Every chosen read scenario at every latency, on one sandbox and two gateways (the store in memory, in
    Redis); the steady columns side by side (``c1`` operations each at concurrency 1, ``rounds`` of ``c32``
    times ``ROUND_WEIGHT`` at concurrency 32), then the first use of each store, missing by POST and by GET."""
    began = time.monotonic()
    report = ApqReport(python=sys.version.split()[0], executable=sys.executable, load_average=[_load()])
    with ExitStack() as stack:
        sandbox = stack.enter_context(sandbox_process())
        redis = stack.enter_context(RedisServer())
        deadline = {"GATEWAY_REQUEST_DEADLINE_S": "30"}  # as run.py's: the bench measures, deadlines do not cut
        in_redis = {**deadline, "GATEWAY_REDIS_URL": redis.url}
        gateways = {
            "memory": stack.enter_context(gateway_process(sandbox.url, env=deadline)),
            "redis": stack.enter_context(gateway_process(sandbox.url, env=in_redis)),
        }
        columns = [("memory", column) for column in MEMORY_COLUMNS] + [("redis", column) for column in REDIS_COLUMNS]
        with httpx.Client(base_url=sandbox.url, headers=HEADERS) as rest:
            ids = [c["id"] for c in rest.get("/v1/customers/", params={"limit": 5}).json()["items"]]
        documents = {name: document for name, (document, _floor) in scenarios(ids).items()
                     if document is not None and name.split()[0] in set(chosen) & set(APQ_SCENARIOS)}  # fmt: skip
        if print_rows:
            print(APQ_HEADER, flush=True)
        for latency in latencies:
            for scenario, document in documents.items():
                _set_latency(sandbox, latency)
                misses = {f"{store}/{column}": Misses() for store, column in columns}
                servers = {f"{store}/{column}": gateways[store] for store, column in columns}
                operations = {
                    key: apq_operation(column, gateways[store].graphql_url, document, misses[key])
                    for (store, column), key in zip(columns, servers, strict=True)
                }
                for operation in operations.values():  # registers the hash columns' documents
                    asyncio.run(_latencies(operation, 1, 1))
                for counter in misses.values():
                    counter.count = 0
                redis_pids = {key: redis.pid for key in servers if key.startswith("redis/") and redis.pid is not None}
                measured = measure_side_by_side(servers, sandbox, operations, scenario=scenario, latency_ms=latency,
                                                c1=1, c32=c32 * ROUND_WEIGHT[scenario.split()[0]],
                                                redis_pids=redis_pids, rounds=rounds,
                                                cpu_seconds=precise_cpu_seconds)  # fmt: skip
                _set_latency(sandbox, latency)
                sequential = asyncio.run(interleaved_latencies(operations, c1))
                measured = [replace(figures, p50_ms_c1=round(statistics.median(sequential[key]) * 1000, 1),
                                    p99_ms_c1=round(_percentile(sequential[key], 0.99), 1))
                            for key, figures in zip(servers, measured, strict=True)]  # fmt: skip
                for (store, column), figures in zip(columns, measured, strict=True):
                    traffic = asyncio.run(wire_bytes(_maker(column, document), gateways[store].graphql_url))
                    row = _apq_figures(store, column, figures, traffic, misses[f"{store}/{column}"].count)
                    report.steady.append(row)
                    if print_rows:
                        print(apq_row(row), flush=True)
                for store, gateway in gateways.items():
                    for miss_via in ("POST", "GET"):
                        steady = next(r for r in report.steady if (r.store, r.latency_ms, r.scenario, r.column)
                                      == (store, latency, scenario, f"hash_{miss_via.lower()}"))  # fmt: skip
                        report.first_use.append(_first_use(
                            store, gateway, sandbox, scenario, document, latency, miss_via,
                            Traffic(steady.request_bytes, steady.response_bytes), callers,
                        ))  # fmt: skip
        _reset(sandbox)
    report.load_average.append(_load())
    report.seconds = round(time.monotonic() - began, 1)
    return report


def _maker(column: str, document: str) -> Callable[[str], Operation]:
    return lambda url: apq_operation(column, url, document, Misses())


def _apq_figures(store: str, column: str, figures: Figures, traffic: Traffic, misses: int) -> ApqFigures:
    return ApqFigures(
        store=store, latency_ms=figures.latency_ms, scenario=figures.scenario, column=column,
        request_bytes=traffic.sent, response_bytes=traffic.received, upstream_requests=figures.upstream_requests,
        upstream_per_op_c32=figures.upstream_per_op_c32, p50_ms_c1=figures.p50_ms_c1, p99_ms_c1=figures.p99_ms_c1,
        p50_ms_c32=figures.p50_ms_c32, p99_ms_c32=figures.p99_ms_c32, ops_per_s_c32=figures.ops_per_s_c32,
        cpu_ms_per_op=figures.cpu_ms_per_op, redis_cpu_ms_per_op=figures.redis_cpu_ms_per_op, misses=misses,
    )  # fmt: skip


APQ_HEADER = (
    "| Latency | Scenario | Store | Request | Request B | Response B | Upstream req (1 op / per op c32) | p50 ms c1 "
    "| p99 ms c1 | ops/s c32 | CPU ms/op | Redis CPU ms/op | Misses |\n" + "|---" * 13 + "|"
)


def apq_row(f: ApqFigures) -> str:
    redis_cpu = "-" if f.redis_cpu_ms_per_op is None else f.redis_cpu_ms_per_op
    return (f"| {f.latency_ms} ms | {f.scenario} | {f.store} | {f.column} | {f.request_bytes} | {f.response_bytes} "
            f"| {f.upstream_requests} / {f.upstream_per_op_c32:g} | {f.p50_ms_c1} | {f.p99_ms_c1} | {f.ops_per_s_c32} "
            f"| {f.cpu_ms_per_op} | {redis_cpu} | {f.misses} |")  # fmt: skip


def baseline(row: ApqFigures, steady: list[ApqFigures]) -> ApqFigures | None:
    """What ``row`` is compared with: the full POST of its scenario and latency on the same gateway (the same
    store); the Redis gateway's full POST, with the memory gateway's."""
    store = "memory" if row.column == "full_post" else row.store
    return next((f for f in steady if (f.latency_ms, f.scenario, f.store, f.column)
                 == (row.latency_ms, row.scenario, store, "full_post") and f is not row), None)  # fmt: skip


def savings(report: ApqReport) -> list[str]:
    """Each column beside its ``baseline``: bytes the request saves (and the share of the full request), and
    the p50, CPU and throughput it adds or loses. Lines of a Markdown table."""
    lines = []
    for f in report.steady:
        base = baseline(f, report.steady)
        if base is None:
            continue
        saved = base.request_bytes - f.request_bytes
        share = saved / base.request_bytes if base.request_bytes else 0.0
        lines.append(f"| {f.latency_ms} ms | {f.scenario} | {f.store}/{f.column} | {base.store}/{base.column} "
                     f"| {saved} ({share:.0%}) | {f.p50_ms_c1 - base.p50_ms_c1:+.1f} "
                     f"| {f.cpu_ms_per_op - base.cpu_ms_per_op:+.2f} "
                     f"| {f.ops_per_s_c32 / base.ops_per_s_c32 if base.ops_per_s_c32 else 0:.2f}x |")  # fmt: skip
    if not lines:
        return []
    return ["| Latency | Scenario | Request | Against | Request B saved (share) | p50 ms c1 added | CPU ms/op added "
            "| ops/s c32 (ratio) |", "|---" * 8 + "|", *lines]  # fmt: skip


def first_use_table(report: ApqReport) -> list[str]:
    """Each store's first use beside the full POST of the same gateway. Lines of a Markdown table."""
    full = {(f.latency_ms, f.scenario, f.store): f for f in report.steady if f.column == "full_post"}
    lines = []
    for u in report.first_use:
        base = full.get((u.latency_ms, u.scenario, u.store))
        lines.append(
            f"| {u.latency_ms} ms | {u.scenario} | {u.store} | {u.miss_via} miss + POST "
            f"| {u.miss_request_bytes} / {u.miss_response_bytes} "
            f"| {u.register_request_bytes} / {u.register_response_bytes} "
            f"| {u.miss_p50_ms} + {u.register_p50_ms} = {u.pair_p50_ms} | {base.p50_ms_c1 if base else '-'} "
            f"| {u.upstream_requests_per_pair:g} / {base.upstream_requests if base else '-'} |"
        )
    if not lines:
        return []
    extra = sorted({u.extra_header_bytes for u in report.first_use})
    return [
        "| Latency | Scenario | Store | First use | Miss B (request / response) | Register B (request / response) "
        "| p50 ms (miss + register = pair) | Full POST p50 ms c1 | Upstream req (pair / full POST) |",
        "|---|---|---|---|---|---|---|---|---|",
        *lines,
        f"(each first-use request carries {', '.join(map(str, extra))} bytes of the new caller's Voucherify key "
        f"headers beside the steady requests'; {report.first_use[0].callers} new callers a row)",
    ]  # fmt: skip


def print_report(report: ApqReport) -> None:
    load = report.load_average
    print(f"\nautomatic persisted queries: Python {report.python} ({report.executable}), load average {load[0]} "
          f"at the start, {load[-1]} at the end, {report.seconds} s")  # fmt: skip
    tables = {
        "hash-only requests beside the full-document POST:": savings(report),
        "first use by a new caller (the miss, then the registering POST):": first_use_table(report),
    }
    for title, lines in tables.items():
        if lines:
            print(f"\n{title}")
            print("\n".join(lines), flush=True)
