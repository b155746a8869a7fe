"""Redis lost under both instances: killed (its data gone, as after a crash without persistence) and brought back on
the same port, or frozen (SIGSTOP: its data kept, every command waiting) and continued.

While it is away, reads answer correctly from Polar (no error: each cache command gives up after
cache_redis_timeout_s), a write through the gateway answers normally, and a webhook is answered 503 so that Polar
retries it. Once it is back the cache works again; and an instance that could not write an invalidation bumps
the epoch before it reads anything, so that an entry kept from before the outage, which that invalidation should
have ended, is not served."""

from __future__ import annotations

import time

import redis

from gateway.cache.redis_store import EPOCH
from tests.cache.conftest import REDIS_RETRY_S, Pair
from tests.cache.harness import COLD_CUSTOMER, PERSON, frozen, until

PAST = 0.3


def _webhook_answers(pair: Pair, event_type: str) -> list[int | None] | None:
    """A's answers to the first delivery of ``event_type``, once it has been attempted."""
    assert pair.endpoint_id is not None
    for event in pair.polar.deliveries(pair.endpoint_id):
        if event["type"] == event_type and event["attempts"]:
            return [attempt["http_code"] for attempt in event["attempts"]]
    return None


def test_redis_killed_reads_and_writes_answer_webhooks_wait_then_the_cache_is_back(
    pair: Pair, demo_ids: list[str]
) -> None:
    customer_id = pair.polar.by_external_id(PERSON)["id"]
    cold = pair.a.customer(customer_id)
    assert cold.polar == COLD_CUSTOMER
    assert pair.b.customer(customer_id).polar == {}

    pair.redis.kill()
    for gateway in (pair.a, pair.b, pair.a, pair.b):  # every read from Polar, and none of them cached
        down = gateway.customer(customer_id)
        assert down.polar == COLD_CUSTOMER
        assert down.data == cold.data

    renamed = pair.a.rename(customer_id, "Renamed while Redis is down")
    assert "errors" not in renamed.body
    # Its webhook cannot invalidate anything in Redis: A refuses it, and Polar will retry it.
    assert until(lambda: _webhook_answers(pair, "customer.updated"), 10, "the delivery of customer.updated") == [503]
    fresh = pair.b.customer(customer_id)
    assert fresh.polar == COLD_CUSTOMER
    assert fresh.data["customer"] == {**cold.data["customer"], "name": "Renamed while Redis is down"}
    assert pair.a.metric("gateway_cache_failures_total", 'operation="read"') > 0

    pair.redis.start()  # on the same port: the instances' clients reconnect by themselves
    time.sleep(REDIS_RETRY_S + PAST)  # Redis is not asked again within the retry window after a failure
    other = demo_ids[40]
    warm_up = pair.a.customer(other)
    assert warm_up.polar == COLD_CUSTOMER
    for gateway in (pair.a, pair.b):
        again = gateway.customer(other)
        assert again.polar == {}
        assert again.data == warm_up.data
    # The entry of before the outage died with Redis's data: the renamed customer is read afresh, then cached.
    after = pair.b.customer(customer_id)
    assert after.data == fresh.data
    assert pair.a.customer(customer_id).polar == {}


def test_an_invalidation_missed_while_redis_froze_ends_the_older_entries(quiet_pair: Pair) -> None:
    pair = quiet_pair
    customer_id = pair.polar.by_external_id(PERSON)["id"]
    cold = pair.a.customer(customer_id)
    assert cold.polar == COLD_CUSTOMER
    assert pair.b.customer(customer_id).polar == {}
    recovered = pair.a.metric("gateway_cache_invalidations_total", 'cause="redis_recovered"')

    with frozen(pair.redis):
        renamed = pair.a.rename(customer_id, "Renamed while Redis froze")  # its invalidation cannot be written
        assert "errors" not in renamed.body
        during = pair.b.customer(customer_id)
        assert during.polar == COLD_CUSTOMER
        assert during.data["customer"]["name"] == "Renamed while Redis froze"

    time.sleep(REDIS_RETRY_S + PAST)
    # Redis still holds the entry of before the write, never invalidated. A bumps the epoch before its first
    # read, so the entry is not served: the read goes to Polar and gets the new name.
    after = pair.a.customer(customer_id)
    assert after.data["customer"] == {**cold.data["customer"], "name": "Renamed while Redis froze"}
    assert after.polar == COLD_CUSTOMER
    # Bumped at least once (the write's missed invalidation; the sandbox's webhook for the same change may
    # have failed too while Redis was still left alone, and bumps it again).
    assert pair.a.metric("gateway_cache_invalidations_total", 'cause="redis_recovered"') >= recovered + 1
    with redis.Redis.from_url(pair.redis.url, socket_timeout=5) as client:
        assert int(client.get(EPOCH) or 0) >= 1
    on_b = pair.b.customer(customer_id)  # B reads what A has just kept, in the new epoch
    assert on_b.polar == {}
    assert on_b.data == after.data
