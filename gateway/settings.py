"""Every setting of the gateway, typed, from command-line flags and ``GATEWAY_*`` environment variables.

Flags win over the environment, which wins over the defaults below. Each limit has a safe default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from .graphiql import default_assets_dir


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # The Polar API base URL. None: start the embedded sandbox on a free port and use it.
    upstream_url: str | None = None
    # Where clients reach the gateway (behind a proxy, say); default: the request's own scheme and host.
    public_url: str | None = None
    # The CSV export streams for as long as it needs; a stalled upstream ends it after this much silence.
    export_read_timeout_s: float = Field(default=30.0, gt=0)
    # Demo data of the embedded sandbox.
    sandbox_customers: int = Field(default=250, ge=0)
    sandbox_seed: int = 1

    # Limits.
    max_page_size: int = Field(default=100, ge=1, le=100)  # Polar's own page limit is 100
    upstream_connect_timeout_s: float = Field(default=3.0, gt=0)
    upstream_read_timeout_s: float = Field(default=10.0, gt=0)
    upstream_max_connections: int = Field(default=100, ge=1)
    # "aiohttp": the httpx API on aiohttp's pool (fast under fan-out); "httpx": httpx's own pool.
    upstream_transport: Literal["aiohttp", "httpx"] = "aiohttp"
    upstream_max_concurrency: int = Field(default=64, ge=1)  # in-flight upstream requests per process
    request_deadline_s: float = Field(default=10.0, gt=0)  # every upstream call of one GraphQL request
    retry_attempts: int = Field(default=3, ge=1)  # per upstream call, the first one included
    retry_backoff_s: float = Field(default=0.05, ge=0)  # base of the exponential backoff, with full jitter
    retry_backoff_max_s: float = Field(default=2.0, ge=0)
    breaker_failure_threshold: int = Field(default=10, ge=1)  # consecutive failures that open the breaker
    breaker_reset_s: float = Field(default=5.0, gt=0)  # open this long before a probe is let through
    state_batch_size: int = Field(default=100, ge=1, le=100)  # customer ids per batched list call
    scope_memory_s: float = Field(default=600.0, ge=0)  # how long a token's missing scopes are remembered

    # Query limits: refused before any resolver runs, each error names its setting.
    max_depth: int = Field(default=10, ge=1)
    max_aliases: int = Field(default=30, ge=0)
    max_tokens: int = Field(default=5000, ge=10)
    max_cost: int = Field(default=20000, ge=1)  # fields, multiplied under list fields by what they may hold
    max_repeated_field: int = Field(default=30, ge=1)  # selections of one response key merged into one set
    document_cache_bytes: int = Field(default=32 * 2**20, ge=0)  # parsed and validated documents, as weighed
    max_body_bytes: int = Field(default=100_000, ge=1024)
    max_batch_operations: int = Field(default=10, ge=1)  # operations in one batched (JSON list) request
    max_entities: int = Field(default=250, ge=1)  # representations in one federation _entities call

    # Production switches: introspection off also turns off GraphiQL and field suggestions.
    introspection: bool = True
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
    keepalive_timeout_s: float = Field(default=15.0, gt=0)  # an idle connection between requests
    max_connections: int = Field(default=1000, ge=1)  # open per process; more are closed at once
    shutdown_grace_s: float = Field(default=20.0, ge=0)  # on SIGTERM, in-flight requests may finish this long

    # Switch dataloaders and batching off: the naive gateway of the benchmark.
    batching: bool = True
