"""Starting the Voucherify sandbox for ``python -m gateway sandbox --vendor voucherify``."""

from __future__ import annotations

from aiohttp import web

from ..runner import RunningSandbox
from .app import create_app
from .seed import (
    ALLOWED_ORIGINS,
    DEMO_APP_ID,
    DEMO_APP_TOKEN,
    DEMO_CLIENT_APP_ID,
    DEMO_CLIENT_TOKEN,
    OTHER_APP_ID,
    OTHER_APP_TOKEN,
)


async def start_voucherify_sandbox(
    host: str = "127.0.0.1", port: int = 0, customers: int = 120, seed: int = 1
) -> RunningSandbox:
    """Serves the sandbox on ``host:port`` (0: a free port) and says where."""
    runner = web.AppRunner(create_app(customers=customers, seed=seed), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return RunningSandbox(url=f"http://{host}:{runner.addresses[0][1]}", runner=runner)


def banner(url: str) -> str:
    return "\n".join(
        [
            f"Voucherify sandbox listening on {url}",
            f"  X-App-Id: {DEMO_APP_ID}  X-App-Token: {DEMO_APP_TOKEN}  (project Demo)",
            f"  X-App-Id: {OTHER_APP_ID}  X-App-Token: {OTHER_APP_TOKEN}  (project Other)",
            f"  client side (/client/v1): X-Client-Application-Id: {DEMO_CLIENT_APP_ID}  X-Client-Token: "
            f"{DEMO_CLIENT_TOKEN}  Origin: one of {', '.join(sorted(ALLOWED_ORIGINS))}",
            f"  test controls: {url}/__sandbox/stats, /__sandbox/reset, /__sandbox/faults",
            f"  try: curl -H 'X-App-Id: {DEMO_APP_ID}' -H 'X-App-Token: {DEMO_APP_TOKEN}' {url}/v1/customers",
        ]
    )
