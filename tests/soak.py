"""Soak: many concurrent clients mixing queries and mutations through the gateway while the sandbox
injects faults; afterwards every acknowledged write is checked in the sandbox. With ``--attackers``, an
attacker mix runs beside them (``tests.attackers``: each class of the hostile-edge issue, a few per second)
and the report sets the normal clients' latency and errors beside a run without attackers.

``make soak`` runs 60 s with 64 clients, then again with the attackers, and prints both reports;
``tests/test_soak_short.py`` runs a few seconds of each in ``make test``. Everything targets 127.0.0.1
and stops by itself.

With ``--cache``, the cache of upstream reads is on and shared: two gateway instances, A and B, on one
sandbox and one real Redis (the cache in Redis, ``GATEWAY_CACHE_TTL_S``, the same cursor secret, so the same
names), and each operation sent to either at random. The clients look customers up by external id and by id
(the seeded ones and every one any client created, so reads race other clients' writes), read pages, and
write: after every acknowledged write, the client at once reads the same customer from the other instance
and then from the same one, by external id and by id, and checks that it sees the write (an update's unique
name; a create's customer; a delete's absence). A read that fails is counted, not checked; a write whose
outcome is unknown (an error) is not checked, an acknowledged one always is. Every response's
``extensions.cache`` is summed into hits and misses. The nothing-lost check runs as without the cache, and
also finds the last acknowledged name of every customer in the sandbox.

    python -m tests.soak --cache --duration 60 --clients 32
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from gateway.sandbox.seed import DEMO_TOKEN, MAIL_DOMAINS
from tests.attackers import attacking
from tests.redis_server import RedisServer
from tests.servers import GatewayProcess, gateway_process, sandbox_process

READ_PAGE = (
    "{ customers(first: 20) { nodes { id email state { activeSubscriptions { id } grantedBenefits { id } } } } }"
)
LOOKUP = "query($ext: String) { customer(externalId: $ext) { id name } }"
CREATE = """mutation($input: CustomerCreateInput!) {
  customerCreate(input: $input) { customer { id externalId } userErrors { code } } }"""
UPDATE = """mutation($ext: String, $input: CustomerUpdateInput!) {
  customerUpdate(externalId: $ext, input: $input) { customer { id } userErrors { code } } }"""
# The cache mode's documents: a write answers what it wrote, and the checks read one customer by one key.
LOOKUP_BY_ID = "query($id: ID) { customer(id: $id) { id externalId name } }"
LOOKUP_BY_EXT = "query($ext: String) { customer(externalId: $ext) { id externalId name } }"
UPDATE_NAME = """mutation($ext: String, $input: CustomerUpdateInput!) {
  customerUpdate(externalId: $ext, input: $input) { customer { id name } userErrors { code } } }"""
CACHE_DOCUMENTS = (LOOKUP_BY_ID, LOOKUP_BY_EXT, UPDATE_NAME)
DELETE = """mutation($ext: String) { customerDelete(externalId: $ext) { deletedCustomerId userErrors { code } } }"""
SOAK_MAIL_DOMAIN = "fastmail.com"  # a domain that accepts mail: Polar refuses the rest
FAULTS = {"latency_ms": 3, "jitter_ms": 3, "error_rate": 0.05, "error_status": 503, "drop_rate": 0.01}


@dataclass
class SoakReport:
    duration_s: float
    clients: int
    operations: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    http_statuses: Counter[int] = field(default_factory=Counter)
    created: set[str] = field(default_factory=set)
    create_refused: set[str] = field(default_factory=set)  # failed with a known outcome: must be absent
    create_unknown: set[str] = field(default_factory=set)  # may or may not exist, never twice
    deleted: set[str] = field(default_factory=set)
    injected_faults: dict[str, Any] = field(default_factory=dict)
    upstream_requests: int = 0
    rss_start_bytes: int = 0
    rss_end_bytes: int = 0
    write_violations: list[str] = field(default_factory=list)
    writes_checked: int = 0
    leaks: list[str] = field(default_factory=list)
    latencies_s: list[float] = field(default_factory=list)  # of the normal clients' operations
    attacks: Counter[str] = field(default_factory=Counter)  # "kind status" -> count
    # The cache mode (``--cache``): two instances sharing Redis.
    cache: bool = False
    by_kind_s: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    instances: Counter[str] = field(default_factory=Counter)  # operations sent to A and to B
    cache_hits: Counter[str] = field(default_factory=Counter)  # extensions.cache, by kind of operation
    cache_misses: Counter[str] = field(default_factory=Counter)
    writes_acknowledged: Counter[str] = field(default_factory=Counter)  # update, create, delete
    writes_failed: Counter[str] = field(default_factory=Counter)  # an error or userErrors: not checked
    checks: Counter[str] = field(default_factory=Counter)  # reads after an acknowledged write: "other"/"same"
    check_errors: Counter[str] = field(default_factory=Counter)  # such reads that failed: not checked
    stale: list[str] = field(default_factory=list)  # such reads that did not show the write: violations
    stale_by: Counter[str] = field(default_factory=Counter)  # "<write> <other|same> <ext|id>" -> stale reads
    last_names: dict[str, str | None] = field(default_factory=dict)  # external id -> last acknowledged name
    names_checked: int = 0
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)  # each instance's gateway_cache_* totals

    def latency_ms(self, quantile: float) -> float:
        ordered = sorted(self.latencies_s)
        return round(ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] * 1000, 1) if ordered else 0.0

    @property
    def served(self) -> int:
        return sum(self.operations.values())

    def kind_ms(self, kind: str, quantile: float) -> float:
        ordered = sorted(self.by_kind_s.get(kind, []))
        return round(ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] * 1000, 1) if ordered else 0.0

    @property
    def reads(self) -> int:
        """Read operations: lookups, pages and the checks after writes."""
        return sum(n for kind, n in self.operations.items() if not kind.startswith(("create", "update", "delete")))

    def hit_ratio(self) -> float:
        hits, misses = sum(self.cache_hits.values()), sum(self.cache_misses.values())
        return round(hits / (hits + misses), 3) if hits + misses else 0.0

    def cache_summary(self) -> dict[str, Any]:
        return {
            "instances": dict(self.instances),
            "reads": self.reads,
            "writes_acknowledged": dict(self.writes_acknowledged),
            "writes_failed": dict(self.writes_failed),
            "reads_after_writes_checked": dict(self.checks),
            "reads_after_writes_failed": dict(self.check_errors),
            "stale_reads_after_acknowledged_writes": len(self.stale),
            "stale_by_write_instance_key": dict(sorted(self.stale_by.items())),
            "stale_examples": self.stale[:20],
            "last_names_checked": self.names_checked,
            "cache_hits": sum(self.cache_hits.values()),
            "cache_misses": sum(self.cache_misses.values()),
            "hit_ratio": self.hit_ratio(),
            "hits_misses_by_kind": {
                kind: [self.cache_hits[kind], self.cache_misses[kind]]
                for kind in sorted(set(self.cache_hits) | set(self.cache_misses))
            },
            "latency_ms_by_kind": {
                kind: {"p50": self.kind_ms(kind, 0.5), "p99": self.kind_ms(kind, 0.99)} for kind in sorted(self.by_kind_s)
            },
            "metrics": self.metrics,
        }

    def summary(self) -> dict[str, Any]:
        return {
            "duration_s": round(self.duration_s, 1),
            "clients": self.clients,
            "operations_served": self.served,
            "operations_per_s": round(self.served / self.duration_s, 1),
            "operations": dict(self.operations),
            "http_statuses": {str(k): v for k, v in self.http_statuses.items()},
            "errors_by_code": dict(self.errors),
            "upstream_requests": self.upstream_requests,
            "faults_injected": self.injected_faults,
            "creates_acknowledged": len(self.created),
            "creates_refused": len(self.create_refused),
            "creates_outcome_unknown": len(self.create_unknown),
            "deletes_acknowledged": len(self.deleted),
            "writes_checked": self.writes_checked,
            "write_violations": self.write_violations,
            "gateway_rss_mb": {
                "after_warmup": round(self.rss_start_bytes / 2**20, 1),
                "end": round(self.rss_end_bytes / 2**20, 1),
            },
            "secrets_in_gateway_output": self.leaks,
            "latency_ms": {"p50": self.latency_ms(0.5), "p99": self.latency_ms(0.99)},
            "attacks": dict(sorted(self.attacks.items())),
            **({"cache": self.cache_summary()} if self.cache else {}),
            "python": sys.version.split()[0],
        }


async def _client(
    number: int, url: str, stop_at: float, report: SoakReport, known: list[str], interval: float
) -> None:
    """One client's operations back to back, or one every ``interval`` seconds when it is over 0."""
    rng = random.Random(number)
    mine: list[str] = []
    sequence = 0
    headers = {"Authorization": f"Bearer {DEMO_TOKEN}", "Accept": "application/graphql-response+json"}
    next_at = time.monotonic() + rng.random() * interval
    async with httpx.AsyncClient(timeout=30, headers=headers) as http:
        while time.monotonic() < stop_at:
            if interval:
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                next_at += interval
            roll = rng.random()
            variables: dict[str, Any] = {}
            if roll < 0.45:
                kind, query = "read_page", READ_PAGE
            elif roll < 0.65:
                kind, query, variables = "lookup", LOOKUP, {"ext": rng.choice(known + mine or ["none"])}
            elif roll < 0.85 or not mine:
                sequence += 1
                external_id = f"soak-{number}-{sequence}"
                kind, query = "create", CREATE
                variables = {"input": {"email": f"{external_id}@{SOAK_MAIL_DOMAIN}", "externalId": external_id}}
            elif roll < 0.95:
                kind, query = "update", UPDATE
                variables = {"ext": rng.choice(mine), "input": {"name": f"Soak {rng.randint(0, 999)}"}}
            else:
                kind, query = "delete", DELETE
                variables = {"ext": mine.pop(rng.randrange(len(mine)))}
            started = time.perf_counter()
            response = await http.post(url, json={"query": query, "variables": variables})
            report.latencies_s.append(time.perf_counter() - started)
            report.operations[kind] += 1
            report.http_statuses[response.status_code] += 1
            body = response.json()
            errors = body.get("errors") or []
            for error in errors:
                report.errors[error.get("extensions", {}).get("code", "REQUEST")] += 1
            if kind == "create":
                external_id = variables["input"]["externalId"]
                if _record_create(report, external_id, body) is not None:
                    mine.append(external_id)
            elif kind == "delete" and not errors and body["data"]["customerDelete"]["deletedCustomerId"]:
                report.deleted.add(variables["ext"])


@dataclass
class _Pool:
    """Customers any client may look up: the seed's, then every one a client created (external id, id)."""

    customers: list[tuple[str, str]]


_OTHER = {"A": "B", "B": "A"}


async def _send(
    http: httpx.AsyncClient, urls: dict[str, str], instance: str, kind: str, query: str, variables: dict[str, Any],
    report: SoakReport,
) -> dict[str, Any]:  # fmt: skip
    """One operation to one instance, counted: latency, status, error codes, ``extensions.cache``."""
    started = time.perf_counter()
    response = await http.post(urls[instance], json={"query": query, "variables": variables})
    elapsed = time.perf_counter() - started
    report.latencies_s.append(elapsed)
    report.by_kind_s[kind].append(elapsed)
    report.operations[kind] += 1
    report.instances[instance] += 1
    report.http_statuses[response.status_code] += 1
    body: dict[str, Any] = response.json()
    for error in body.get("errors") or []:
        report.errors[error.get("extensions", {}).get("code", "REQUEST")] += 1
    tally = (body.get("extensions") or {}).get("cache") or {}
    report.cache_hits[kind] += int(tally.get("hits", 0))
    report.cache_misses[kind] += int(tally.get("misses", 0))
    return body


async def _check_after_write(
    http: httpx.AsyncClient, urls: dict[str, str], written_at: str, report: SoakReport, customer: tuple[str, str],
    write: str, expected: Any,
) -> None:  # fmt: skip
    """Right after an acknowledged write through ``written_at``: the customer read by external id and by id
    from the other instance, then from the same one. ``expected`` is the name written (``write`` "update"),
    True (created: the customer is found) or None (deleted: it is not)."""
    external_id, customer_id = customer
    for where, instance in (("other", _OTHER[written_at]), ("same", written_at)):
        for key, query, variables in (
            ("ext", LOOKUP_BY_EXT, {"ext": external_id}),
            ("id", LOOKUP_BY_ID, {"id": customer_id}),
        ):
            body = await _send(http, urls, instance, f"check_{key}", query, variables, report)
            if body.get("errors") or body.get("data") is None:
                report.check_errors[where] += 1
                continue
            report.checks[where] += 1
            found = body["data"]["customer"]
            if write == "update":
                seen = found is not None and found["name"] == expected
            elif write == "create":
                seen = found is not None and (found["id"], found["externalId"]) == (customer_id, external_id)
            else:
                seen = found is None
            if not seen:
                report.stale_by[f"{write} {where} {key}"] += 1
                report.stale.append(
                    f"{write} of {external_id} through {written_at} ({expected!r}); read by {key} from {instance}"
                    f" ({where}) answered {found}"
                )


async def _cache_client(
    number: int, urls: dict[str, str], stop_at: float, report: SoakReport, pool: _Pool, interval: float
) -> None:
    """One client of the cache mode: each operation to A or B at random; each acknowledged write checked."""
    rng = random.Random(number)
    mine: list[tuple[str, str]] = []  # (external id, id) of the customers this client created and still has
    sequence = 0
    headers = {"Authorization": f"Bearer {DEMO_TOKEN}", "Accept": "application/graphql-response+json"}
    next_at = time.monotonic() + rng.random() * interval
    async with httpx.AsyncClient(timeout=30, headers=headers) as http:
        while time.monotonic() < stop_at:
            if interval:
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                next_at += interval
            roll = rng.random()
            instance = rng.choice(("A", "B"))
            if roll < 0.15:
                await _send(http, urls, instance, "read_page", READ_PAGE, {}, report)
            elif roll < 0.55:
                external_id, customer_id = rng.choice(pool.customers)
                if rng.random() < 0.5:
                    await _send(http, urls, instance, "lookup_ext", LOOKUP_BY_EXT, {"ext": external_id}, report)
                else:
                    await _send(http, urls, instance, "lookup_id", LOOKUP_BY_ID, {"id": customer_id}, report)
            elif roll < 0.70 or not mine:
                sequence += 1
                external_id = f"soak-{number}-{sequence}"
                variables: dict[str, Any] = {
                    "input": {"email": f"{external_id}@{SOAK_MAIL_DOMAIN}", "externalId": external_id}
                }
                body = await _send(http, urls, instance, "create", CREATE, variables, report)
                created = _record_create(report, external_id, body)
                if created is None:
                    report.writes_failed["create"] += 1
                    continue
                report.writes_acknowledged["create"] += 1
                customer = (external_id, created)
                mine.append(customer)
                pool.customers.append(customer)
                await _check_after_write(http, urls, instance, report, customer, "create", True)
            elif roll < 0.93:
                customer = rng.choice(mine)
                sequence += 1
                name = f"Soak {number}-{sequence}"
                variables = {"ext": customer[0], "input": {"name": name}}
                body = await _send(http, urls, instance, "update", UPDATE_NAME, variables, report)
                updated = None if body.get("errors") or body.get("data") is None else body["data"]["customerUpdate"]
                if updated is None or updated["userErrors"] or (updated["customer"] or {}).get("name") != name:
                    report.writes_failed["update"] += 1
                    report.last_names[customer[0]] = None  # applied or not: the final check skips it
                    continue
                report.writes_acknowledged["update"] += 1
                report.last_names[customer[0]] = name
                await _check_after_write(http, urls, instance, report, customer, "update", name)
            else:
                customer = mine.pop(rng.randrange(len(mine)))
                body = await _send(http, urls, instance, "delete", DELETE, {"ext": customer[0]}, report)
                if body.get("errors") or not body["data"]["customerDelete"]["deletedCustomerId"]:
                    report.writes_failed["delete"] += 1
                    continue
                report.writes_acknowledged["delete"] += 1
                report.deleted.add(customer[0])
                await _check_after_write(http, urls, instance, report, customer, "delete", None)


def _record_create(report: SoakReport, external_id: str, body: dict[str, Any]) -> str | None:
    """Files a create as acknowledged, refused or of unknown outcome; the new customer's id if acknowledged."""
    errors = body.get("errors") or []
    customer = None if errors else body["data"]["customerCreate"]["customer"]
    if customer:
        report.created.add(external_id)
        return str(customer["id"])
    if any(e.get("extensions", {}).get("outcomeUnknown") for e in errors):
        report.create_unknown.add(external_id)
    else:
        report.create_refused.add(external_id)
    return None


def _verify_writes(sandbox_url: str, report: SoakReport) -> None:
    """Every acknowledged create exists exactly once unless acknowledged deleted; nothing refused exists."""
    with httpx.Client(base_url=sandbox_url, headers={"Authorization": f"Bearer {DEMO_TOKEN}"}, timeout=30) as rest:

        def copies(external_id: str) -> tuple[int, list[dict[str, Any]]]:
            found = rest.get("/v1/customers/", params={"email": f"{external_id}@{SOAK_MAIL_DOMAIN}"}).json()
            return int(found["pagination"]["total_count"]), found["items"]

        for external_id in sorted(report.created | report.create_refused | report.create_unknown):
            count, items = copies(external_id)
            report.writes_checked += 1
            name = report.last_names.get(external_id)
            if name is not None and external_id not in report.deleted and count == 1:
                report.names_checked += 1
                if items[0]["name"] != name:
                    report.write_violations.append(f"{external_id}: named {items[0]['name']!r}, last acknowledged {name!r}")
            if external_id in report.deleted:
                expected: set[int] = {0}
            elif external_id in report.created:
                expected = {1}
            elif external_id in report.create_refused:
                expected = {0}
            else:
                expected = {0, 1}
            if count not in expected:
                report.write_violations.append(f"{external_id}: {count} copies, expected {sorted(expected)}")


async def _soak(
    urls: dict[str, str], duration: float, clients: int, report: SoakReport, known: list[str], rss: Any, rate: float,
    pool: _Pool | None = None,
) -> None:  # fmt: skip
    """The clients until ``duration`` is over: the plain ones on A, or the cache mode's (``pool`` given) on
    A and B."""
    started = time.monotonic()
    stop_at = started + duration
    interval = clients / rate if rate else 0.0
    tasks = [
        asyncio.create_task(
            _client(n, urls["A"], stop_at, report, known, interval)
            if pool is None
            else _cache_client(n, urls, stop_at, report, pool, interval)
        )
        for n in range(clients)
    ]
    await asyncio.sleep(min(duration / 6, 10))
    report.rss_start_bytes = rss()
    await asyncio.gather(*tasks)
    report.duration_s = time.monotonic() - started
    report.rss_end_bytes = rss()


def _warm(url: str, cache: bool = False) -> None:
    """Each of the clients' documents once, as a deployed app's have been long before anyone attacks: the
    gateway takes documents it has seen at any time, and new ones within a budget that a flood spends."""
    with httpx.Client(timeout=30, headers={"Authorization": f"Bearer {DEMO_TOKEN}"}) as http:
        for query in (READ_PAGE, LOOKUP, UPDATE, DELETE, *(CACHE_DOCUMENTS if cache else ())):
            http.post(url, json={"query": query, "variables": {"ext": "none", "id": "none"}}).raise_for_status()
        http.post(url, json={"query": CREATE, "variables": {}}).raise_for_status()


def cache_env(redis_url: str, cursor_secret: str) -> dict[str, str]:
    """The cache mode's instances: the cache in Redis, on by its TTL (no webhook secret: writes through the
    gateway are what invalidates), each response's ``extensions.cache``, and one cursor secret for both (the
    cache's names are derived from it, so instances that share Redis must share it)."""
    return {
        "GATEWAY_CACHE_TTL_S": "300",
        "GATEWAY_REDIS_URL": redis_url,
        "GATEWAY_CACHE_EXTENSIONS": "true",
        "GATEWAY_CURSOR_SECRET": cursor_secret,
    }


@contextmanager
def _gateways(
    sandbox_url: str, cache: bool, cache_settings: dict[str, str] | None = None
) -> Iterator[dict[str, GatewayProcess]]:
    """One gateway, A; or, for the cache mode, A and B sharing a Redis of their own (and ``cache_settings``)."""
    with ExitStack() as stack:
        if not cache:
            yield {"A": stack.enter_context(gateway_process(sandbox_url))}
            return
        redis = stack.enter_context(RedisServer())
        env = {**cache_env(redis.url, secrets.token_hex(32)), **(cache_settings or {})}
        yield {name: stack.enter_context(gateway_process(sandbox_url, env=env)) for name in ("A", "B")}


def cache_metrics(gateway: GatewayProcess) -> dict[str, float]:
    """The instance's ``gateway_cache_*_total`` samples (hits and misses by kind, invalidations by cause,
    failures by operation)."""
    text = httpx.get(f"{gateway.url}/metrics", timeout=10).text
    samples = {}
    for line in text.splitlines():
        if line.startswith("gateway_cache_") and "_total" in line.split(" ", 1)[0]:
            name, value = line.rsplit(" ", 1)
            samples[name.removeprefix("gateway_cache_")] = float(value)
    return samples


def run_soak(
    duration: float, clients: int, attackers: bool = False, rate: float = 0.0, cache: bool = False,
    cache_settings: dict[str, str] | None = None,
) -> SoakReport:  # fmt: skip
    """``rate``: operations a second of all clients together (0: each client back to back). The attackers
    run in a process of their own, so that making their requests does not slow the normal clients' (they
    attack A). ``cache``: the cache mode (two instances sharing Redis; the module's docstring), its gateways
    given ``cache_settings`` too (``GATEWAY_*`` variables)."""
    report = SoakReport(duration_s=duration, clients=clients, cache=cache)
    with sandbox_process() as sandbox, _gateways(sandbox.url, cache, cache_settings) as gateways:
        with httpx.Client(base_url=sandbox.url, headers={"Authorization": f"Bearer {DEMO_TOKEN}"}) as rest:
            seeded = [(c["external_id"], c["id"]) for c in rest.get("/v1/customers/", params={"limit": 100}).json()["items"]
                      if c["external_id"]]  # fmt: skip
        known = [external_id for external_id, _id in seeded]
        urls = {name: gateway.graphql_url for name, gateway in gateways.items()}
        for url in urls.values():
            _warm(url, cache)
        with sandbox.control() as control:
            control.post("/__sandbox/faults", json=FAULTS).raise_for_status()

        def rss() -> int:
            return sum(gateway.rss_bytes() for gateway in gateways.values())

        pool = _Pool(list(seeded)) if cache else None
        with attacking(urls["A"], duration if attackers else 0) as attacks:
            asyncio.run(_soak(urls, duration, clients, report, known, rss, rate, pool))
        report.attacks.update(attacks)
        with sandbox.control() as control:
            stats = control.get("/__sandbox/stats").json()
            control.post("/__sandbox/faults", json={"latency_ms": 0, "jitter_ms": 0, "error_rate": 0.0,
                                                    "drop_rate": 0.0}).raise_for_status()  # fmt: skip
        report.injected_faults = stats["faults"]
        report.upstream_requests = stats["total"]
        if cache:
            report.metrics = {name: cache_metrics(gateway) for name, gateway in gateways.items()}
        _verify_writes(sandbox.url, report)
        output = "".join(line for gateway in gateways.values() for line in gateway.output)
        hidden = (DEMO_TOKEN, *(f"@{domain}" for domain in MAIL_DOMAINS), "Traceback")  # no email is logged
        report.leaks = [secret for secret in hidden if secret in output]
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--rate", type=float, default=0.0, help="operations/s of all clients (0: back to back)")
    parser.add_argument("--attackers", action="store_true", help="also run the same soak beside the attacker mix")
    parser.add_argument("--cache", action="store_true",
                        help="the cache mode: two instances sharing a Redis cache, every acknowledged write read "
                             "back from both")  # fmt: skip
    parser.add_argument("--cache-env", action="append", default=[], metavar="GATEWAY_NAME=VALUE",
                        help="with --cache, a setting for both instances (repeatable), e.g. "
                             "GATEWAY_CACHE_REDIS_TIMEOUT_S=2")  # fmt: skip
    args = parser.parse_args()
    if malformed := [item for item in args.cache_env if "=" not in item or not item.startswith("GATEWAY_")]:
        parser.error(f"--cache-env takes GATEWAY_NAME=VALUE, not {', '.join(malformed)}")
    if args.cache_env and not args.cache:
        parser.error("--cache-env needs --cache")
    settings = dict(item.split("=", 1) for item in args.cache_env)
    reports = {"without_attackers": run_soak(args.duration, args.clients, rate=args.rate, cache=args.cache,
                                             cache_settings=settings)}  # fmt: skip
    if args.attackers:
        reports["with_attackers"] = run_soak(args.duration, args.clients, attackers=True, rate=args.rate,
                                             cache=args.cache, cache_settings=settings)  # fmt: skip
    print(json.dumps({name: report.summary() for name, report in reports.items()}, indent=2))
    problems = any(r.write_violations or r.stale or r.leaks or r.http_statuses.get(500) for r in reports.values())
    raise SystemExit(1 if problems else 0)


if __name__ == "__main__":
    main()
