"""The benchmark's own parts, so it cannot rot: the critical-path count, the floor's call budget, that
the floors of scenarios 5 and 6 answer what the gateway answers with the same calls, that the hot columns'
gateways answer a repeated read without calling Polar, that the live scenario's deliveries verify and a
small run of it counts every frame, and that the APQ part sends Apollo's requests, counts bytes as the socket
carries them, and hits after one miss with the upstream calls of the full document.
(The benchmark itself asserts nothing about time: ``make bench`` prints figures.)"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from datetime import UTC, datetime
from typing import Any

import httpx
from standardwebhooks import Webhook

from gateway.sandbox.seed import DEMO_TOKEN
from gateway.upstream.polar_webhooks import ChangeKind, read_change, verifier, verify
from tests.bench.apq import (
    ApqFigures,
    ApqReport,
    CountingRelay,
    Misses,
    Traffic,
    apq_operation,
    baseline,
    first_use_steps,
    hash_only_body,
    hash_only_params,
    median_traffic,
    new_caller_headers,
    not_found,
    registering_body,
    savings,
)
from tests.bench.live import new_secret, run_live, signed_delivery
from tests.bench.run import (
    HEADERS,
    JOINED_DOCUMENT,
    JOINED_HEADERS,
    VOUCHERIFY_DOCUMENT,
    VOUCHERIFY_HEADERS,
    _graphql,
    cold_then_hot,
    critical_path,
    floor_process,
    hot_env,
    scenarios,
)
from tests.redis_server import RedisServer
from tests.servers import GatewayProcess, SandboxProcess, gateway_process


def _requests(*intervals: tuple[float, float]) -> list[dict[str, Any]]:
    return [
        {"route": f"r{i}", "start": start, "end": end, "request_id": None} for i, (start, end) in enumerate(intervals)
    ]


def test_critical_path_counts_sequential_waves() -> None:
    assert critical_path([]) == 0
    assert critical_path(_requests((0.0, 1.0))) == 1
    parallel_after_one = _requests((0.0, 1.0), (1.1, 2.0), (1.1, 2.1), (1.2, 2.0))
    assert critical_path(parallel_after_one) == 2
    assert critical_path(_requests((0.0, 1.0), (1.0, 2.0), (2.0, 3.0))) == 3


def test_the_floor_fetches_a_page_with_state_in_four_calls(sandbox: SandboxProcess) -> None:
    with floor_process(sandbox.url) as floor:
        body = httpx.get(f"{floor.url}/s2", headers={"Authorization": f"Bearer {DEMO_TOKEN}"}, timeout=30).json()
    assert len(body["customers"]) == 50
    assert sandbox.stats() == {"GET /v1/customers/": 1, "GET /v1/subscriptions/": 1, "GET /v1/benefit-grants/": 1,
                               "GET /v1/customer-meters/": 1}  # fmt: skip


def test_scenario_5_is_one_call_and_the_floor_answers_the_same_json(
    sandbox: SandboxProcess, voucherify: SandboxProcess, gateway_server: GatewayProcess
) -> None:
    """The gateway's answer is the floor's: the same data from the same single call to Voucherify."""
    gateway = httpx.post(gateway_server.graphql_url, json={"query": VOUCHERIFY_DOCUMENT}, headers=VOUCHERIFY_HEADERS,
                         timeout=30)  # fmt: skip
    assert voucherify.stats() == {"GET /v1/customers": 1}
    voucherify.reset()
    with floor_process(sandbox.url, voucherify.url) as floor:
        floored = httpx.get(f"{floor.url}/s5", headers=VOUCHERIFY_HEADERS, timeout=30)
    assert voucherify.stats() == {"GET /v1/customers": 1}
    body = gateway.json()
    assert "errors" not in body, body
    assert len(body["data"]["voucherifyCustomers"]["nodes"]) == 50
    assert floored.json() == {"data": body["data"]}


def test_scenario_6_makes_the_same_calls_and_the_floor_answers_the_same_json(
    sandbox: SandboxProcess, voucherify: SandboxProcess, gateway_server: GatewayProcess
) -> None:
    """The joined page: 1 Polar call and 1 Voucherify call per distinct external id, from both; the floor's
    answer is the gateway's, customers joined or not."""
    gateway = httpx.post(gateway_server.graphql_url, json={"query": JOINED_DOCUMENT}, headers=JOINED_HEADERS,
                         timeout=30)  # fmt: skip
    body = gateway.json()
    assert "errors" not in body, body
    nodes = body["data"]["customers"]["nodes"]
    lookups = len({node["externalId"] for node in nodes if node["externalId"] is not None})
    assert len(nodes) == 50
    assert sum(node["voucherify"] is not None for node in nodes) >= 20  # joined
    calls = (sandbox.stats(), voucherify.stats())
    assert calls == ({"GET /v1/customers/": 1}, {"GET /v1/customers/{customer_id}": lookups})
    sandbox.reset()
    voucherify.reset()
    with floor_process(sandbox.url, voucherify.url) as floor:
        floored = httpx.get(f"{floor.url}/s6", headers=JOINED_HEADERS, timeout=30)
    assert (sandbox.stats(), voucherify.stats()) == calls
    assert floored.json() == {"data": body["data"]}


def test_the_hot_columns_read_again_without_calling_polar(sandbox: SandboxProcess, fresh_redis: RedisServer) -> None:
    """The hot columns' gateways (cache in memory, cache in Redis): scenarios 3, 2 and 1 each run twice on
    one gateway, counted on the sandbox each time. Scenario 3's 5 lookups, then none; scenario 2's list and
    3 batch lists, then the list alone (a page is never cached, its customers' states are); scenario 1's id
    was among scenario 3's, so none either time."""
    with httpx.Client(base_url=sandbox.url, headers=HEADERS) as rest:
        ids = [c["id"] for c in rest.get("/v1/customers/", params={"limit": 5}).json()["items"]]
    documents = {name.split()[0]: document for name, (document, _floor) in scenarios(ids).items()}
    for env in (hot_env(), hot_env(fresh_redis.url)):
        with gateway_process(sandbox.url, env=env) as gateway:
            counts = {number: cold_then_hot(sandbox, _graphql(gateway.graphql_url, str(documents[number])))
                      for number in ("3", "2", "1")}  # fmt: skip
        assert counts == {"3": (5, 0), "2": (4, 1), "1": (0, 0)}, env


def test_the_live_bench_signs_deliveries_as_the_gateway_verifies_them() -> None:
    secret = new_secret()
    customer = {"id": "cus_1", "organization_id": "org_1", "external_id": "ext_1", "email": "a@fastmail.com"}
    occurred = datetime(2026, 12, 2, 12, 0, 0, 123_000, tzinfo=UTC)
    body, headers = signed_delivery(Webhook(secret), customer, occurred)
    assert verify(verifier(secret), body, headers) == headers["webhook-id"]
    change = read_change(json.loads(body))
    assert change is not None
    assert (change.kind, change.customer_id, change.organization_id, change.occurred_at) == (
        ChangeKind.UPDATED, "cus_1", "org_1", occurred)  # fmt: skip


def test_a_small_live_run_counts_every_frame_of_both_processes() -> None:
    """End to end, small: a real Redis, two gateways, 6 subscribers on 4 connections and 2 resolving the
    customer, 3 webhooks to A. Every subscriber of both processes has every event once; the scalar run calls
    Polar for nothing per event, the resolved one once per subscriber and event."""
    scalars, resolved = run_live(subscribers=6, per_connection=2, events=3, interval_ms=20, resolved_subscribers=2)
    assert (scalars.connections, resolved.connections) == (4, 2)
    for figures, upstream in ((scalars, 0), (resolved, 2 * 3)):
        assert figures.delivered_frames == figures.expected_frames == figures.subscribers * 3, figures
        assert (figures.unexpected_messages, figures.closed_connections) == (0, 0), figures.notes
        assert figures.post_statuses == {"202": 3}
        assert figures.upstream_requests_events == upstream
        assert figures.ms_from_post_by_process["A"]["max"] > 0
        assert figures.ms_from_post_by_process["B"]["max"] > 0


def test_the_apq_requests_are_apollos() -> None:
    """The hash is the SHA-256 of the document's UTF-8 text, in lowercase hex; the GET sends the extensions as
    compact JSON; a miss is recognised by its code alone."""
    document = '{ customer(id: "é") { id } }'
    digest = hashlib.sha256(document.encode()).hexdigest()
    reference = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    assert hash_only_body(document) == {"extensions": reference}
    assert registering_body(document) == {"query": document, "extensions": reference}
    assert hash_only_params(document) == {"extensions": f'{{"persistedQuery":{{"version":1,"sha256Hash":"{digest}"}}}}'}
    miss = {"errors": [{"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]}
    assert not_found(miss)
    assert not not_found({"errors": [{"message": "x", "extensions": {"code": "BAD_USER_INPUT"}}]})
    assert not not_found({"data": {"customer": None}})
    assert not not_found([miss])  # a batch's answer is not one operation's miss
    assert not not_found({"errors": ["PERSISTED_QUERY_NOT_FOUND"]})
    assert median_traffic([Traffic(10, 5), Traffic(12, 5), Traffic(11, 7)]) == Traffic(11, 5)
    assert new_caller_headers(1)["X-Voucherify-App-Id"] == "vf_bench_000001"
    assert len(new_caller_headers(999_999)["X-Voucherify-App-Id"]) == len(new_caller_headers(1)["X-Voucherify-App-Id"])


def _row(store: str, column: str, request_bytes: int, p50: float, cpu: float, ops: float) -> ApqFigures:
    return ApqFigures(store, 0, "1 customer(id:)", column, request_bytes, 584, 1, 1.0, p50, p50, p50, p50, ops, cpu,
                      None, 0)  # fmt: skip


def test_each_column_is_compared_with_the_full_post_of_its_own_gateway() -> None:
    """A Redis column against the Redis gateway's full POST (so the lookup, not the second process, is what
    differs), and that full POST against the memory gateway's."""
    memory_full, memory_hash = _row("memory", "full_post", 442, 2.5, 1.5, 300), _row("memory", "hash_post", 407, 2.4, 1.4, 330)
    redis_full, redis_hash = _row("redis", "full_post", 442, 2.6, 1.5, 300), _row("redis", "hash_get", 382, 3.1, 1.8, 240)
    steady = [memory_full, memory_hash, redis_full, redis_hash]
    assert baseline(memory_full, steady) is None
    assert baseline(memory_hash, steady) is memory_full
    assert baseline(redis_full, steady) is memory_full
    assert baseline(redis_hash, steady) is redis_full
    lines = savings(ApqReport("3.11", "python", steady=steady))
    assert len(lines) == 2 + 3
    assert lines[2] == "| 0 ms | 1 customer(id:) | memory/hash_post | memory/full_post | 35 (8%) | -0.1 | -0.10 | 1.10x |"
    assert lines[4] == "| 0 ms | 1 customer(id:) | redis/hash_get | redis/full_post | 60 (14%) | +0.5 | +0.30 | 0.80x |"


async def test_the_counting_relay_counts_what_the_socket_carries() -> None:
    """Every byte httpx writes (request line, its own headers, body) and reads (status line, headers, body),
    per request on one keep-alive connection, as a raw server receives and sends them."""
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}"
    received: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)  # fmt: skip
                received.append(head + await reader.readexactly(length))
                writer.write(answer)
                await writer.drain()
        except asyncio.IncompleteReadError:  # the client closed its connection
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with CountingRelay("127.0.0.1", port) as relay, httpx.AsyncClient() as client:
        await client.post(f"{relay.url}/graphql", json={"query": "{ __typename }"}, headers=HEADERS)
        first = Traffic(relay.traffic.sent, relay.traffic.received)
        await client.get(f"{relay.url}/graphql", params={"extensions": "{}"}, headers=HEADERS)
        second = relay.traffic.minus(first)
    server.close()
    await server.wait_closed()
    assert len(received) == 2
    assert b"Authorization: Bearer" in received[0]
    assert received[0].endswith(b'{"query":"{ __typename }"}')
    assert first == Traffic(len(received[0]), len(answer))
    assert second == Traffic(len(received[1]), len(answer))


def test_the_apq_columns_hit_after_one_miss_with_the_full_documents_calls(
    sandbox: SandboxProcess, gateway_server: GatewayProcess
) -> None:
    """A caller new to the gateway: its first hash-only operation misses and registers (two requests, one
    upstream call), every later one hits, by POST and by GET, with the upstream calls of the full document; and
    a first use is the miss (no upstream call) then the registering POST."""
    with httpx.Client(base_url=sandbox.url, headers=HEADERS) as rest:
        ids = [c["id"] for c in rest.get("/v1/customers/", params={"limit": 5}).json()["items"]]
    document = str(scenarios(ids)["1 customer(id:)"][0])
    caller = new_caller_headers(secrets.randbelow(10**6))

    async def operations(column: str, count: int) -> int:
        misses = Misses()
        operation = apq_operation(column, gateway_server.graphql_url, document, misses, caller)
        async with httpx.AsyncClient(timeout=30) as client:
            for _ in range(count):
                await operation(client)
        return misses.count

    for column, misses in (("full_post", 0), ("hash_post", 1), ("hash_get", 0), ("full_get", 0)):
        sandbox.reset()
        assert asyncio.run(operations(column, 3)) == misses, column
        assert sandbox.stats() == {"GET /v1/customers/{id}": 3}, column

    async def first_use() -> tuple[Traffic, Traffic]:
        target = httpx.URL(gateway_server.graphql_url)
        async with CountingRelay(target.host, target.port or 80) as relay, httpx.AsyncClient(timeout=30) as client:
            miss, register = await first_use_steps(client, relay.url + target.path, document, "GET",
                                                   new_caller_headers(secrets.randbelow(10**6)), relay)  # fmt: skip
        return miss.traffic, register.traffic

    sandbox.reset()
    miss, register = asyncio.run(first_use())
    assert sandbox.stats() == {"GET /v1/customers/{id}": 1}
    assert miss.sent < register.sent
    assert miss.received < register.received
