"""Starting the sandbox: in the foreground for ``python -m gateway sandbox``, or in the
background of another event loop (the gateway's embedded default, the test suite)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from .app import create_app
from .seed import DEMO_READ_TOKEN, DEMO_TOKEN, DEMO_WEBHOOKS_READ_TOKEN, OTHER_TOKEN


@dataclass
class RunningSandbox:
    url: str
    runner: web.AppRunner

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start_sandbox(
    host: str = "127.0.0.1", port: int = 0, customers: int = 250, seed: int = 1, webhook_backoff_scale: float = 1.0
) -> RunningSandbox:
    """Serves the sandbox on ``host:port`` (0: a free port) and says where."""
    app = create_app(customers=customers, seed=seed, webhook_backoff_scale=webhook_backoff_scale)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_port = runner.addresses[0][1]
    return RunningSandbox(url=f"http://{host}:{bound_port}", runner=runner)


def banner(url: str) -> str:
    return "\n".join(
        [
            f"Polar sandbox listening on {url}",
            f"  {DEMO_TOKEN:<37} organization Demo, every scope",
            f"  {DEMO_READ_TOKEN:<37} organization Demo, customers:read only",
            f"  {DEMO_WEBHOOKS_READ_TOKEN:<37} organization Demo, webhooks:read only",
            f"  {OTHER_TOKEN:<37} organization Other, every scope",
            f"  test controls: {url}/__sandbox/stats, /__sandbox/reset, /__sandbox/faults, /__sandbox/clock",
            "  webhooks: /v1/webhooks/endpoints; /__sandbox/checkout, /__sandbox/cancel, /__sandbox/grants,"
            " /__sandbox/deliveries, /__sandbox/webhooks",
            f"  try: curl -H 'Authorization: Bearer {DEMO_TOKEN}' {url}/v1/customers/",
        ]
    )
