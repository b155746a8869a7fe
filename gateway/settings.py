"""Every setting of the gateway, typed, from command-line flags and ``GATEWAY_*`` environment variables.

Flags win over the environment, which wins over the defaults below. Each limit has a safe default.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

CURSOR_SECRET_MIN_CHARS = 32
FederationVersion = Literal["2.0", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "2.8", "2.9", "2.10", "2.11"]
log = logging.getLogger("gateway.settings")


def default_assets_dir() -> Path:
    """The copies inside the installed package when it was built as a wheel (``graphiql_page/assets``, each
    file ``graphiql_page/assets.txt`` lists present), else ``web/node_modules`` beside the ``gateway``
    package: a source checkout. Here, not beside the GraphiQL handlers: settings depend on no handler."""
    page = Path(__file__).resolve().parent / "graphiql_page"
    packaged = page / "assets"
    listed = [line.split()[1] for line in (page / "assets.txt").read_text().splitlines() if line.strip()]
    if packaged.is_dir() and all((packaged / path).is_file() for path in listed):
        return packaged
    return Path(__file__).resolve().parent.parent / "web" / "node_modules"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # The Polar API base URL. None: start the embedded sandbox on a free port and use it.
    upstream_url: str | None = None
    # The Voucherify API base URL (https://api.voucherify.io, or your cluster's). None: start the embedded
    # Voucherify sandbox on a free port and use it.
    voucherify_url: str | None = None
    # Where clients reach the gateway (``https://api.example.com``, maybe with a path), for absolute links such
    # as customersExportUrl. Unset, links are relative: never built from the request's Host header, which the
    # caller chooses.
    public_url: str | None = None
    # The CSV export streams as it arrives: a stalled upstream ends it after this much silence, a client
    # that takes nothing for export_write_timeout_s is dropped, and no export lasts over export_max_duration_s.
    export_read_timeout_s: float = Field(default=30.0, gt=0)
    export_write_timeout_s: float = Field(default=30.0, gt=0)
    export_max_duration_s: float = Field(default=600.0, gt=0)
    # Exports have their own upstream connections, so slow downloads never hold the API's.
    export_max_connections: int = Field(default=4, ge=1)  # per process
    export_max_per_caller: int = Field(default=1, ge=1)  # concurrent exports of one token
    # The key that signs pagination cursors (HMAC-SHA-256). Every instance of one deployment needs the same
    # one; unset, a random key is made at start-up (cursors then die with the process). Never logged.
    cursor_secret: SecretStr | None = None
    # Demo data of the embedded sandbox.
    sandbox_customers: int = Field(default=250, ge=0)
    sandbox_voucherify_customers: int = Field(default=120, ge=0)
    sandbox_seed: int = 1

    # Limits.
    max_page_size: int = Field(default=100, ge=1, le=100)  # Polar's own page limit is 100
    upstream_connect_timeout_s: float = Field(default=3.0, gt=0)
    upstream_read_timeout_s: float = Field(default=10.0, gt=0)
    upstream_max_connections: int = Field(default=100, ge=1)
    # "aiohttp": the httpx API on aiohttp's pool (fast under fan-out); "httpx": httpx's own pool.
    upstream_transport: Literal["aiohttp", "httpx"] = "aiohttp"
    upstream_max_concurrency: int = Field(default=64, ge=1)  # in-flight upstream requests per process
    upstream_max_concurrency_per_caller: int = Field(default=32, ge=1)  # of those, for one token
    # Voucherify's calls for one key pair at once: a page of 50 joined customers is 50 lookups (it has no batch
    # get), in one wave, so the page costs two round trips.
    voucherify_max_concurrency_per_caller: int = Field(default=50, ge=1)
    max_upstream_calls: int = Field(default=300, ge=1)  # upstream calls of one GraphQL request (a batch is one)
    token_trust_s: float = Field(default=300.0, ge=0)  # a token Polar accepted is trusted with concurrent calls
    request_deadline_s: float = Field(default=10.0, gt=0)  # every upstream call of one GraphQL request
    # The part of that deadline each upstream's calls may use: Voucherify's end earlier, so a slow Voucherify
    # (loyalty beside billing) answers UPSTREAM_TIMEOUT while Polar's calls still have their time.
    polar_deadline_share: float = Field(default=1.0, gt=0, le=1)
    voucherify_deadline_share: float = Field(default=0.6, gt=0, le=1)
    retry_attempts: int = Field(default=3, ge=1)  # per upstream call, the first one included
    retry_backoff_s: float = Field(default=0.05, ge=0)  # base of the exponential backoff, with full jitter
    retry_backoff_max_s: float = Field(default=2.0, ge=0)
    breaker_failure_threshold: int = Field(default=10, ge=1)  # consecutive failures that open the breaker
    breaker_reset_s: float = Field(default=5.0, gt=0)  # open this long before a probe is let through
    state_batch_size: int = Field(default=100, ge=1, le=100)  # customer ids per batched list call
    scope_memory_s: float = Field(default=600.0, ge=0)  # how long a token's missing scopes are remembered

    # Voucherify's bulk work. An upload is the one request body allowed over max_body_bytes: only a multipart
    # POST to /graphql carrying Voucherify keys and a non-simple header (CSRF), at most this many at once per
    # process (more get 503 at once, before their body is read).
    max_upload_bytes: int = Field(default=10 * 2**20, ge=1024)  # Voucherify takes CSV files up to 10 MB
    max_concurrent_uploads: int = Field(default=4, ge=1)
    max_bulk_customers: int = Field(default=100, ge=1)  # customers (or source ids) of one bulk mutation
    async_action_max_wait_s: float = Field(default=8.0, ge=0)  # waitSeconds of voucherifyAsyncAction, at most
    # Characters of an id, source id or text filter sent to Voucherify (they travel in its URLs).
    max_identifier_chars: int = Field(default=255, ge=16, le=4096)

    # Query limits: refused before any resolver runs, each error names its setting.
    max_depth: int = Field(default=10, ge=1)
    max_aliases: int = Field(default=30, ge=0)
    max_tokens: int = Field(default=5000, ge=10)
    max_cost: int = Field(default=20000, ge=1)  # fields, multiplied under list fields by what they may hold
    max_repeated_field: int = Field(default=30, ge=1)  # selections of one response key merged into one set
    max_fragments: int = Field(default=100, ge=0)  # fragment definitions in one document
    document_cache_bytes: int = Field(default=32 * 2**20, ge=0)  # parsed and validated documents, as weighed
    # Documents not seen before cost about 1 ms of CPU per KB to parse and validate: requests may bring this
    # many bytes of them a second (and save up to the burst); more get 503 with Retry-After. Seen ones pass.
    new_document_bytes_per_s: int = Field(default=32 * 1024, ge=1)
    new_document_burst_bytes: int = Field(default=256 * 1024, ge=1)
    max_body_bytes: int = Field(default=100_000, ge=1024)
    max_batch_operations: int = Field(default=10, ge=1)  # operations in one batched (JSON list) request
    max_entities: int = Field(default=250, ge=1)  # _entities representations in one request (a batch is one)

    # Documents sent by reference (gateway/persisted; README "From a frontend").
    # Apollo's automatic persisted queries: a caller registers a document by sending it once with its SHA-256,
    # then sends the hash alone. Registrations are per caller credential, in this process or, with redis_url,
    # in Redis (every instance knows them), least recently used out first past persisted_queries_max_bytes.
    persisted_queries: bool = True
    persisted_queries_max_bytes: int = Field(default=16 * 2**20, ge=0)
    # A manifest of the documents the frontends were built with: Apollo's persisted-query manifest, or Relay's
    # persisted_queries.json. Its documents run by id (extensions.persistedQuery.sha256Hash, or documentId).
    trusted_documents: Path | None = None
    # Nothing but the manifest's documents runs, by id or by identical text: any other is refused before it is
    # parsed (DOCUMENT_NOT_TRUSTED), over HTTP and WebSocket. The setting for a public deployment.
    trusted_documents_only: bool = False

    # Live: Polar's webhooks in (POST /webhooks/polar), GraphQL subscriptions out (WebSocket on /graphql).
    # The endpoint secret Polar shows when the endpoint is made (whsec_...); unset, /webhooks/polar answers 503
    # and subscriptions see nothing. `serve` on the embedded sandbox registers an endpoint and sets it.
    polar_webhook_secret: SecretStr | None = None
    # redis://host:port/db: live events and webhook deduplication shared by every instance (pub/sub, SET NX).
    # Unset: in this process only. Never logged (it may carry a password).
    redis_url: SecretStr | None = None
    webhook_max_bytes: int = Field(default=256_000, ge=1024)  # one delivery's body (Polar's are a few KB); more is 413
    webhook_max_concurrent: int = Field(default=16, ge=1)  # deliveries being read at once; more get 503 (Polar retries)
    webhook_dedupe_s: float = Field(default=86_400.0, gt=0)  # a webhook-id seen is ignored this long
    webhook_dedupe_ids: int = Field(default=100_000, ge=1)  # ids remembered in process (without Redis)
    subscriptions: bool = True  # WebSocket on /graphql: graphql-transport-ws and the legacy graphql-ws
    # Sockets per process, and never over half of max_connections, so that HTTP always has room. The token is
    # proven with Polar at connection_init (one call, none for a token accepted lately).
    max_websocket_connections: int = Field(default=500, ge=1)
    max_connections_per_token: int = Field(default=20, ge=1)  # sockets of one token, per process
    max_subscriptions_per_connection: int = Field(default=10, ge=1)  # at once, on one socket
    max_subscriptions_per_token: int = Field(default=50, ge=1)  # at once, over every socket of one token
    websocket_subscribes_per_minute: int = Field(default=60, ge=1)  # subscriptions one socket may start
    websocket_messages_per_s: float = Field(default=20.0, gt=0)  # from one client, with a burst of 5 s worth
    websocket_init_timeout_s: float = Field(default=5.0, gt=0)  # upgrade to connection_init, else closed 4408
    websocket_max_message_bytes: int = Field(default=64 * 1024, ge=1024)  # one frame from a client
    websocket_heartbeat_s: float = Field(default=30.0, gt=0)  # pings that find dead peers
    # Events one subscriber may have waiting; one more and its connection closes (1008), so a slow reader
    # never holds memory without limit.
    subscription_queue_size: int = Field(default=100, ge=1)
    # A subscriber's token is asked of Polar again this often; refused, its connection closes with 4403.
    subscription_token_revalidate_s: float = Field(default=60.0, gt=0)

    # The cache of upstream reads (gateway/cache, README "Cache"): Polar's customers and customer states, per
    # token, in this process (bounded in bytes) or in Redis when redis_url is set. None: on wherever entries can
    # be invalidated, that is with polar_webhook_secret (the embedded default has one), or with cache_ttl_s set.
    cache: bool | None = None
    # How long an entry may be served. None: 300 s with a webhook secret; without one, set it to cache at all
    # (nothing then tells the gateway of changes made elsewhere: they show after at most this long).
    cache_ttl_s: float | None = Field(default=None, gt=0)
    # A hit also needs Polar (or Voucherify) to have accepted the caller's credential this lately; else the read
    # goes upstream, which asks again: a revoked token stops reading cached data within this long.
    cache_token_revalidate_s: float = Field(default=60.0, gt=0)
    cache_max_bytes: int = Field(default=64 * 2**20, ge=0)  # the in-process store (least recently used out first)
    cache_max_entry_bytes: int = Field(default=256 * 1024, ge=1024)  # a bigger record is not cached
    # One cache read or write in Redis; slower is a miss. Timed on this process's event loop, which a busy
    # process is late to run: 0.1 s missed under load even with Redis idle.
    cache_redis_timeout_s: float = Field(default=0.5, gt=0)
    # An invalidation after a write through the gateway may wait this long (the write's answer waits with it):
    # a missed one lets other instances serve what it would have removed until Redis is back.
    cache_invalidation_timeout_s: float = Field(default=2.0, gt=0)
    cache_redis_retry_s: float = Field(default=1.0, ge=0)  # after a failure, Redis is not asked for this long
    # Voucherify's customers, by id and source id, for this long. Voucherify's webhooks are not received, so only
    # writes through this gateway and this TTL bound what is stale. None: not cached.
    voucherify_cache_ttl_s: float | None = Field(default=None, gt=0)
    cache_extensions: bool = False  # each response's extensions.cache { hits misses }

    # Production switches: introspection off also turns off GraphiQL, every "Did you mean" suggestion, and
    # _service { sdl } for callers without router_secret (sent by the federation router as X-Router-Secret).
    introspection: bool = True
    router_secret: SecretStr | None = None
    # The Apollo Federation version the schema links: the lowest that has every directive it uses (@key: 2.0),
    # so that every router composes it (Hive Gateway's composer stops at 2.9). A router may need it higher.
    federation_version: FederationVersion = "2.0"
    graphiql: bool = True
    graphiql_assets_dir: Path = Field(default_factory=default_assets_dir)  # web/node_modules, from npm ci
    cors_origins: list[str] = Field(default_factory=list)  # exact origins allowed to call from browsers

    # Operations: logs, metrics, tracing, processes.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"
    metrics: bool = True  # GET /metrics in Prometheus's text format
    tracing: Literal["off", "otlp", "console"] = "off"  # otlp: to OTEL_EXPORTER_OTLP_ENDPOINT (standard vars)
    service_name: str = "customer-gateway"  # the service.name of spans
    workers: int = Field(default=1, ge=1, le=64)  # processes sharing the port (SO_REUSEPORT)
    reuse_port: bool = False  # set for each worker by `serve --workers N`
    # None: /metrics on the main port. A port: /metrics only there (same host), and 404 on the main port.
    metrics_port: int | None = Field(default=None, ge=0, le=65535)

    # The edge, facing the open internet (see README's Security section).
    # A request line and headers, from the connection's opening (kept alive: from the next request's first byte).
    header_timeout_s: float = Field(default=10.0, gt=0)
    body_timeout_s: float = Field(default=10.0, gt=0)  # a whole request body; then 408 and the connection closed
    # A refused upload or webhook whose body is still arriving (within its size limit) is read and dropped this
    # long before its connection closes, so the client reads the answer instead of a reset.
    refused_body_drain_s: float = Field(default=1.0, ge=0)
    keepalive_timeout_s: float = Field(default=15.0, gt=0)  # an idle connection between requests
    max_connections: int = Field(default=1000, ge=1)  # open per process; more are closed at once
    shutdown_grace_s: float = Field(default=20.0, ge=0)  # on SIGTERM, in-flight requests may finish this long
    # The head timeout, the connection cap and the fixed answer to a malformed head subclass aiohttp's server
    # and read its private attributes (gateway/http/connections.py). Off: aiohttp's stock server, to compare
    # against after an aiohttp upgrade (tests/test_edge_switch.py does).
    edge_guards: bool = True

    # The lean engine (gateway/graphql/execution.py and the view's plain POST path) overrides private methods
    # of graphql-core's executor and calls plain resolvers around Strawberry's wrapper. Off: stock Strawberry
    # and graphql-core, to compare against after upgrading either (tests/graphql/test_lean_differential.py).
    lean_execution: bool = True

    # Switch dataloaders and batching off: the naive gateway of the benchmark.
    batching: bool = True

    @field_validator("public_url")
    @classmethod
    def _absolute_http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        url = urlsplit(value)
        if url.scheme not in {"http", "https"} or not url.netloc or url.query or url.fragment:
            raise ValueError("must be an absolute http(s) URL without query or fragment, e.g. https://api.example.com")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _cache_can_be_invalidated(self) -> Settings:
        if self.cache is True and self.cache_ttl_s is None and self.polar_webhook_secret is None:
            raise ValueError(
                "cache is on but nothing can invalidate it: set polar_webhook_secret (Polar's webhooks invalidate "
                "entries), or cache_ttl_s (how stale an entry may be)"
            )
        return self

    @model_validator(mode="after")
    def _trusted_documents_only_with_a_manifest(self) -> Settings:
        if self.trusted_documents_only and self.trusted_documents is None:
            raise ValueError("trusted_documents_only needs trusted_documents: the manifest of the documents that run")
        return self  # the manifest itself is read, and judged, at start (``persisted.service.manifest_of``)

    @field_validator("cursor_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < CURSOR_SECRET_MIN_CHARS:
            raise ValueError(f"must have at least {CURSOR_SECRET_MIN_CHARS} characters (e.g. openssl rand -hex 32)")
        return value


def with_cursor_secret(settings: Settings) -> Settings:
    """The settings with a cursor secret: the one configured, else a random one made now, with a warning
    (once, here) unless the gateway runs on its embedded sandbox, whose data dies with the process anyway.
    ``serve --workers N`` calls this in the parent, which hands the secret to every worker."""
    if settings.cursor_secret is not None:
        return settings
    if settings.upstream_url is not None:
        log.warning(
            "cursor_secret is not set: cursors are signed with a random key made at start-up, so they stop "
            "working when this process restarts and are refused by every other instance. Set "
            "GATEWAY_CURSOR_SECRET (at least %d characters, the same on every instance).",
            CURSOR_SECRET_MIN_CHARS,
        )
    return settings.model_copy(update={"cursor_secret": SecretStr(secrets.token_hex(32))})
