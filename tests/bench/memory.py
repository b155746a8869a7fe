"""The benchmark's memory figures, on a gateway of its own:

- flatness: a page of 100 customers with state, 8 at a time for ``seconds``; resident memory sampled
  every 5 s after a warm-up (first, last, highest), which a leak or a cache growing per request would lift;
- holding: with the peak reset (``/proc/PID/clear_refs``), 32 such pages at once; the peak's rise over
  the resting memory, per request in flight, beside the size of the answer it sends and of the JSON
  Polar sends for it (the four lists, every page), which the gateway must read to answer.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.bench.run import HEADERS, STATE, TEN_FIELDS
from tests.servers import GatewayProcess, SandboxProcess

PAGE_OF_100 = f"{{ customers(first: 100) {{ nodes {{ {TEN_FIELDS} {STATE} }} }} }}"
MB = 2**20


@dataclass
class MemoryFigures:
    seconds: int
    operations: int
    rss_mb_first: float
    rss_mb_last: float
    rss_mb_highest: float
    in_flight: int
    held_kb_per_request: float
    answer_kb: float
    upstream_kb: float


async def _pages(url: str, count: int, concurrency: int, until: float | None = None) -> tuple[int, int]:
    """Runs pages until ``count`` are done (or the clock passes ``until``); returns (done, answer bytes)."""
    done = 0
    size = 0
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def worker() -> None:
            nonlocal done, size
            while done < count and (until is None or time.monotonic() < until):
                done += 1
                response = await client.post(url, json={"query": PAGE_OF_100}, headers=HEADERS)
                if response.status_code != 200 or b'"errors"' in response.content:
                    raise RuntimeError(f"page failed: {response.text[:300]}")
                size = len(response.content)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done, size


def upstream_bytes_of_a_page(sandbox: SandboxProcess) -> int:
    """The bytes of Polar's answers behind one page of 100 with state: the customer list, then the
    three batch lists for those customers, every page of each, as the gateway asks for them."""
    with httpx.Client(base_url=sandbox.url, headers={"Authorization": HEADERS["Authorization"]}) as rest:
        first = rest.get("/v1/customers/", params={"limit": 100})
        total = len(first.content)
        by_customer = [("customer_id", c["id"]) for c in first.json()["items"]]
        lists = {
            "/v1/subscriptions/": [("status", "active"), ("status", "trialing")],
            "/v1/benefit-grants/": [("is_granted", "true")],
            "/v1/customer-meters/": [],
        }
        for path, filters in lists.items():
            page, last = 1, 1
            while page <= last:
                answer = rest.get(path, params=[*by_customer, *filters, ("page", page), ("limit", 100)])
                total += len(answer.content)
                last = answer.json()["pagination"]["max_page"]
                page += 1
    return total


def measure_memory(gateway: GatewayProcess, sandbox: SandboxProcess, seconds: int) -> MemoryFigures:
    with sandbox.control() as control:
        control.post("/__sandbox/faults", json={"latency_ms": 0}).raise_for_status()
    asyncio.run(_pages(gateway.graphql_url, 40, 8))  # warm-up: caches, pools, allocator arenas
    samples: list[float] = []
    operations = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        samples.append(gateway.rss_bytes() / MB)
        done, _ = asyncio.run(_pages(gateway.graphql_url, 10**9, 8, until=min(end, time.monotonic() + 5)))
        operations += done
    samples.append(gateway.rss_bytes() / MB)

    resting = gateway.rss_bytes()
    Path(f"/proc/{gateway.process.pid}/clear_refs").write_text("5")  # the peak (VmHWM) starts again from now
    in_flight = 32
    _, answer = asyncio.run(_pages(gateway.graphql_url, in_flight, in_flight))
    held = max(0, gateway.peak_rss_bytes() - resting) / in_flight
    return MemoryFigures(
        seconds=seconds, operations=operations, rss_mb_first=round(samples[0], 1), rss_mb_last=round(samples[-1], 1),
        rss_mb_highest=round(max(samples), 1), in_flight=in_flight, held_kb_per_request=round(held / 1024, 1),
        answer_kb=round(answer / 1024, 1), upstream_kb=round(upstream_bytes_of_a_page(sandbox) / 1024, 1),
    )  # fmt: skip
