"""The attacker mix of ``make soak --attackers``: each class of request that took the edge down or made it
an amplifier, a few per second, beside the normal clients. Every attacker targets 127.0.0.1, is bounded
in rate, and stops at ``stop_at``; what each got back is counted by kind and status."""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import resource
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx
from graphql import get_introspection_query

from gateway.sandbox.seed import OTHER_TOKEN
from tests.hostile import SHAPES

Attack = Callable[[httpx.AsyncClient, str, int], Awaitable[int]]
INTROSPECTION = get_introspection_query(descriptions=True)


async def hostile_document(http: httpx.AsyncClient, url: str, n: int) -> int:
    """A 2 KB document of each hostile shape in turn, new each time, without a token."""
    shapes = list(SHAPES.values())
    response = await http.post(url, json={"query": shapes[n % len(shapes)](n)})
    return response.status_code


async def maximal_document(http: httpx.AsyncClient, url: str, n: int) -> int:
    """A distinct document of 5,000 tokens (about 100 KB), without a token."""
    query = "{ " + " ".join(f"f{n}x{i:04d}{'_' * 10}" for i in range(4990)) + " }"
    response = await http.post(url, json={"query": query})
    return response.status_code


def _entities_flood() -> dict[str, Any]:
    names = [f"r{i}" for i in range(10)]
    tag = uuid.uuid4().hex[:2]
    fields = " ".join(f"{name}: _entities(representations: ${name}) {{ ... on Customer {{ id }} }}" for name in names)
    declared = ", ".join(f"${name}: [_Any!]!" for name in names)
    variables = {
        name: [{"__typename": "Customer", "externalId": f"{tag}{i}{j:03}"} for j in range(205)]
        for i, name in enumerate(names)
    }
    return {"query": f"query Flood({declared}) {{ {fields} }}", "variables": variables}


async def entities_flood(http: httpx.AsyncClient, url: str, n: int) -> int:
    """2,050 representations in ten aliased _entities, with another organization's valid token."""
    response = await http.post(url, json=_entities_flood(), headers={"Authorization": f"Bearer {OTHER_TOKEN}"})
    return response.status_code


async def refused_token_flood(http: httpx.AsyncClient, url: str, n: int) -> int:
    response = await http.post(url, json=_entities_flood(), headers={"Authorization": "Bearer not_a_real_token"})
    return response.status_code


async def introspection_batch(http: httpx.AsyncClient, url: str, n: int) -> int:
    """Ten introspections in one batch, each text new, without a token."""
    batch = [{"query": f"{INTROSPECTION}\n# {n} {i}"} for i in range(10)]
    response = await http.post(url, json=batch)
    return response.status_code


async def stalled_export(http: httpx.AsyncClient, url: str, n: int) -> int:
    """A CSV download that reads nothing, held until the gateway drops it."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    request = f"GET /export/customers.csv HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {OTHER_TOKEN}\r\n\r\n"
    writer.write(request.encode())
    await writer.drain()
    status = await reader.readline()
    await asyncio.sleep(5)  # reads nothing more
    writer.close()
    return int(status.split()[1]) if len(status.split()) > 1 else 0


# kind -> (attack, attacks per second)
MIX: dict[str, tuple[Attack, float]] = {
    "hostile_document": (hostile_document, 4.0),
    "maximal_document": (maximal_document, 2.0),
    "entities_flood": (entities_flood, 1.0),
    "refused_token_flood": (refused_token_flood, 2.0),
    "introspection_batch": (introspection_batch, 1.0),
    "stalled_export": (stalled_export, 0.5),
}


@contextmanager
def attacking(url: str, duration: float) -> Iterator[Counter[str]]:
    """The mix for ``duration`` seconds from a process of its own (none when 0); the counts are filled in
    when the block ends."""
    counts: Counter[str] = Counter()
    if duration <= 0:
        yield counts
        return
    results: multiprocessing.Queue[dict[str, int]] = multiprocessing.Queue()
    process = multiprocessing.Process(target=_attack_process, args=(url, duration, results), daemon=True)
    process.start()
    try:
        yield counts
    finally:
        counts.update(results.get(timeout=duration + 120))
        process.join(timeout=10)


def _attack_process(url: str, duration: float, results: multiprocessing.Queue[dict[str, int]]) -> None:
    counts: Counter[str] = Counter()
    asyncio.run(attack(url, time.monotonic() + duration, counts))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    counts["attacker process CPU ms"] = round((usage.ru_utime + usage.ru_stime) * 1000)
    results.put(dict(counts))


async def attack(url: str, stop_at: float, counts: Counter[str]) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        await asyncio.gather(*(_repeat(kind, run, rate, http, url, stop_at, counts) for kind, (run, rate) in MIX.items()))


async def _repeat(
    kind: str, run: Attack, rate: float, http: httpx.AsyncClient, url: str, stop_at: float, counts: Counter[str]
) -> None:
    """``run`` started ``rate`` times a second (without waiting for the previous one) until ``stop_at``."""
    pending: set[asyncio.Task[None]] = set()

    async def once(n: int) -> None:
        try:
            status = await run(http, url, n)
        except (httpx.HTTPError, OSError) as error:
            counts[f"{kind} {type(error).__name__}"] += 1
        else:
            counts[f"{kind} {status}"] += 1

    for n in itertools.count():
        if time.monotonic() >= stop_at:
            break
        task = asyncio.create_task(once(n))
        pending.add(task)
        task.add_done_callback(pending.discard)
        await asyncio.sleep(1 / rate)
    await asyncio.gather(*pending)
