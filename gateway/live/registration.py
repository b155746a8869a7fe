"""The embedded default's webhook endpoint: ``serve`` on its sandbox registers the gateway with the sandbox's
Polar, the way an operator registers it with real Polar (README, "Live customers"), and takes the secret it
answers. Subscriptions then work out of the box."""

from __future__ import annotations

from ..settings import Settings
from ..upstream import budget
from ..upstream.polar import PolarClient
from ..upstream.polar_webhooks import HANDLED_EVENTS
from ..upstream.transport import Transport, create_client

REGISTRATION_DEADLINE_S = 10.0


def endpoint_url(host: str, port: int, route: str) -> str:
    """Where the sandbox reaches this gateway: the listening address, or loopback when it listens on all."""
    reachable = "127.0.0.1" if host in {"", "0.0.0.0", "::"} else host
    if ":" in reachable:
        reachable = f"[{reachable}]"
    return f"http://{reachable}:{port}{route}"


async def register_endpoint(polar: PolarClient, token: str, url: str) -> str:
    """The secret of a new endpoint at ``url`` for every event the gateway handles."""
    budget.start(REGISTRATION_DEADLINE_S, 3)
    try:
        return (await polar.create_webhook_endpoint(token, url, HANDLED_EVENTS)).secret
    finally:
        budget.end()


async def register_at(polar_url: str, settings: Settings, token: str, url: str) -> str:
    """``register_endpoint`` from outside an app (the parent of ``serve --workers N``), on a pool of its own."""
    pool = create_client(polar_url, settings, 1)
    try:
        return await register_endpoint(PolarClient(Transport(pool, settings)), token, url)
    finally:
        await pool.aclose()
