"""What the cache tells: ``extensions.cache { hits misses }`` on each response only with cache_extensions=true, and
``/metrics``: hits and misses by kind of record, invalidations by cause (writes, webhooks; a refused token and
Redis's return are counted in ``test_lifetimes`` and ``test_redis_outage``), the bytes Redis holds."""

from __future__ import annotations

from typing import Any

from tests.cache.conftest import Pair
from tests.cache.harness import COLD_CUSTOMER, LISTED, PERSON, Gateway, until

KINDS = ("polar_customer", "polar_customer_state")


def _counts(gateway: Gateway) -> dict[str, float]:
    """Hits, misses and invalidations of the gateway's ``/metrics``, by series."""
    counts = {
        f"{name}:{kind}": gateway.metric(f"gateway_cache_{name}_total", f'kind="{kind}"')
        for name in ("hits", "misses")
        for kind in KINDS
    }
    for cause in ("write", "webhook"):
        counts[f"invalidations:{cause}"] = gateway.metric("gateway_cache_invalidations_total", f'cause="{cause}"')
    return counts


def _grown(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {series: after[series] - before[series] for series in after if after[series] != before[series]}


def test_extensions_report_hits_and_misses_when_asked(pair: Pair) -> None:
    customer_id = pair.polar.by_external_id(PERSON)["id"]
    assert pair.a.customer(customer_id).body["extensions"]["cache"] == {"hits": 0, "misses": 2}
    assert pair.b.customer(customer_id).body["extensions"]["cache"] == {"hits": 2, "misses": 0}
    # A page of 50: its states are looked up (the page itself is never cached).
    assert pair.a.ask(LISTED).body["extensions"]["cache"] == {"hits": 0, "misses": 50}
    assert pair.b.ask(LISTED).body["extensions"]["cache"] == {"hits": 50, "misses": 0}


def test_no_cache_extension_unless_asked(short_lived: Gateway, demo_ids: list[str]) -> None:
    customer_id = demo_ids[60]
    cold = short_lived.customer(customer_id)
    warm = short_lived.customer(customer_id)
    assert (cold.polar, warm.polar) == (COLD_CUSTOMER, {})  # cached, but not told
    for answer in (cold, warm):
        assert "cache" not in answer.body.get("extensions", {}), answer.body


def test_metrics_count_hits_misses_and_invalidations_by_cause(pair: Pair) -> None:
    customer_id = pair.polar.by_external_id(PERSON)["id"]
    a_before, b_before = _counts(pair.a), _counts(pair.b)
    pair.a.customer(customer_id)
    pair.a.customer(customer_id)
    pair.b.customer(customer_id)
    assert _grown(a_before, _counts(pair.a)) == {
        "misses:polar_customer": 1, "misses:polar_customer_state": 1,
        "hits:polar_customer": 1, "hits:polar_customer_state": 1,
    }  # fmt: skip
    assert _grown(b_before, _counts(pair.b)) == {"hits:polar_customer": 1, "hits:polar_customer_state": 1}

    a_before, b_before = _counts(pair.a), _counts(pair.b)
    pair.a.rename(customer_id, "Renamed for the metrics")  # one write; Polar then sends its webhooks to A
    assert pair.endpoint_id is not None
    endpoint_id = pair.endpoint_id

    def delivered() -> list[dict[str, Any]] | None:
        events = pair.polar.deliveries(endpoint_id)
        return events if events and all(event["attempts"] for event in events) else None

    events = until(delivered, 10, "the rename's webhooks delivered")
    assert [attempt["http_code"] for event in events for attempt in event["attempts"]] == [202] * len(events)
    assert "customer.updated" in [event["type"] for event in events]
    assert _grown(a_before, _counts(pair.a)) == {"invalidations:write": 1, "invalidations:webhook": len(events)}
    assert _grown(b_before, _counts(pair.b)) == {}  # B wrote nothing and was sent nothing

    assert pair.a.metric("gateway_cache_bytes", 'store="redis"') > 0  # Redis's used_memory, sampled
