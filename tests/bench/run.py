"""``make bench``: the gateway beside the floor and a naive gateway, in one run, on one sandbox per upstream
(Polar's for scenarios 1 to 4, Voucherify's for scenario 5, both for scenario 6).

For each scenario and upstream latency, each column is measured the same way: upstream requests per
operation and round trips on the critical path (from the sandbox's stats and timeline; the Voucherify
sandbox keeps no timeline, so its round trips, and scenario 6's, are not counted), p50 and p99 latency at
concurrency 1 and
32, operations per second, CPU milliseconds per operation and peak memory of the serving process. A fourth
column runs the gateway on httpx's own connection pool, to show what the transport choice is worth under
fan-out. Prints a table and writes the same as JSON.

    python -m tests.bench.run                                    # every scenario, as make bench
    python -m tests.bench.run --scenarios 5 --memory-seconds 0   # scenario 5 alone
    python -m tests.bench.run --scenarios 6 --latencies 0,20 --memory-seconds 0   # the joined page alone
    python -m tests.bench.run --live-only                        # live delivery alone (tests/bench/live.py)
    python -m tests.bench.run --cache-only                       # the hot columns beside the cold ones alone
    python -m tests.bench.run --apq-only                         # automatic persisted queries alone

The hot columns (``HOT_COLUMNS``): the gateway with its cache of Polar's reads on (``GATEWAY_CACHE_TTL_S``; and
Voucherify's, ``GATEWAY_VOUCHERIFY_CACHE_TTL_S``, for scenario 6), in this process's memory and in a real
Redis of the run's own (``tests/redis_server.py``). Each read scenario (``HOT_SCENARIOS``) is repeated within
the TTL with the same token after the warm-up, so what they measure is a read the cache answers, beside the
floor's and the cold gateway's reads of the same data. Scenario 4 writes and scenario 5 is a list page, which
is never cached: neither has a hot column. ``upstream/op c32`` is the upstream requests of all the
concurrency-32 rounds over their operations, where a hot column shows the entries that ended meanwhile (the
token's trust, 60 s; the TTL); ``Redis CPU ms/op`` is the Redis server's CPU in those rounds.

Then automatic persisted queries (``tests/bench/apq.py``): scenarios 1 to 3 sent by hash alone, by POST and by GET,
beside the full documents: bytes on the wire, latency, throughput, upstream requests, with the store in memory
and in Redis, and a new caller's first use (the miss and the registering retry).

Last, the live scenario (``tests/bench/live.py``): webhooks posted to one of two gateway processes sharing a
Redis, timed to each of 1,000 WebSocket subscribers' frames (``--live-subscribers 0``: not run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from gateway.sandbox.seed import DEMO_TOKEN
from gateway.sandbox.voucherify.seed import DEMO_APP_ID, DEMO_APP_TOKEN
from tests.bench.live import add_arguments, run_from_arguments
from tests.redis_server import RedisServer
from tests.servers import (
    _FLOOR_LISTENING,
    GatewayProcess,
    SandboxProcess,
    _process,
    gateway_process,
    sandbox_process,
    voucherify_sandbox_process,
)

HEADERS = {"Authorization": f"Bearer {DEMO_TOKEN}", "Accept": "application/graphql-response+json"}
VOUCHERIFY_HEADERS = {"X-Voucherify-App-Id": DEMO_APP_ID, "X-Voucherify-App-Token": DEMO_APP_TOKEN,
                      "Accept": "application/graphql-response+json"}  # fmt: skip
TEN_FIELDS = "id email name externalId type locale emailVerified createdAt organizationId billingName"
STATE = """state { activeSubscriptions { id status amount currency currentPeriodEnd productId priceId
  meters { meterId consumedUnits } } grantedBenefits { id benefitType grantedAt properties }
  activeMeters { id meterId balance } }"""
COLUMNS = ("gateway", "floor", "naive", "gateway_httpx_pool")
HOT_COLUMNS = ("gateway_hot", "gateway_hot_redis")
CACHE_ONLY_COLUMNS = ("gateway", "floor", *HOT_COLUMNS)  # --cache-only: the hot ones beside the cold ones
HOT_SCENARIOS = ("1", "2", "3", "6")  # reads the cache can answer (4 writes; 5 is a list page, never cached)
CACHE_TTL_S = "300"  # the default with a webhook secret; far longer than a scenario's measurement
CPU_ROUNDS = 5  # the concurrency-32 phase is run this many times; CPU and throughput are their medians


@dataclass
class Figures:
    scenario: str
    latency_ms: int
    column: str
    upstream_requests: int
    round_trips: int | None  # None: the sandbox keeps no timeline (Voucherify's)
    p50_ms_c1: float
    p99_ms_c1: float
    p50_ms_c32: float
    p99_ms_c32: float
    ops_per_s_c32: float
    cpu_ms_per_op: float
    peak_rss_mb: float
    upstream_per_op_c32: float = 0.0  # upstream requests of the concurrency-32 rounds over their operations
    redis_cpu_ms_per_op: float | None = None  # the Redis server's CPU in those rounds (hot_redis column)


Operation = Callable[[httpx.AsyncClient], Awaitable[None]]


def _graphql(url: str, query: str, headers: dict[str, str] = HEADERS) -> Operation:
    async def run(client: httpx.AsyncClient) -> None:
        response = await client.post(url, json={"query": query}, headers=headers)
        body = response.json()
        if response.status_code != 200 or "errors" in body:
            raise RuntimeError(f"operation failed: {response.text[:300]}")

    return run


CREATE = "mutation($input: CustomerCreateInput!) { customerCreate(input: $input) { customer { id } } }"
DELETE = "mutation($id: ID!) { customerDelete(id: $id) { deletedCustomerId } }"


def _create_then_delete(url: str) -> Operation:
    """With variables, as clients send mutations: the documents stay the same, so their parse and
    validation are cached."""

    async def run(client: httpx.AsyncClient) -> None:
        email = f"bench-{uuid.uuid4().hex[:12]}@fastmail.com"  # a domain that accepts mail, as Polar requires
        created = (await client.post(url, json={"query": CREATE, "variables": {"input": {"email": email}}},
                                     headers=HEADERS)).json()  # fmt: skip
        customer_id = created["data"]["customerCreate"]["customer"]["id"]
        deleted = (
            await client.post(url, json={"query": DELETE, "variables": {"id": customer_id}}, headers=HEADERS)
        ).json()
        if deleted["data"]["customerDelete"]["deletedCustomerId"] != customer_id:
            raise RuntimeError("delete failed")

    return run


def _floor_create_then_delete(url: str) -> Operation:
    async def run(client: httpx.AsyncClient) -> None:
        created = (await client.post(f"{url}/s4", headers=HEADERS)).json()
        deleted = await client.delete(f"{url}/s4/{created['id']}", headers=HEADERS)
        if deleted.status_code != 200:
            raise RuntimeError("floor delete failed")

    return run


def _floor(
    url: str, method: str, path: str, params: list[tuple[str, str]] | None = None, headers: dict[str, str] = HEADERS
) -> Operation:
    async def run(client: httpx.AsyncClient) -> None:
        query = httpx.QueryParams([(key, value) for key, value in params or []])
        response = await client.request(method, f"{url}{path}", params=query, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"floor failed: {response.text[:300]}")

    return run


def scenarios(ids: list[str]) -> dict[str, tuple[str | None, tuple[str, str, list[tuple[str, str]] | None]]]:
    """Name: (GraphQL document or None for the mutation pair, floor request)."""
    five = ids[:5]
    aliased = " ".join(f'c{n}: customer(id: "{five[n % 5]}") {{ {TEN_FIELDS} }}' for n in range(20))
    return {
        "1 customer(id:)": (f'{{ customer(id: "{ids[0]}") {{ {TEN_FIELDS} }} }}', ("GET", "/s1", [("id", ids[0])])),
        "2 customers(first: 50) + state": (f"{{ customers(first: 50) {{ nodes {{ {TEN_FIELDS} {STATE} }} }} }}",
                                          ("GET", "/s2", None)),
        "3 20 aliased lookups, 5 ids": (f"{{ {aliased} }}", ("GET", "/s3", [("id", five[n % 5]) for n in range(20)])),
        "4 create then delete": (None, ("POST", "/s4", None)),
    }  # fmt: skip


# Scenario 5, on the Voucherify sandbox: one page of Voucherify's list, one upstream call for the gateway as
# for the floor, which makes the same call and answers the same JSON (tests/bench/test_bench_parts.py).
VOUCHERIFY_SCENARIO = "5 voucherifyCustomers(first: 50)"
VOUCHERIFY_DOCUMENT = "{ voucherifyCustomers(first: 50) { nodes { id sourceId loyalty { points } } } }"
# Scenario 6, on both sandboxes: a page of 50 Polar customers joined to their Voucherify customers, the
# oldest first, as that page's external ids are the ones the Voucherify seed links (the newest page's are
# all unknown to it: every lookup a 404). The gateway makes 1 Polar call and 1 Voucherify call per distinct
# external id (35), as the floor does; the floor makes all the lookups at once, the gateway up to its
# per-caller share (32).
JOINED_SCENARIO = "6 joined page of 50"
JOINED_DOCUMENT = (
    "{ customers(first: 50, sortKey: CREATED_AT) { nodes { id externalId voucherify { loyalty { points } } } } }"
)
JOINED_HEADERS = {**HEADERS, **VOUCHERIFY_HEADERS}
SCENARIO_NUMBERS = ("1", "2", "3", "4", "5", "6")
Sandboxes = SandboxProcess | Sequence[SandboxProcess]  # a scenario's upstreams: one, or several at once


@contextmanager
def floor_process(upstream_url: str, voucherify_url: str | None = None, transport: str = "aiohttp") -> Iterator[GatewayProcess]:
    """The floor (``tests.bench.floor``) on ``upstream_url`` and, for scenarios 5 and 6, ``voucherify_url``."""
    arguments = ["--upstream-url", upstream_url, "--transport", transport]
    if voucherify_url is not None:
        arguments += ["--voucherify-url", voucherify_url]
    with _process(arguments, _FLOOR_LISTENING, 30, module="tests.bench.floor") as (url, process, output):
        yield GatewayProcess(url, process, output)


def critical_path(requests: list[dict[str, Any]]) -> int:
    """The longest chain of requests each starting after the previous one ended."""
    intervals = sorted((request["start"], request["end"]) for request in requests)
    chain: list[int] = []
    for index, (start, _end) in enumerate(intervals):
        before = [chain[j] for j in range(index) if intervals[j][1] <= start]
        chain.append(1 + max(before, default=0))
    return max(chain, default=0)


async def _latencies(operation: Operation, count: int, concurrency: int) -> tuple[list[float], float]:
    timings: list[float] = []
    queue = iter(range(count))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def worker() -> None:
            for _ in queue:
                started = time.perf_counter()
                await operation(client)
                timings.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return timings, time.perf_counter() - started


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] * 1000


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used (Linux), such as the Redis server's."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def precise_cpu_seconds(pid: int) -> float:
    """CPU time of every thread of a process (Linux), to the nanosecond: ``/proc/<pid>/task/*/schedstat``
    rather than ``/proc/<pid>/stat``, whose 10 ms ticks are several lookups' worth of the gateway's CPU."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError):  # a thread that ended meanwhile
            continue
    return total / 1e9


def hot_env(redis_url: str | None = None) -> dict[str, str]:
    """A gateway's settings for a hot column: the cache on without a webhook secret (so by its TTL and the
    writes through the gateway), in this process's memory or, given ``redis_url``, in that Redis."""
    env = {"GATEWAY_CACHE_TTL_S": CACHE_TTL_S, "GATEWAY_VOUCHERIFY_CACHE_TTL_S": CACHE_TTL_S}
    return env if redis_url is None else {**env, "GATEWAY_REDIS_URL": redis_url}


def _each(sandboxes: Sandboxes) -> tuple[SandboxProcess, ...]:
    return (sandboxes,) if isinstance(sandboxes, SandboxProcess) else tuple(sandboxes)


def _set_latency(sandboxes: Sandboxes, latency_ms: int) -> None:
    for sandbox in _each(sandboxes):
        with sandbox.control() as control:
            control.post("/__sandbox/faults", json={"latency_ms": latency_ms}).raise_for_status()


def _reset(sandboxes: Sandboxes) -> None:
    for sandbox in _each(sandboxes):
        with sandbox.control() as control:
            control.post("/__sandbox/reset").raise_for_status()


def _upstream_total(sandboxes: Sandboxes) -> int:
    total = 0
    for sandbox in _each(sandboxes):
        with sandbox.control() as control:
            total += int(control.get("/__sandbox/stats").json()["total"])
    return total


def cold_then_hot(sandboxes: Sandboxes, operation: Operation) -> tuple[int, int]:
    """Upstream requests of one operation, then of the same operation again (for a gateway with its cache on,
    what a hot column's operations cost once warmed up; each counted on freshly reset sandboxes)."""
    return _one_operation_upstream(sandboxes, operation)[0], _one_operation_upstream(sandboxes, operation)[0]


def _one_operation_upstream(sandboxes: Sandboxes, operation: Operation) -> tuple[int, int | None]:
    """Requests of one operation on every sandbox, and its round trips when every sandbox keeps a timeline."""
    _reset(sandboxes)
    asyncio.run(_latencies(operation, 1, 1))
    total = 0
    requests: list[dict[str, Any]] | None = []
    for sandbox in _each(sandboxes):
        with sandbox.control() as control:
            total += control.get("/__sandbox/stats").json()["total"]
            timeline = control.get("/__sandbox/timeline")
        if timeline.status_code == 404:  # the Voucherify sandbox keeps none
            requests = None
        elif requests is not None:
            requests += timeline.raise_for_status().json()["requests"]
    return total, None if requests is None else critical_path(requests)


@dataclass
class _Probe:
    """What one column shows alone: upstream requests, round trips and latency at concurrency 1."""

    requests: int
    round_trips: int | None
    sequential: list[float]


def _probe(sandbox: Sandboxes, operation: Operation, latency_ms: int, c1: int) -> _Probe:
    _set_latency(sandbox, latency_ms)
    asyncio.run(_latencies(operation, 3, 1))  # warm up
    requests, _ = _one_operation_upstream(sandbox, operation)
    _set_latency(sandbox, max(latency_ms, 20))  # overlap shows only when requests take time
    _, round_trips = _one_operation_upstream(sandbox, operation)
    _set_latency(sandbox, latency_ms)
    sequential, _ = asyncio.run(_latencies(operation, c1, 1))
    return _Probe(requests, round_trips, sequential)


def measure_side_by_side(servers: dict[str, GatewayProcess], sandbox: Sandboxes, operations: dict[str, Operation],
                         *, scenario: str, latency_ms: int, c1: int, c32: int,
                         redis_pids: dict[str, int] | None = None, rounds: int = CPU_ROUNDS,
                         cpu_seconds: Callable[[int], float] | None = None) -> list[Figures]:  # fmt: skip
    """Every column of one scenario, on its sandbox or sandboxes (each given the latency; requests summed).
    The concurrency-32 rounds (``rounds`` of ``c32`` operations) take turns between the columns (gateway,
    floor, naive, ..., then again), so a slow spell of this shared machine falls on all of them alike rather
    than on whichever column it met. ``redis_pids``: the Redis server a column's gateway uses, whose CPU in
    its rounds is counted too. Columns may share a server (its CPU is read around each column's round).
    ``cpu_seconds``: how a process's CPU is read from its id (such as ``precise_cpu_seconds``), for the
    servers and Redis alike; by default ``GatewayProcess.cpu_seconds`` and ``process_cpu_seconds``."""

    def server_cpu(column: str) -> float:
        server = servers[column]
        return cpu_seconds(server.process.pid) if cpu_seconds is not None else server.cpu_seconds()

    redis_cpu = cpu_seconds or process_cpu_seconds
    probes = {column: _probe(sandbox, operation, latency_ms, c1) for column, operation in operations.items()}
    _set_latency(sandbox, latency_ms)
    redis_pids = redis_pids or {}
    concurrent: dict[str, list[float]] = {column: [] for column in operations}
    cpu_per_op: dict[str, list[float]] = {column: [] for column in operations}
    redis_cpu_per_op: dict[str, list[float]] = {column: [] for column in redis_pids}
    throughput: dict[str, list[float]] = {column: [] for column in operations}
    upstream: dict[str, int] = {column: 0 for column in operations}
    for _ in range(rounds):
        for column, operation in operations.items():
            requests_before = _upstream_total(sandbox)
            redis_before = redis_cpu(redis_pids[column]) if column in redis_pids else 0.0
            cpu_before = server_cpu(column)
            timings, elapsed = asyncio.run(_latencies(operation, c32, 32))
            cpu_per_op[column].append((server_cpu(column) - cpu_before) / c32)
            if column in redis_pids:
                redis_cpu_per_op[column].append((redis_cpu(redis_pids[column]) - redis_before) / c32)
            upstream[column] += _upstream_total(sandbox) - requests_before
            throughput[column].append(c32 / elapsed)
            concurrent[column].extend(timings)
    _reset(sandbox)
    return [
        Figures(
            scenario=scenario, column=column, latency_ms=latency_ms, upstream_requests=probe.requests,
            round_trips=probe.round_trips, p50_ms_c1=round(statistics.median(probe.sequential) * 1000, 1),
            p99_ms_c1=round(_percentile(probe.sequential, 0.99), 1),
            p50_ms_c32=round(statistics.median(concurrent[column]) * 1000, 1),
            p99_ms_c32=round(_percentile(concurrent[column], 0.99), 1),
            ops_per_s_c32=round(statistics.median(throughput[column]), 1),
            cpu_ms_per_op=round(statistics.median(cpu_per_op[column]) * 1000, 2),
            peak_rss_mb=round(servers[column].peak_rss_bytes() / 2**20, 1),
            upstream_per_op_c32=round(upstream[column] / (c32 * rounds), 4),
            redis_cpu_ms_per_op=round(statistics.median(redis_cpu_per_op[column]) * 1000, 2)
            if column in redis_cpu_per_op else None,
        )
        for column, probe in probes.items()
    ]  # fmt: skip


def _operation(
    column: str, server: GatewayProcess, document: str | None, floor_request: Any, headers: dict[str, str] = HEADERS
) -> Operation:
    if column == "floor":
        if document is None:
            return _floor_create_then_delete(server.url)
        method, path, params = floor_request
        return _floor(server.url, method, path, params, headers)
    return (
        _create_then_delete(server.url + "/graphql")
        if document is None
        else _graphql(server.url + "/graphql", document, headers)
    )


def run(latencies: list[int], c1: int, c32: int, output: Path, chosen: tuple[str, ...] = SCENARIO_NUMBERS,
        cache_only: bool = False, hot_settings: dict[str, str] | None = None) -> list[Figures]:  # fmt: skip
    """Every chosen scenario (by number) at every latency. The gateways and the floor are given the Voucherify
    sandbox too, so no gateway process holds an embedded sandbox of its own. The read scenarios get the hot
    columns too (a Redis of the run's own for ``gateway_hot_redis``); ``cache_only``: only the gateway, the
    floor and the hot columns, for the read scenarios only; ``hot_settings``: more settings for the hot
    columns' gateways (``GATEWAY_*`` variables)."""
    results: list[Figures] = []
    columns = CACHE_ONLY_COLUMNS if cache_only else (*COLUMNS, *HOT_COLUMNS)
    if cache_only:
        chosen = tuple(number for number in chosen if number in HOT_SCENARIOS)
    with ExitStack() as stack:
        sandbox = stack.enter_context(sandbox_process())
        voucherify = stack.enter_context(voucherify_sandbox_process())
        redis = stack.enter_context(RedisServer())

        def gateway(env: dict[str, str] | None = None) -> GatewayProcess:
            # A deadline wide enough for 32 joined pages at once on two cores (the httpx pool's column spends
            # 80 ms of CPU a page): the bench measures the engines, not deadline cuts under its own overload.
            settings = {"GATEWAY_REQUEST_DEADLINE_S": "30", **(env or {})}
            return stack.enter_context(gateway_process(sandbox.url, env=settings, voucherify_url=voucherify.url))

        makers: dict[str, Callable[[], GatewayProcess]] = {
            "gateway": gateway,
            "floor": lambda: stack.enter_context(floor_process(sandbox.url, voucherify.url)),
            "naive": lambda: gateway({"GATEWAY_BATCHING": "false"}),
            "gateway_httpx_pool": lambda: gateway({"GATEWAY_UPSTREAM_TRANSPORT": "httpx"}),
            "gateway_hot": lambda: gateway({**hot_env(), **(hot_settings or {})}),
            "gateway_hot_redis": lambda: gateway({**hot_env(redis.url), **(hot_settings or {})}),
        }
        servers = {column: makers[column]() for column in columns}
        redis_pids = {"gateway_hot_redis": redis.pid} if redis.pid is not None else {}
        with httpx.Client(base_url=sandbox.url, headers=HEADERS) as rest:
            ids = [c["id"] for c in rest.get("/v1/customers/", params={"limit": 5}).json()["items"]]
        polar = {name: (document, floor_request) for name, (document, floor_request) in scenarios(ids).items()
                 if name.split()[0] in chosen}  # fmt: skip

        def measure(name: str, upstreams: Sandboxes, latency: int, document: str | None, floor_request: Any,
                    headers: dict[str, str] = HEADERS) -> None:  # fmt: skip
            hot = name.split()[0] in HOT_SCENARIOS
            operations = {
                column: _operation(column, servers[column], document, floor_request, headers)
                for column in columns
                if hot or column not in HOT_COLUMNS
            }
            for figures in measure_side_by_side(servers, upstreams, operations, scenario=name, latency_ms=latency,
                                                c1=c1, c32=c32, redis_pids=redis_pids):  # fmt: skip
                results.append(figures)
                print(_row(figures), flush=True)

        for latency in latencies:
            for name, (document, floor_request) in polar.items():
                measure(name, sandbox, latency, document, floor_request)
            if "5" in chosen:
                measure(VOUCHERIFY_SCENARIO, voucherify, latency, VOUCHERIFY_DOCUMENT, ("GET", "/s5", None),
                        VOUCHERIFY_HEADERS)  # fmt: skip
            if "6" in chosen:
                measure(JOINED_SCENARIO, (sandbox, voucherify), latency, JOINED_DOCUMENT, ("GET", "/s6", None),
                        JOINED_HEADERS)  # fmt: skip
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({"python": sys.version.split()[0], "results": [asdict(r) for r in results]}, indent=2))
    print_hot_summary(results)
    return results


HEADER = ("latency | scenario | column | upstream req | round trips | p50 c1 ms | p99 c1 ms | p50 c32 ms | "
          "p99 c32 ms | ops/s c32 | CPU ms/op | peak RSS MB | upstream/op c32 | Redis CPU ms/op")  # fmt: skip


def _row(f: Figures) -> str:
    trips = "-" if f.round_trips is None else f.round_trips
    redis_cpu = "-" if f.redis_cpu_ms_per_op is None else f.redis_cpu_ms_per_op
    return (f"{f.latency_ms} | {f.scenario} | {f.column} | {f.upstream_requests} | {trips} | {f.p50_ms_c1} | "
            f"{f.p99_ms_c1} | {f.p50_ms_c32} | {f.p99_ms_c32} | {f.ops_per_s_c32} | {f.cpu_ms_per_op} | {f.peak_rss_mb}"
            f" | {f.upstream_per_op_c32} | {redis_cpu}")  # fmt: skip


def hot_summary(results: list[Figures]) -> list[str]:
    """Each hot row beside the floor's cold one of the same scenario and latency: upstream requests, CPU per
    operation (and its ratio to the floor's) and p50 at concurrency 1. Lines of a Markdown table."""
    floors = {(f.scenario, f.latency_ms): f for f in results if f.column == "floor"}
    lines = []
    for hot in (f for f in results if f.column in HOT_COLUMNS and (f.scenario, f.latency_ms) in floors):
        floor = floors[(hot.scenario, hot.latency_ms)]
        redis_cpu = "" if hot.redis_cpu_ms_per_op is None else f" (+{hot.redis_cpu_ms_per_op} Redis)"
        ratio = hot.cpu_ms_per_op / floor.cpu_ms_per_op if floor.cpu_ms_per_op else float("nan")
        lines.append(
            f"| {hot.latency_ms} ms | {hot.scenario} | {hot.column} | {hot.upstream_requests} / {floor.upstream_requests} "
            f"| {hot.upstream_per_op_c32} | {hot.cpu_ms_per_op}{redis_cpu} / {floor.cpu_ms_per_op} | {ratio:.2f}x "
            f"| {hot.p50_ms_c1} / {floor.p50_ms_c1} |"
        )
    if not lines:
        return []
    return [
        "| Latency | Scenario | Column | Upstream req (hot / floor) | Upstream/op c32 (hot) | CPU ms/op (hot / floor) "
        "| Hot CPU / floor's | p50 ms c1 (hot / floor) |",
        "|---|---|---|---|---|---|---|---|",
        *lines,
    ]


def print_hot_summary(results: list[Figures]) -> None:
    if lines := hot_summary(results):
        print("\nhot (cached reads, warmed up, same token) beside the floor's cold reads:")
        print("\n".join(lines), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latencies", default="0,20", help="upstream latencies in ms, comma-separated")
    parser.add_argument("--c1", type=int, default=40, help="operations at concurrency 1")
    parser.add_argument("--c32", type=int, default=320, help="operations at concurrency 32")
    parser.add_argument("--output", type=Path, default=None,
                        help="artifacts/bench.json, or artifacts/bench-live.json with --live-only")  # fmt: skip
    parser.add_argument("--memory-seconds", type=int, default=60, help="length of the memory run (0: none)")
    parser.add_argument("--scenarios", default=",".join(SCENARIO_NUMBERS), help="scenario numbers, comma-separated")
    parser.add_argument("--live-only", action="store_true", help="only the live scenario (tests/bench/live.py)")
    parser.add_argument("--cache-only", action="store_true",
                        help="only the read scenarios (1, 2, 3, 6, or those of --scenarios) with the gateway, the floor "
                             "and the hot columns; no memory run, no live run")  # fmt: skip
    parser.add_argument("--apq-only", action="store_true",
                        help="only automatic persisted queries (tests/bench/apq.py): scenarios 1 to 3, or those of "
                             "--scenarios, by hash and in full; no memory run, no live run")  # fmt: skip
    parser.add_argument("--apq-c1", type=int, default=30, help="APQ: operations at concurrency 1, per column")
    parser.add_argument("--apq-c32", type=int, default=32,
                        help="APQ: operations per round at concurrency 32, times the scenario's weight (1: 2, 2: 1, "
                             "3: 1)")  # fmt: skip
    parser.add_argument("--apq-rounds", type=int, default=3,
                        help="APQ: concurrency-32 rounds per column (0: no APQ part in the full run)")  # fmt: skip
    parser.add_argument("--hot-env", action="append", default=[], metavar="GATEWAY_NAME=VALUE",
                        help="a setting for the hot columns' gateways (repeatable), e.g. "
                             "GATEWAY_CACHE_REDIS_TIMEOUT_S=2")  # fmt: skip
    add_arguments(parser, prefix="live-")
    args = parser.parse_args()
    chosen = tuple(number.strip() for number in args.scenarios.split(","))
    if unknown := set(chosen) - set(SCENARIO_NUMBERS):
        parser.error(f"no scenario {', '.join(sorted(unknown))}; there are {', '.join(SCENARIO_NUMBERS)}")
    from tests.bench.apq import APQ_SCENARIOS  # here: it imports this module

    if args.apq_only and not set(chosen) & set(APQ_SCENARIOS):
        parser.error(f"--apq-only runs scenarios {', '.join(APQ_SCENARIOS)}; --scenarios chose none of them")
    if sum((args.cache_only, args.live_only, args.apq_only)) > 1:
        parser.error("--cache-only, --live-only and --apq-only exclude each other")
    if malformed := [item for item in args.hot_env if "=" not in item or not item.startswith("GATEWAY_")]:
        parser.error(f"--hot-env takes GATEWAY_NAME=VALUE, not {', '.join(malformed)}")
    hot_settings = dict(item.split("=", 1) for item in args.hot_env)
    if args.output is None:
        args.output = Path("artifacts/bench-live.json" if args.live_only else
                           "artifacts/bench-cache.json" if args.cache_only else
                           "artifacts/bench-apq.json" if args.apq_only else "artifacts/bench.json")  # fmt: skip
    print(f"Python {sys.version.split()[0]} ({sys.executable}); results also in {args.output}")
    if args.cache_only:
        print(HEADER)
        run([int(x) for x in args.latencies.split(",")], args.c1, args.c32, args.output, chosen, cache_only=True,
            hot_settings=hot_settings)  # fmt: skip
        return
    if args.apq_only:
        _apq(args, chosen, {"python": sys.version.split()[0]})
        return
    if not args.live_only:
        print(HEADER)
        run([int(x) for x in args.latencies.split(",")], args.c1, args.c32, args.output, chosen,
            hot_settings=hot_settings)  # fmt: skip
        _memory(args)
        if args.apq_rounds > 0:
            _apq(args, chosen, json.loads(args.output.read_text()))
    if args.live_only or args.live_subscribers > 0:
        live = run_from_arguments(args, prefix="live_")
        saved = {"python": sys.version.split()[0]} if args.live_only else json.loads(args.output.read_text())
        saved["live"] = [asdict(figures) for figures in live]
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(saved, indent=2))


def _apq(args: argparse.Namespace, chosen: tuple[str, ...], saved: dict[str, Any]) -> None:
    """The APQ part (``tests/bench/apq.py``), printed, and saved under ``apq`` beside what ``saved`` holds."""
    from tests.bench.apq import APQ_SCENARIOS, print_report, run_apq  # here: it imports this module

    apq_chosen = tuple(number for number in chosen if number in APQ_SCENARIOS)
    if not apq_chosen:
        return
    print("\nautomatic persisted queries (tests/bench/apq.py), steady state:")
    report = run_apq([int(x) for x in args.latencies.split(",")], apq_chosen, args.apq_c1, args.apq_c32,
                     max(args.apq_rounds, 1))  # fmt: skip
    print_report(report)
    saved["apq"] = asdict(report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(saved, indent=2))


def _memory(args: argparse.Namespace) -> None:
    if args.memory_seconds:
        from tests.bench.memory import measure_memory

        with (
            sandbox_process() as sandbox,
            voucherify_sandbox_process() as voucherify,
            gateway_process(sandbox.url, voucherify_url=voucherify.url) as gateway,
        ):
            memory = measure_memory(gateway, sandbox, args.memory_seconds)
        print(
            f"memory: {memory.operations} pages of 100 with state in {memory.seconds} s, 8 at a time: "
            f"RSS {memory.rss_mb_first} MB first, {memory.rss_mb_last} MB last, {memory.rss_mb_highest} MB highest; "
            f"{memory.in_flight} pages at once held {memory.held_kb_per_request} KB each over resting memory, "
            f"for an answer of {memory.answer_kb} KB built from {memory.upstream_kb} KB of Polar's JSON"
        )
        saved = json.loads(args.output.read_text())
        saved["memory"] = asdict(memory)
        args.output.write_text(json.dumps(saved, indent=2))


if __name__ == "__main__":
    main()
