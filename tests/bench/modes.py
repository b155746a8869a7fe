"""The two execution modes side by side, and optionally an earlier checkout beside them: CPU per operation,
throughput and upstream requests for ``make bench``'s four scenarios, the columns' rounds taking turns on
one sandbox (``measure_side_by_side``), so a slow spell of the machine falls on all alike. Asserts nothing.

    python -m tests.bench.modes                                  # lean and stock, this tree
    python -m tests.bench.modes --before /path/to/old/checkout   # and a gateway from that tree
"""

from __future__ import annotations

import argparse
import json
from contextlib import ExitStack
from pathlib import Path

import httpx

from tests.bench.run import HEADERS, Operation, _create_then_delete, _graphql, measure_side_by_side, scenarios
from tests.servers import GatewayProcess, gateway_process, sandbox_process

HERE = str(Path(__file__).resolve().parents[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", help="a checkout of an earlier commit, served as the column 'before'")
    parser.add_argument("--latencies", default="0,20", help="upstream latencies in ms, comma-separated")
    parser.add_argument("--c32", type=int, default=640, help="operations per round at concurrency 32")
    parser.add_argument("--output", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()
    columns = {"lean": {"PYTHONPATH": HERE}, "stock": {"PYTHONPATH": HERE, "GATEWAY_LEAN_EXECUTION": "false"}}
    if args.before:
        columns = {"before": {"PYTHONPATH": str(Path(args.before).resolve())}, **columns}
    figures = []
    with ExitStack() as stack:
        sandbox = stack.enter_context(sandbox_process())
        servers: dict[str, GatewayProcess] = {
            name: stack.enter_context(gateway_process(sandbox.url, env=env)) for name, env in columns.items()
        }
        with httpx.Client(base_url=sandbox.url, headers=HEADERS) as rest:
            ids = [c["id"] for c in rest.get("/v1/customers/", params={"limit": 5}).json()["items"]]
        for latency in (int(value) for value in args.latencies.split(",")):
            for name, (document, _floor) in scenarios(ids).items():
                operations: dict[str, Operation] = {
                    column: _create_then_delete(server.url + "/graphql")
                    if document is None
                    else _graphql(server.url + "/graphql", document)
                    for column, server in servers.items()
                }
                for row in measure_side_by_side(
                    servers, sandbox, operations, scenario=name, latency_ms=latency, c1=20, c32=args.c32
                ):
                    print(f"{latency:>3} ms | {row.scenario:32} | {row.column:6} | upstream req {row.upstream_requests} | "
                          f"CPU ms/op {row.cpu_ms_per_op:6.2f} | ops/s {row.ops_per_s_c32:6.1f}", flush=True)  # fmt: skip
                    figures.append(row.__dict__)
    if args.output:
        args.output.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
