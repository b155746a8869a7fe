"""Command line: ``serve`` (the gateway), ``sandbox`` (the Polar or Voucherify emulator alone), ``export-schema``.

The composition root: the one place (with ``gateway.workers`` for ``serve --workers N``) that starts the
embedded sandboxes (Polar's and Voucherify's, each when its URL is not configured) and hands their URLs to
the application, which itself serves whatever upstreams it is given."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
import sys
from typing import Any

from aiohttp import web
from pydantic import SecretStr, ValidationError

from .observability.logs import configure_logging
from .persisted.manifest import ManifestError
from .persisted.service import manifest_of
from .sandbox.runner import RunningSandbox, banner, start_sandbox
from .sandbox.seed import DEMO_TOKEN
from .sandbox.voucherify.runner import start_voucherify_sandbox
from .sandbox.voucherify.seed import (
    ALLOWED_ORIGINS,
    DEMO_APP_ID,
    DEMO_APP_TOKEN,
    DEMO_CLIENT_APP_ID,
    DEMO_CLIENT_TOKEN,
)
from .settings import Settings, with_cursor_secret

log = logging.getLogger("gateway")


def _parser() -> argparse.ArgumentParser:
    invoked = os.path.basename(sys.argv[0])  # the console script's name, or python -m's __main__.py
    prog = "python -m gateway" if invoked == "__main__.py" else invoked
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the GraphQL gateway")
    serve.add_argument("--host", help="default 127.0.0.1 (GATEWAY_HOST)")
    serve.add_argument("--port", type=int, help="default 8000 (GATEWAY_PORT)")
    serve.add_argument("--upstream-url", help="Polar API base URL (GATEWAY_UPSTREAM_URL); default: embedded sandbox")
    serve.add_argument(
        "--voucherify-url", help="Voucherify API base URL (GATEWAY_VOUCHERIFY_URL); default: embedded sandbox"
    )
    serve.add_argument("--workers", type=int, help="processes sharing the port, default 1 (GATEWAY_WORKERS)")
    serve.add_argument("--log-level", help="DEBUG, INFO, WARNING or ERROR; default INFO (GATEWAY_LOG_LEVEL)")
    sandbox = commands.add_parser("sandbox", help="run a stateful vendor sandbox (Polar by default) alone")
    sandbox.add_argument("--vendor", choices=("polar", "voucherify"), default="polar", help="which API to emulate")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8100)
    sandbox.add_argument("--customers", type=int, help="customers of the Demo organization or project (250; 120)")
    sandbox.add_argument("--seed", type=int, default=1, help="seed of the deterministic demo data")
    commands.add_parser("export-schema", help="print the GraphQL schema (SDL), as checked in to schema.graphql")
    return parser


async def _run_sandbox(vendor: str, host: str, port: int, customers: int | None, seed: int) -> None:
    """One vendor's sandbox alone, until interrupted, with its own default seed size."""
    from .sandbox.voucherify.runner import banner as voucherify_banner

    start, describe, default_customers = (
        (start_voucherify_sandbox, voucherify_banner, 120)
        if vendor == "voucherify"
        else (start_sandbox, banner, 250)
    )
    running = await start(host, port, default_customers if customers is None else customers, seed)
    print(describe(running.url), flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await running.stop()


def _freeze_startup_objects() -> None:
    """Moves what start-up built (the schema, its types, the libraries) out of the garbage collector's
    reach: it lives as long as the process, yet every full collection walked all of it again. Measured
    with ``make bench``: about 5% of the CPU of a lookup and 12% of twenty aliased lookups."""
    gc.collect()
    gc.freeze()


async def _serve(settings: Settings) -> None:
    """Serves until SIGTERM or SIGINT, then stops gracefully: no new connections, requests in flight
    finish (for up to ``shutdown_grace_s``), and the process exits 0. The handlers are installed before
    the port opens, so they are in place whenever a signal can matter; with them, python as PID 1 (in a
    container) stops on SIGTERM too, where it would otherwise ignore it.

    Without ``upstream_url``, this is where the embedded sandbox starts (on a free port of 127.0.0.1) and
    is handed to the app; it stops after the requests in flight have finished."""
    from .app import create_app, create_metrics_app
    from .http.connections import edge_runner
    from .observability import tracing

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    tracing.configure_tracing(settings.tracing, settings.service_name)
    sandbox: RunningSandbox | None = None
    voucherify: RunningSandbox | None = None
    runners: list[web.AppRunner] = []
    try:
        if settings.upstream_url is None:
            sandbox = await start_sandbox("127.0.0.1", 0, settings.sandbox_customers, settings.sandbox_seed)
        if settings.voucherify_url is None:
            voucherify = await start_voucherify_sandbox(
                "127.0.0.1", 0, settings.sandbox_voucherify_customers, settings.sandbox_seed
            )
        listening: socket.socket | None = None
        if sandbox is not None and settings.polar_webhook_secret is None and settings.subscriptions:
            # The endpoint is registered before the app is made, so that it starts with the secret: its
            # webhooks then feed subscriptions and invalidate the cache from the first request.
            listening = socket.create_server((settings.host, settings.port), family=_family(settings.host))
            settings = await _listening_to_sandbox(settings, sandbox.url, listening.getsockname()[1])
        app = create_app(
            settings,
            sandbox.url if sandbox else None,
            demo_token=DEMO_TOKEN if sandbox else None,
            voucherify_url=voucherify.url if voucherify else None,
            demo_voucherify_keys=(DEMO_APP_ID, DEMO_APP_TOKEN) if voucherify else None,
        )
        runner = edge_runner(app, settings)
        await runner.setup()
        runners.append(runner)
        reuse_port = settings.reuse_port or None
        if listening is not None:
            await web.SockSite(runner, listening).start()
        else:
            await web.TCPSite(runner, settings.host, settings.port, reuse_port=reuse_port).start()
        metrics_port = None
        if settings.metrics and settings.metrics_port is not None:
            metrics_runner = edge_runner(create_metrics_app(), settings)
            await metrics_runner.setup()
            runners.append(metrics_runner)
            await web.TCPSite(metrics_runner, settings.host, settings.metrics_port, reuse_port=reuse_port).start()
            metrics_port = metrics_runner.addresses[0][1]
        port = runner.addresses[0][1]
        _freeze_startup_objects()
        if settings.reuse_port:  # a worker of `serve --workers N`: the parent prints the address
            print(f"gateway worker {os.getpid()} ready on port {port}", flush=True)
        else:
            address = f"http://{settings.host}:{port}/graphql"
            print(f"GraphQL gateway listening on {address} (GraphiQL: open it in a browser)", flush=True)
            if metrics_port is not None:
                print(f"  metrics: http://{settings.host}:{metrics_port}/metrics", flush=True)
            if sandbox is not None:
                print(f"  upstream: embedded Polar sandbox at {sandbox.url}", flush=True)
                print(f"  demo token: {DEMO_TOKEN}  (send 'Authorization: Bearer {DEMO_TOKEN}')", flush=True)
            if settings.subscriptions:
                live = "the sandbox's webhooks" if sandbox is not None else "Polar's webhooks at /webhooks/polar"
                print(f"  subscriptions: ws://{settings.host}:{port}/graphql, fed by {live}", flush=True)
            if voucherify is not None:
                print(f"  upstream: embedded Voucherify sandbox at {voucherify.url}", flush=True)
                print(f"  demo Voucherify keys: send 'X-Voucherify-App-Id: {DEMO_APP_ID}' and "
                      f"'X-Voucherify-App-Token: {DEMO_APP_TOKEN}'", flush=True)  # fmt: skip
                print(f"  demo Voucherify client keys (consents from a browser): 'X-Voucherify-Client-Id: "
                      f"{DEMO_CLIENT_APP_ID}', 'X-Voucherify-Client-Token: {DEMO_CLIENT_TOKEN}', from an Origin of "
                      f"{', '.join(sorted(ALLOWED_ORIGINS))}", flush=True)  # fmt: skip
        await stop.wait()
        log.info("stopping: no new connections; requests in flight have %gs to finish (setting shutdown_grace_s)",
                 settings.shutdown_grace_s)  # fmt: skip
    finally:
        for each in runners:
            await each.cleanup()  # stops listening, then waits for requests in flight
        for embedded in (sandbox, voucherify):
            if embedded is not None:
                await embedded.stop()
        tracing.shutdown()


async def _listening_to_sandbox(settings: Settings, sandbox_url: str, port: int) -> Settings:
    """The embedded sandbox's Polar sends its webhooks to ``port``: an endpoint registered with the demo
    token, its secret the settings' (see ``gateway.live.registration``)."""
    from .live.receiver import WEBHOOK_ROUTE
    from .live.registration import endpoint_url, register_at

    url = endpoint_url(settings.host, port, WEBHOOK_ROUTE)
    secret = await register_at(sandbox_url, settings, DEMO_TOKEN, url)
    return settings.model_copy(update={"polar_webhook_secret": SecretStr(secret)})


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _settings(args: argparse.Namespace) -> Settings:
    flags: dict[str, Any] = {k: v for k, v in vars(args).items() if k != "command" and v is not None}
    try:
        settings = Settings(**flags)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" if e["loc"] else e["msg"] for e in error.errors()
        )
        raise SystemExit(f"invalid settings: {problems}") from None
    try:
        manifest_of(settings)  # read now, so that a bad manifest stops the start with its reason, not a traceback
    except ManifestError as error:
        raise SystemExit(f"invalid settings: trusted_documents: {error}") from None
    return settings


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.command == "export-schema":
        from .graphql.schema import schema_sdl

        sys.stdout.write(schema_sdl())
        return
    if args.command == "sandbox":
        if args.customers is not None and args.customers < 0:
            raise SystemExit("--customers must be 0 or more")
        host, port = args.host, args.port
        running = _run_sandbox(args.vendor, args.host, args.port, args.customers, args.seed)
    else:
        settings = _settings(args)
        configure_logging(settings.log_level, settings.log_format == "json")
        settings = with_cursor_secret(settings)  # before any worker starts: they all get this one
        if settings.workers > 1:
            from .workers import run_workers

            run_workers(settings, DEMO_TOKEN)
            return
        host, port = settings.host, settings.port
        running = _serve(settings)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(running)
    except OSError as error:
        raise SystemExit(f"cannot listen on {host}:{port}: {error.strerror or error}") from None


if __name__ == "__main__":
    main()
