"""Every setting of the gateway, typed, from command-line flags and ``GATEWAY_*`` environment variables.

Flags win over the environment, which wins over the defaults below. Each limit has a safe default.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # The Polar API base URL. None: start the embedded sandbox on a free port and use it.
    upstream_url: str | None = None
    # Demo data of the embedded sandbox.
    sandbox_customers: int = Field(default=250, ge=0)
    sandbox_seed: int = 1

    # Limits.
    max_page_size: int = Field(default=100, ge=1, le=100)  # Polar's own page limit is 100
    upstream_connect_timeout_s: float = Field(default=3.0, gt=0)
    upstream_read_timeout_s: float = Field(default=10.0, gt=0)
    upstream_max_connections: int = Field(default=100, ge=1)
    state_batch_size: int = Field(default=100, ge=1, le=100)  # customer ids per batched list call
    scope_memory_s: float = Field(default=600.0, ge=0)  # how long a token's missing scopes are remembered

    # Switch dataloaders and batching off: the naive gateway of the benchmark.
    batching: bool = True
