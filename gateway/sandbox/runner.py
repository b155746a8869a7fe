"""Starting the sandbox: in the foreground for ``python -m gateway sandbox``, or in the
background of another event loop (the gateway's embedded default, the test suite)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from .app import create_app
from .seed import DEMO_READ_TOKEN, DEMO_TOKEN, OTHER_TOKEN


@dataclass
class RunningSandbox:
    url: str
    runner: web.AppRunner

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start_sandbox(host: str = "127.0.0.1", port: int = 0, customers: int = 250, seed: int = 1) -> RunningSandbox:
    """Serves the sandbox on ``host:port`` (0: a free port) and says where."""
    runner = web.AppRunner(create_app(customers=customers, seed=seed), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_port = runner.addresses[0][1]
    return RunningSandbox(url=f"http://{host}:{bound_port}", runner=runner)


def banner(url: str) -> str:
    return "\n".join(
        [
            f"Polar sandbox listening on {url}",
            f"  {DEMO_TOKEN:<28} organization Demo, every scope",
            f"  {DEMO_READ_TOKEN:<28} organization Demo, customers:read only",
            f"  {OTHER_TOKEN:<28} organization Other, every scope",
            f"  test controls: {url}/__sandbox/stats, /__sandbox/reset, /__sandbox/faults, /__sandbox/clock",
            f"  try: curl -H 'Authorization: Bearer {DEMO_TOKEN}' {url}/v1/customers/",
        ]
    )
