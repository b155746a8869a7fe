"""Automatic persisted queries in Redis, shared by two instances: a hash registered through one is found through the
other, for the caller that registered it only, under key names that hold no credential. Redis stopped, or never
reachable, is a miss (``PersistedQueryNotFound``: the client sends the document again, which runs), never a 5xx;
once Redis is back, registrations work again."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest
import redis

from gateway.persisted.store import PREFIX, redis_weight
from gateway.sandbox.seed import DEMO_TOKEN, OTHER_TOKEN
from tests.conftest import MANY_NEW_DOCUMENTS
from tests.persisted.conftest import REDIS_RETRY_S, Pair
from tests.persisted.harness import (
    TRUST_ENV,
    codes,
    customers_document,
    data_of,
    get,
    grew,
    hash_only_params,
    metric,
    outcomes,
    post,
    proven,
    reference,
    sha,
    typename_document,
)
from tests.redis_server import free_port
from tests.servers import GatewayProcess, SandboxProcess, gateway_process

PAST = 0.2  # beyond the retry window after a failure, within which Redis is not asked


def hash_only(gateway: GatewayProcess, text: str, token: str | None = DEMO_TOKEN) -> httpx.Response:
    return post(gateway, {"extensions": reference(sha(text))}, token)


def with_hash(gateway: GatewayProcess, text: str, token: str | None = DEMO_TOKEN) -> httpx.Response:
    return post(gateway, {"query": text, "extensions": reference(sha(text))}, token)


def not_found(response: httpx.Response) -> bool:
    return response.status_code == 200 and codes(response.json()) == ["PERSISTED_QUERY_NOT_FOUND"]


def apq_keys(server_url: str) -> dict[str, bytes | None]:
    """Every ``gateway:apq:*`` string key and its value (the bookkeeping's hash and sorted set left out)."""
    with redis.Redis.from_url(server_url, socket_timeout=5) as client:
        names = sorted(client.scan_iter(match=f"{PREFIX}*", count=1000))
        return {name.decode(): client.get(name) for name in names if client.type(name) == b"string"}


def test_a_hash_registered_through_one_instance_runs_through_the_other(redis_pair: Pair) -> None:
    document = customers_document()
    assert not_found(hash_only(redis_pair.b, document))
    expected = data_of(with_hash(redis_pair.a, document))
    assert data_of(hash_only(redis_pair.b, document)) == expected
    assert data_of(get(redis_pair.b, hash_only_params(sha(document)), DEMO_TOKEN)) == expected
    assert metric(redis_pair.b, "gateway_persisted_queries_total", 'outcome="hit"') >= 2
    # The other organization finds nothing through either instance, until it registers the document itself.
    for gateway in (redis_pair.a, redis_pair.b):
        assert not_found(hash_only(gateway, document, OTHER_TOKEN))
        assert not_found(hash_only(gateway, document, None))
    other = data_of(with_hash(redis_pair.b, document, OTHER_TOKEN))
    assert other != expected
    assert data_of(hash_only(redis_pair.a, document, OTHER_TOKEN)) == other


def test_redis_holds_the_document_once_and_a_marker_per_caller_under_names_without_credentials(
    redis_pair: Pair,
) -> None:
    document = typename_document(size=600)
    for gateway, token in ((redis_pair.a, DEMO_TOKEN), (redis_pair.b, OTHER_TOKEN), (redis_pair.b, DEMO_TOKEN)):
        data_of(with_hash(gateway, document, token))
    keys = apq_keys(redis_pair.redis.url)
    documents = {name: value for name, value in keys.items() if name.startswith(f"{PREFIX}d:")}
    markers = {name: value for name, value in keys.items() if name.startswith(f"{PREFIX}m:")}
    assert documents == {f"{PREFIX}d:{sha(document)}": document.encode()}
    assert len(markers) == 2  # Demo's (registered twice, through both) and Other's
    for name in keys:
        for secret in (DEMO_TOKEN, OTHER_TOKEN, sha(DEMO_TOKEN), sha(OTHER_TOKEN), sha(f"{DEMO_TOKEN}\n\n\n")):
            assert secret not in name
    # The byte count is the keys' own: name, value and the overhead of their bookkeeping.
    held = sum(redis_weight(name, value or b"") for name, value in {**documents, **markers}.items())
    assert int(keys[f"{PREFIX}bytes"] or 0) == held
    assert metric(redis_pair.b, "gateway_persisted_query_bytes", 'store="redis"') == held


def test_with_redis_stopped_a_hash_alone_is_a_miss_and_documents_still_run_then_it_works_again(
    redis_pair: Pair, sandbox: SandboxProcess
) -> None:
    document = customers_document()
    expected = data_of(with_hash(redis_pair.a, document))
    assert data_of(hash_only(redis_pair.b, document)) == expected
    failed = metric(redis_pair.b, "gateway_persisted_queries_total", 'outcome="store_failed"')

    redis_pair.redis.stop()
    for gateway in (redis_pair.a, redis_pair.b, redis_pair.b):
        assert not_found(hash_only(gateway, document))  # the client sends the document again, which runs
        assert data_of(with_hash(gateway, document)) == expected
        assert data_of(post(gateway, {"query": typename_document()}, DEMO_TOKEN))
    assert metric(redis_pair.b, "gateway_persisted_queries_total", 'outcome="store_failed"') > failed

    redis_pair.redis.start()  # on the same port, with nothing of before (no persistence)
    time.sleep(REDIS_RETRY_S + PAST)
    assert not_found(hash_only(redis_pair.a, document))
    assert data_of(with_hash(redis_pair.b, document)) == expected
    assert data_of(hash_only(redis_pair.a, document)) == expected


@pytest.fixture(scope="module")
def unreachable(sandbox_server: SandboxProcess, voucherify_server: SandboxProcess) -> Iterator[GatewayProcess]:
    """A gateway whose Redis is a port nothing listens on."""
    with socket.socket() as holder:  # bound, never listening: connections to it are refused
        holder.bind(("127.0.0.1", free_port()))
        port = holder.getsockname()[1]
        env = {**MANY_NEW_DOCUMENTS, **TRUST_ENV, "GATEWAY_REDIS_URL": f"redis://127.0.0.1:{port}/0"}
        with gateway_process(sandbox_server.url, env=env, voucherify_url=voucherify_server.url) as server:
            yield proven(server, sandbox_server, voucherify_server)


def test_with_redis_unreachable_hashes_are_misses_documents_run_and_nothing_is_a_5xx(
    unreachable: GatewayProcess, sandbox: SandboxProcess
) -> None:
    document = customers_document()
    counts = outcomes(unreachable)
    for _ in range(3):
        assert not_found(hash_only(unreachable, document))
        assert not_found(get(unreachable, hash_only_params(sha(document)), DEMO_TOKEN))
        assert data_of(with_hash(unreachable, document))["customers"]["totalCount"] > 0
    changes = grew(counts, outcomes(unreachable))
    assert changes.get("hit", 0) == 0
    assert changes["miss"] == 6
    assert changes["store_failed"] >= 1
    assert "Traceback" not in "".join(unreachable.output)
