"""Prometheus metrics of the gateway. With ``serve --workers N`` the workers write to a shared directory
(``PROMETHEUS_MULTIPROC_DIR``, set by the parent before they start) and any worker's ``/metrics`` answers for
all of them."""

from __future__ import annotations

import os
import re

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

__all__ = ["CONTENT_TYPE", "exposition", "operation_label", "route_template"]

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 250)
MAX_OPERATION_NAMES = 200

OPERATIONS = Counter(
    "gateway_graphql_operations", "GraphQL operations by name, type and outcome (ok or the first error code).",
    ["operation", "type", "outcome"],
)  # fmt: skip
OPERATION_SECONDS = Histogram(
    "gateway_graphql_operation_duration_seconds", "Time from a parsed request to its result.",
    ["operation", "type"], buckets=LATENCY_BUCKETS,
)  # fmt: skip
UPSTREAM_REQUESTS = Counter(
    "gateway_upstream_requests",
    "Upstream attempts by upstream, method, route template and status (or 'timeout'/'error').",
    ["upstream", "method", "route", "status"],
)  # fmt: skip
UPSTREAM_SECONDS = Histogram(
    "gateway_upstream_request_duration_seconds", "Time of one upstream attempt.",
    ["upstream", "method", "route"], buckets=LATENCY_BUCKETS,
)  # fmt: skip
UPSTREAM_RETRIES = Counter(
    "gateway_upstream_retries", "Upstream attempts that were retries.", ["upstream", "method", "route"]
)
BREAKER_OPEN = Gauge(
    "gateway_upstream_breaker_open", "1 while the upstream's circuit breaker is open (or probing), else 0.",
    ["upstream"], multiprocess_mode="max",
)  # fmt: skip
BREAKER_OPENINGS = Counter("gateway_upstream_breaker_openings", "Times the circuit breaker opened.", ["upstream"])
DOCUMENT_CACHE_BYTES = Gauge(
    "gateway_document_cache_bytes", "Parsed and validated documents held, in bytes as weighed.",
    multiprocess_mode="livesum",
)  # fmt: skip
DOCUMENT_CACHE_ENTRIES = Gauge(
    "gateway_document_cache_entries", "Documents (or verdicts on refused ones) held.", multiprocess_mode="livesum"
)
EDGE_CLOSED = Counter(
    "gateway_http_connections_closed", "Connections the edge closed: over max_connections, a request head not "
    "complete within header_timeout_s, a body not complete within body_timeout_s.", ["reason"],
)  # fmt: skip
LOADER_BATCH_SIZE = Histogram(
    "gateway_dataloader_batch_size", "Keys per dataloader batch.", ["loader"], buckets=BATCH_BUCKETS
)

WEBHOOKS = Counter(
    "gateway_webhooks", "Polar webhook deliveries by outcome (accepted, duplicate, refused, malformed, unavailable).",
    ["outcome"],
)  # fmt: skip
LIVE_EVENTS = Counter("gateway_live_events", "Customer changes handed to this process's subscribers.")
LIVE_SUBSCRIBERS = Gauge("gateway_live_subscribers", "Subscriptions open in this process.", multiprocess_mode="livesum")
LIVE_ENDED = Counter("gateway_live_subscriptions_ended", "Subscriptions the gateway ended, by reason.", ["reason"])
LIVE_BUS_UP = Gauge(
    "gateway_live_bus_up", "1 while live events flow (Redis subscribed, or in process).", multiprocess_mode="min"
)
CACHE_HITS = Counter("gateway_cache_hits", "Reads answered from the cache, by kind of record.", ["kind"])
CACHE_MISSES = Counter(
    "gateway_cache_misses", "Reads the cache could not answer (absent, stale, caller not trusted lately, or the "
    "store unreachable), by kind of record.", ["kind"],
)  # fmt: skip
CACHE_INVALIDATIONS = Counter(
    "gateway_cache_invalidations", "Invalidations by cause: webhook, write (through the gateway), token_refused, "
    "redis_recovered (every entry, after an invalidation could not be written).", ["cause"],
)  # fmt: skip
CACHE_FAILURES = Counter(
    "gateway_cache_failures", "Cache operations that failed (Redis down, frozen or slow); the read went upstream.",
    ["operation"],
)  # fmt: skip
CACHE_BYTES = Gauge(
    "gateway_cache_bytes", "Bytes held: this process's entries (memory), or Redis's used_memory, sampled (redis).",
    ["store"], multiprocess_mode="livemax",
)  # fmt: skip
PERSISTED_QUERIES = Counter(
    "gateway_persisted_queries", "Documents sent by reference or checked against the trusted ones, by outcome: hit, "
    "miss (PersistedQueryNotFound), registered, unproven (not registered: no upstream accepted the caller's "
    "credentials lately), trusted (found in the manifest), refused (not trusted, hash mismatch, malformed), "
    "store_failed (Redis down or slow: a miss).", ["outcome"],
)  # fmt: skip
PERSISTED_QUERY_BYTES = Gauge(
    "gateway_persisted_query_bytes", "Bytes the automatic persisted queries' store holds, as it counts them.",
    ["store"], multiprocess_mode="livemax",
)  # fmt: skip
CLIENT_REQUESTS = Counter(
    "gateway_client_requests", "GraphQL requests by the client's identity (apollographql-client-name and -version "
    "headers; unknown without them, other past the first MAX_CLIENTS pairs).", ["client", "version"],
)  # fmt: skip
_UUID = re.compile(r"/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?=/|$)")
_EXTERNAL = re.compile(r"/external/[^/]+")
_known_operations: set[str] = set()


def route_template(path: str) -> str:
    """``/v1/customers/<uuid>/state`` -> ``/v1/customers/{id}/state``: bounded labels, no customer data."""
    return _UUID.sub("/{id}", _EXTERNAL.sub("/external/{external_id}", path))


def operation_label(name: str | None) -> str:
    """Operation names are chosen by callers: the first ``MAX_OPERATION_NAMES`` are kept, later ones are
    counted as ``other`` so a hostile client cannot grow the metrics without bound."""
    if not name:
        return "anonymous"
    if name in _known_operations:
        return name
    if len(_known_operations) >= MAX_OPERATION_NAMES:
        return "other"
    _known_operations.add(name)
    return name


def exposition() -> bytes:
    """The text format of every metric: this process's, or all workers' in multiprocess mode."""
    if os.environ.get(MULTIPROCESS_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest()
