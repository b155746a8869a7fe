"""Command line: ``python -m gateway sandbox`` (and ``serve``, which runs the sandbox alone until
the GraphQL gateway lands)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from .sandbox.runner import banner, start_sandbox


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gateway", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    sandbox = commands.add_parser("sandbox", help="run the stateful Polar sandbox upstream")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8100)
    sandbox.add_argument("--customers", type=int, default=250, help="customers of organization Demo")
    sandbox.add_argument("--seed", type=int, default=1, help="seed of the deterministic demo data")
    serve = commands.add_parser("serve", help="serve the gateway (for now: the sandbox alone)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8100)
    serve.add_argument("--customers", type=int, default=250)
    serve.add_argument("--seed", type=int, default=1)
    return parser


async def _run_sandbox(host: str, port: int, customers: int, seed: int) -> None:
    running = await start_sandbox(host, port, customers, seed)
    print(banner(running.url), flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await running.stop()


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.customers < 0:
        raise SystemExit("--customers must be 0 or more")
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_run_sandbox(args.host, args.port, args.customers, args.seed))
    except OSError as error:
        raise SystemExit(f"cannot listen on {args.host}:{args.port}: {error.strerror or error}") from None


if __name__ == "__main__":
    main()
