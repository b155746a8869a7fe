"""Distinct maximal documents (about 100 KB and 5,000 tokens each, valid and invalid in turn) sent to a real
gateway without a token: prints its resident memory as they go, what its document cache holds, and the CPU
each took. 570 of them had taken a gateway from 68 MB to 2.16 GB when its caches counted entries.

    python -m tests.bench.documents --count 10000
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.conftest import MANY_NEW_DOCUMENTS
from tests.servers import gateway_process, sandbox_process


def maximal(kind: str, variant: int) -> dict[str, str | None]:
    if kind == "valid":
        query = " ".join(f"query Q{variant}x{n}{'_' * 60} {{ __typename }}" for n in range(990))
        return {"query": query, "operationName": f"Q{variant}x7{'_' * 60}"}
    return {"query": "{ " + " ".join(f"f{variant}x{n:04d}{'_' * 8}" for n in range(4990)) + " }", "operationName": None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()
    with sandbox_process() as sandbox, gateway_process(sandbox.url, env=MANY_NEW_DOCUMENTS) as gateway:
        started_rss = gateway.rss_bytes()
        started_cpu = gateway.cpu_seconds()
        began = time.monotonic()
        samples: list[tuple[int, float]] = []
        with httpx.Client(timeout=120) as client, ThreadPoolExecutor(args.concurrency) as pool:

            def send(variant: int) -> int:
                body = maximal("valid" if variant % 2 else "invalid", variant)
                return client.post(gateway.graphql_url, json=body).status_code

            statuses: dict[int, int] = {}
            for done, status in enumerate(pool.map(send, range(args.count)), start=1):
                statuses[status] = statuses.get(status, 0) + 1
                if done % max(1, args.count // 20) == 0:
                    samples.append((done, round(gateway.rss_bytes() / 2**20, 1)))
                    print(f"{done} documents: RSS {samples[-1][1]} MB", file=sys.stderr, flush=True)
        metrics = httpx.get(f"{gateway.url}/metrics").text
        held = float(re.search(r"^gateway_document_cache_bytes (\S+)$", metrics, re.MULTILINE).group(1))  # type: ignore[union-attr]
        report = {
            "documents": args.count,
            "statuses": statuses,
            "seconds": round(time.monotonic() - began, 1),
            "gateway_cpu_ms_per_document": round((gateway.cpu_seconds() - started_cpu) / args.count * 1000, 1),
            "rss_mb": {"start": round(started_rss / 2**20, 1), "end": round(gateway.rss_bytes() / 2**20, 1),
                       "peak": round(gateway.peak_rss_bytes() / 2**20, 1)},
            "rss_samples_mb": samples,
            "document_cache_mb": round(held / 2**20, 1),
            "python": sys.version.split()[0],
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
