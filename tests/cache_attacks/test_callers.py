"""The cache as callers from the open internet see it, through a real gateway: a caller without a valid token
(or valid Voucherify keys) and another organization's token, against what the Demo organization has cached.

What holds: nothing a made-up token reads writes to the cache or is served from it; another organization never
reads Demo's entries. What does not (the tests fail while it is so): a write refused for its credentials
still invalidates, so a made-up token writes to Redis without bound, ends any organization's entries, and
brings the in-process store's flood guard within reach."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import redis

from gateway.cache.redis_store import PREFIX
from gateway.sandbox.seed import DEMO_TOKEN, OTHER_TOKEN
from tests.cache_attacks.conftest import CACHE_ENV, graphql
from tests.redis_server import RedisServer
from tests.servers import GatewayProcess, SandboxProcess, gateway_process

MADE_UP = "polar_oat_made_up_by_a_stranger_0123456789"
CUSTOMER = "query One($id: ID!) { customer(id: $id) { id name email externalId } }"
BY_EXTERNAL = "query One($ext: String!) { customer(externalId: $ext) { id name email externalId } }"
FIRST = "{ customers(first: 5) { nodes { id externalId name email } } }"
RENAME_BY_EXTERNAL = """mutation Rename($ext: String!) {
  customerUpdate(externalId: $ext, input: {name: "pwned"}) { customer { id } userErrors { code } }
}"""
RENAME_BY_ID = """mutation Rename($id: ID!) {
  customerUpdate(id: $id, input: {name: "pwned"}) { customer { id } userErrors { code } }
}"""


def _keys(server: RedisServer, kind: str = "") -> list[bytes]:
    with redis.Redis.from_url(server.url, socket_timeout=5) as neighbour:
        return sorted(neighbour.scan_iter(match=f"{PREFIX}{kind}*", count=1000))


def _tally(body: dict[str, Any]) -> tuple[int, int]:
    cache = body["extensions"]["cache"]
    return cache["hits"], cache["misses"]


def _demo_customer(gateway: GatewayProcess) -> dict[str, Any]:
    nodes = graphql(gateway, DEMO_TOKEN, FIRST)["data"]["customers"]["nodes"]
    customer: dict[str, Any] = next(node for node in nodes if node["externalId"] and node["email"])
    return customer


def _refused(body: dict[str, Any]) -> bool:
    return any(error["extensions"]["code"] == "UNAUTHENTICATED" for error in body.get("errors", []))


def test_a_made_up_token_reads_nothing_cached_and_writes_nothing(
    redis_gateway: GatewayProcess, fresh_redis: RedisServer
) -> None:
    customer = _demo_customer(redis_gateway)  # Demo's customers are cached now
    assert graphql(redis_gateway, DEMO_TOKEN, CUSTOMER, {"id": customer["id"]})["data"]["customer"] == customer
    before = _keys(fresh_redis)
    assert any(key.startswith(f"{PREFIX}e:".encode()) for key in before)
    for token in (MADE_UP, MADE_UP + "2", DEMO_TOKEN + "x"):
        for query, variables in [
            (CUSTOMER, {"id": customer["id"]}),
            (BY_EXTERNAL, {"ext": customer["externalId"]}),
            (BY_EXTERNAL, {"ext": "x" * 255}),
            (FIRST, {}),
        ]:
            body = graphql(redis_gateway, token, query, variables)
            assert _refused(body), body
            assert customer["email"] not in json.dumps(body)
    assert _keys(fresh_redis) == before  # no entry, no trust, no invalidation


def test_another_organization_never_reads_demos_entries(redis_gateway: GatewayProcess) -> None:
    customer = _demo_customer(redis_gateway)
    demo = graphql(redis_gateway, DEMO_TOKEN, CUSTOMER, {"id": customer["id"]})
    assert _tally(demo) == (1, 0)  # cached by the list
    for query, variables in [(CUSTOMER, {"id": customer["id"]}), (BY_EXTERNAL, {"ext": customer["externalId"]})]:
        other = graphql(redis_gateway, OTHER_TOKEN, query, variables)
        assert other["data"]["customer"] is None, other
        assert _tally(other) == (0, 1)


def test_a_made_up_token_makes_no_invalidation(redis_gateway: GatewayProcess, fresh_redis: RedisServer) -> None:
    """Each request of a stranger, with a new made-up token and a new external id, left one invalidation in
    Redis for the TTL plus the write window (about 5 minutes), after Polar refused the token: Redis grows
    with the request rate, and the in-process store remembers up to a million before dropping every entry."""
    for n in range(20):
        body = graphql(redis_gateway, f"{MADE_UP}_{n}", RENAME_BY_EXTERNAL, {"ext": f"made-up-{n}"})
        assert _refused(body), body
    assert _keys(fresh_redis, "i:") == []


def test_made_up_voucherify_keys_make_no_invalidations(
    sandbox: SandboxProcess, voucherify: SandboxProcess, fresh_redis: RedisServer
) -> None:
    """With Voucherify's cache on, one bulk mutation with made-up keys invalidated each of its 100 source ids
    before Voucherify was asked: 10,000 such requests reach the in-process store's flood guard, which drops
    every entry of every caller (Polar's too)."""
    env = {
        "GATEWAY_REDIS_URL": fresh_redis.url,
        "GATEWAY_VOUCHERIFY_CACHE_TTL_S": "60",
        "GATEWAY_CURSOR_SECRET": "cache-attack-tests-cursor-secret-0123456789",
    }
    source_ids = json.dumps([f"made-up-{n}" for n in range(100)])
    mutation = f"mutation {{ voucherifyCustomersMetadataBulkUpdate(sourceIds: {source_ids}, metadata: {{a: 1}}) {{ __typename }} }}"
    made_up = {"X-Voucherify-App-Id": "made_up_app", "X-Voucherify-App-Token": "made_up_token"}
    with gateway_process(sandbox.url, env=env, voucherify_url=voucherify.url) as gateway:
        response = httpx.post(gateway.graphql_url, json={"query": mutation}, headers=made_up, timeout=30)
    assert response.status_code == 200, response.text
    assert _refused(response.json()), response.text
    assert len(_keys(fresh_redis, "i:")) == 0


def test_a_made_up_token_cannot_end_another_organizations_entries(memory_gateway: GatewayProcess) -> None:
    """Cache-busting from the open internet: Demo's customer is cached; a stranger's ``customerUpdate`` of it
    is refused by Polar (401), yet the customer's entries end for every caller, and Demo's next read goes
    to Polar again (its rate limit, its latency)."""
    customer = _demo_customer(memory_gateway)
    assert _tally(graphql(memory_gateway, DEMO_TOKEN, CUSTOMER, {"id": customer["id"]})) == (1, 0)
    refused = graphql(memory_gateway, MADE_UP, RENAME_BY_ID, {"id": customer["id"]})
    assert _refused(refused), refused
    after = graphql(memory_gateway, DEMO_TOKEN, CUSTOMER, {"id": customer["id"]})
    assert after["data"]["customer"] == customer  # nothing changed at Polar
    assert _tally(after) == (1, 0)


class _BareNotFound(BaseHTTPRequestHandler):
    """What a proxy or an ingress in front of Polar answers for a path it does not route: a bare 404, given
    before any token is looked at."""

    def _answer(self) -> None:
        body = b'{"detail":"Not Found"}'
        self.send_response(404)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PATCH = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def _bare_not_found() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _BareNotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_bare_404_does_not_make_a_made_up_token_trusted(fresh_redis: RedisServer) -> None:
    """The transport counts only Polar's own 404 (``ResourceNotFound``) as proof of a token
    (``Wire.found_nothing``); the cache counts any ``UpstreamNotFound``: behind a proxy that answers 404
    first, every made-up token is written to Redis as accepted (one key per token, for ``trust_s``; in the
    process, it pushes real callers out of the 100,000 remembered)."""
    env = {**CACHE_ENV, "GATEWAY_REDIS_URL": fresh_redis.url, "GATEWAY_CACHE_REDIS_TIMEOUT_S": "5"}
    with _bare_not_found() as upstream, gateway_process(upstream, env=env) as gateway:
        for n in range(5):
            body = graphql(gateway, f"{MADE_UP}_{n}", CUSTOMER, {"id": str(uuid.uuid4())})
            assert body["data"]["customer"] is None, body
    assert _keys(fresh_redis, "t:") == []
