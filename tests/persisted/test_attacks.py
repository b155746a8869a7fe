"""Automatic persisted queries as an attacker without a valid token uses them, through real gateways whose store is
bounded at 64 KiB, in this process and in Redis.

What holds: made-up tokens registering valid documents (a few hundred KB of them, one document under hundreds of
tokens) write nothing at all, since only credentials an upstream accepted lately register, and evict nothing of a
legitimate caller's; a proven caller registering more than the bound leaves the store within it
(``gateway_persisted_query_bytes``; in Redis the ``gateway:apq:bytes`` counter, the keys' own lengths, and
bookkeeping with exactly one entry per key); a document larger than the whole bound is not held and evicts
nothing; hashes alone and mismatched documents write nothing, parse nothing and log nothing."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis

from gateway.persisted.store import PREFIX, redis_weight
from gateway.sandbox.seed import DEMO_TOKEN
from tests.conftest import MANY_NEW_DOCUMENTS
from tests.persisted.harness import (
    TRUST_ENV,
    codes,
    customers_document,
    grew,
    metric,
    outcomes,
    proven,
    reference,
    sha,
    typename_document,
)
from tests.redis_server import RedisServer
from tests.servers import GatewayProcess, SandboxProcess, gateway_process

MAX_BYTES = 64 * 1024
TOKENS = 80
DOCUMENTS_PER_TOKEN = 4
DOCUMENT_CHARS = 1_000  # 320 registrations of about 1.4 KB each (document, marker, bookkeeping): 7 times the bound
ATTACK_ENV = {**MANY_NEW_DOCUMENTS, **TRUST_ENV, "GATEWAY_PERSISTED_QUERIES_MAX_BYTES": str(MAX_BYTES)}


@pytest.fixture(scope="module")
def memory_gateway(sandbox_server: SandboxProcess, voucherify_server: SandboxProcess) -> Iterator[GatewayProcess]:
    with gateway_process(sandbox_server.url, env=ATTACK_ENV, voucherify_url=voucherify_server.url) as server:
        yield proven(server, sandbox_server, voucherify_server)


@pytest.fixture(scope="module")
def _redis_gateway(
    sandbox_server: SandboxProcess, voucherify_server: SandboxProcess, redis_server: RedisServer
) -> Iterator[GatewayProcess]:
    # A healthy Redis on a loaded test machine may take over the default timeout: a miss then, which these tests
    # would read as an eviction.
    env = {**ATTACK_ENV, "GATEWAY_REDIS_URL": redis_server.url, "GATEWAY_CACHE_REDIS_TIMEOUT_S": "5"}
    with gateway_process(sandbox_server.url, env=env, voucherify_url=voucherify_server.url) as server:
        yield proven(server, sandbox_server, voucherify_server)


@pytest.fixture
def redis_gateway(_redis_gateway: GatewayProcess, fresh_redis: RedisServer) -> GatewayProcess:
    return _redis_gateway


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest, sandbox: SandboxProcess) -> tuple[str, GatewayProcess]:
    """Which store, and the gateway keeping its persisted queries there (on a reset sandbox)."""
    gateway: GatewayProcess = request.getfixturevalue(f"{request.param}_gateway")
    return request.param, gateway


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


def send(http: httpx.Client, gateway: GatewayProcess, body: object, token: str | None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = http.post(gateway.graphql_url, json=body, headers=headers)
    assert response.status_code < 500, response.text
    answer: dict[str, Any] = response.json()
    return answer


def register(http: httpx.Client, gateway: GatewayProcess, text: str, token: str | None) -> dict[str, Any]:
    return send(http, gateway, {"query": text, "extensions": reference(sha(text))}, token)


def hash_only(http: httpx.Client, gateway: GatewayProcess, text: str, token: str | None) -> dict[str, Any]:
    return send(http, gateway, {"extensions": reference(sha(text))}, token)


def made_up_token() -> str:
    return f"polar_oat_{secrets.token_hex(16)}"


def held(name: str, gateway: GatewayProcess) -> float:
    """The store's bytes as the gateway reports them."""
    return metric(gateway, "gateway_persisted_query_bytes", f'store="{name}"')


def redis_accounts(server: RedisServer) -> dict[str, int]:
    """What Redis holds under ``gateway:apq:``, measured there."""
    with redis.Redis.from_url(server.url, socket_timeout=5) as client:
        strings = [name for name in client.scan_iter(match=f"{PREFIX}*", count=1000) if client.type(name) == b"string"]
        entries = [name for name in strings if name.startswith((f"{PREFIX}d:".encode(), f"{PREFIX}m:".encode()))]
        return {
            "counter": int(client.get(f"{PREFIX}bytes") or 0),
            "strlen": sum(int(client.strlen(name)) for name in strings),
            "weighed": sum(redis_weight(name, client.get(name) or b"") for name in entries),
            "entries": len(entries),
            "lru": int(client.zcard(f"{PREFIX}lru")),
            "sizes": int(client.hlen(f"{PREFIX}size")),
            "documents": sum(1 for name in entries if name.startswith(f"{PREFIX}d:".encode())),
            "keys": int(client.dbsize()),
        }


def redis_scripts_run(server: RedisServer) -> int:
    """Scripts Redis has run (the store's every call is one), from its command statistics."""
    with redis.Redis.from_url(server.url, socket_timeout=5) as client:
        stats = client.info("commandstats")
        return sum(int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in ("evalsha", "eval"))


def assert_within_bound(name: str, gateway: GatewayProcess, redis_server: RedisServer | None) -> None:
    assert 0 < held(name, gateway) <= MAX_BYTES
    if redis_server is not None:
        accounts = redis_accounts(redis_server)
        assert accounts["counter"] == accounts["weighed"] <= MAX_BYTES, accounts
        assert accounts["strlen"] <= MAX_BYTES, accounts
        assert accounts["lru"] == accounts["sizes"] == accounts["entries"], accounts  # no bookkeeping left behind
        assert held(name, gateway) == accounts["counter"]


def legitimate_caller_still_works(http: httpx.Client, gateway: GatewayProcess, document: str) -> dict[str, Any]:
    """Apollo's link: the hash alone; on PersistedQueryNotFound, the document with it. It must run either way."""
    first = hash_only(http, gateway, document, DEMO_TOKEN)
    if "errors" in first:
        assert codes(first) == ["PERSISTED_QUERY_NOT_FOUND"], first
        first = register(http, gateway, document, DEMO_TOKEN)
    assert "errors" not in first, first
    again = hash_only(http, gateway, document, DEMO_TOKEN)
    assert again == first
    data: dict[str, Any] = first["data"]
    return data


def redis_of(name: str, request: pytest.FixtureRequest) -> RedisServer | None:
    return request.getfixturevalue("redis_server") if name == "redis" else None


def test_made_up_tokens_register_nothing_and_evict_nothing(
    store: tuple[str, GatewayProcess],
    http: httpx.Client,
    sandbox: SandboxProcess,
    request: pytest.FixtureRequest,
) -> None:
    name, gateway = store
    redis_server = redis_of(name, request)
    legitimate = customers_document()
    before_legitimate = register(http, gateway, legitimate, DEMO_TOKEN)["data"]
    before, counts, calls = held(name, gateway), outcomes(gateway), sandbox.stats()
    accounts = redis_accounts(redis_server) if redis_server is not None else None

    shared = typename_document(DOCUMENT_CHARS)  # one document under every token, beside distinct ones
    last = ("", "")
    for _ in range(TOKENS):
        token = made_up_token()
        for document in [shared, *(typename_document(DOCUMENT_CHARS) for _ in range(DOCUMENTS_PER_TOKEN))]:
            assert register(http, gateway, document, token)["data"]["first"] == "Query"  # it runs
            last = (token, document)
    assert held(name, gateway) == before
    if redis_server is not None:
        assert redis_accounts(redis_server) == accounts
    assert sandbox.stats() == calls  # not one upstream call for all of it
    assert grew(counts, outcomes(gateway)) == {"unproven": TOKENS * (DOCUMENTS_PER_TOKEN + 1)}
    token, document = last
    assert codes(hash_only(http, gateway, document, token)) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert hash_only(http, gateway, legitimate, DEMO_TOKEN)["data"] == before_legitimate  # still held


def test_a_proven_caller_registering_past_the_bound_leaves_the_store_within_it(
    store: tuple[str, GatewayProcess], http: httpx.Client, request: pytest.FixtureRequest
) -> None:
    name, gateway = store
    redis_server = redis_of(name, request)
    documents = [typename_document(DOCUMENT_CHARS) for _ in range(TOKENS * DOCUMENTS_PER_TOKEN // 2)]  # 3.5 bounds
    for number, document in enumerate(documents):
        assert register(http, gateway, document, DEMO_TOKEN)["data"]["first"] == "Query"
        if number % 40 == 39:
            assert_within_bound(name, gateway, redis_server)
    assert_within_bound(name, gateway, redis_server)
    assert hash_only(http, gateway, documents[-1], DEMO_TOKEN)["data"]["first"] == "Query"
    assert codes(hash_only(http, gateway, documents[0], DEMO_TOKEN)) == ["PERSISTED_QUERY_NOT_FOUND"]  # evicted
    assert legitimate_caller_still_works(http, gateway, documents[0])["first"] == "Query"


def test_a_document_larger_than_the_whole_bound_runs_but_is_not_held_and_evicts_nothing(
    store: tuple[str, GatewayProcess], http: httpx.Client, request: pytest.FixtureRequest
) -> None:
    name, gateway = store
    redis_server = redis_of(name, request)
    legitimate = customers_document()
    expected = register(http, gateway, legitimate, DEMO_TOKEN)["data"]
    before = held(name, gateway)
    accounts = redis_accounts(redis_server) if redis_server is not None else None
    huge = typename_document(MAX_BYTES + 1_000)  # within max_body_bytes, over the store's bound
    assert register(http, gateway, huge, DEMO_TOKEN)["data"]["first"] == "Query"
    assert codes(hash_only(http, gateway, huge, DEMO_TOKEN)) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert held(name, gateway) == before
    if redis_server is not None:
        assert redis_accounts(redis_server) == accounts
    assert hash_only(http, gateway, legitimate, DEMO_TOKEN)["data"] == expected  # still held


def test_hashes_alone_and_mismatched_documents_write_nothing_parse_nothing_and_log_nothing(
    store: tuple[str, GatewayProcess], http: httpx.Client, sandbox: SandboxProcess, request: pytest.FixtureRequest
) -> None:
    name, gateway = store
    redis_server = redis_of(name, request)
    register(http, gateway, typename_document(), DEMO_TOKEN)  # the store exists (in Redis: its key is made)
    before = held(name, gateway)
    accounts = redis_accounts(redis_server) if redis_server is not None else None
    documents = metric(gateway, "gateway_document_cache_entries"), metric(gateway, "gateway_document_cache_bytes")
    calls = sandbox.stats()
    lines = len(gateway.output)
    scripts = redis_scripts_run(redis_server) if redis_server is not None else None

    for _ in range(200):
        assert codes(send(http, gateway, {"extensions": reference(secrets.token_hex(32))}, None)) == [
            "PERSISTED_QUERY_NOT_FOUND"
        ]
    for _ in range(50):
        hostile = typename_document(50_000)
        body = {"query": hostile, "extensions": reference(secrets.token_hex(32))}
        assert codes(send(http, gateway, body, made_up_token())) == ["PERSISTED_QUERY_HASH_MISMATCH"]

    assert held(name, gateway) == before
    if redis_server is not None:
        assert redis_accounts(redis_server) == accounts
        # Not even a lookup: the hashes came without credentials, the mismatches were refused before the store.
        assert redis_scripts_run(redis_server) == scripts
    assert (metric(gateway, "gateway_document_cache_entries"), metric(gateway, "gateway_document_cache_bytes")) == (
        documents
    )
    assert sandbox.stats() == calls
    # A request that is logged (a 4xx), to know every line before it has been read: none came from the flood.
    marker = http.post(gateway.graphql_url, content=b"{", headers={"Content-Type": "application/json",
                       "X-Request-Id": f"pq-flood-end-{name}"})  # fmt: skip
    assert marker.status_code == 400
    wait_for_line(gateway, f"pq-flood-end-{name}")
    written = [line for line in list(gateway.output)[lines:] if f"pq-flood-end-{name}" not in line]
    assert written == []


def wait_for_line(gateway: GatewayProcess, text: str, within: float = 5.0) -> None:
    """Until the thread reading the gateway's output has a line holding ``text``."""
    deadline = time.monotonic() + within
    while not any(text in line for line in list(gateway.output)):
        assert time.monotonic() < deadline, f"no line with {text} in {within} s"
        time.sleep(0.01)
