"""Soak: many concurrent clients mixing queries and mutations through the gateway while the sandbox
injects faults; afterwards every acknowledged write is checked in the sandbox. With ``--attackers``, an
attacker mix runs beside them (``tests.attackers``: each class of the hostile-edge issue, a few per second)
and the report sets the normal clients' latency and errors beside a run without attackers.

``make soak`` runs 60 s with 64 clients, then again with the attackers, and prints both reports;
``tests/test_soak_short.py`` runs a few seconds of each in ``make test``. Everything targets 127.0.0.1
and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from gateway.sandbox.seed import DEMO_TOKEN, MAIL_DOMAINS
from tests.attackers import attacking
from tests.servers import gateway_process, sandbox_process

READ_PAGE = (
    "{ customers(first: 20) { nodes { id email state { activeSubscriptions { id } grantedBenefits { id } } } } }"
)
LOOKUP = "query($ext: String) { customer(externalId: $ext) { id name } }"
CREATE = """mutation($input: CustomerCreateInput!) {
  customerCreate(input: $input) { customer { id externalId } userErrors { code } } }"""
UPDATE = """mutation($ext: String, $input: CustomerUpdateInput!) {
  customerUpdate(externalId: $ext, input: $input) { customer { id } userErrors { code } } }"""
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

    def latency_ms(self, quantile: float) -> float:
        ordered = sorted(self.latencies_s)
        return round(ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] * 1000, 1) if ordered else 0.0

    @property
    def served(self) -> int:
        return sum(self.operations.values())

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
                if not errors and body["data"]["customerCreate"]["customer"]:
                    report.created.add(external_id)
                    mine.append(external_id)
                elif any(e.get("extensions", {}).get("outcomeUnknown") for e in errors):
                    report.create_unknown.add(external_id)
                else:
                    report.create_refused.add(external_id)
            elif kind == "delete" and not errors and body["data"]["customerDelete"]["deletedCustomerId"]:
                report.deleted.add(variables["ext"])


def _verify_writes(sandbox_url: str, report: SoakReport) -> None:
    """Every acknowledged create exists exactly once unless acknowledged deleted; nothing refused exists."""
    with httpx.Client(base_url=sandbox_url, headers={"Authorization": f"Bearer {DEMO_TOKEN}"}, timeout=30) as rest:

        def copies(external_id: str) -> int:
            found = rest.get("/v1/customers/", params={"email": f"{external_id}@{SOAK_MAIL_DOMAIN}"})
            return int(found.json()["pagination"]["total_count"])

        for external_id in sorted(report.created | report.create_refused | report.create_unknown):
            count = copies(external_id)
            report.writes_checked += 1
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
    url: str, duration: float, clients: int, report: SoakReport, known: list[str], rss: Any, rate: float
) -> None:
    started = time.monotonic()
    stop_at = started + duration
    interval = clients / rate if rate else 0.0
    tasks = [asyncio.create_task(_client(n, url, stop_at, report, known, interval)) for n in range(clients)]
    await asyncio.sleep(min(duration / 6, 10))
    report.rss_start_bytes = rss()
    await asyncio.gather(*tasks)
    report.duration_s = time.monotonic() - started
    report.rss_end_bytes = rss()


def _warm(url: str) -> None:
    """Each of the clients' documents once, as a deployed app's have been long before anyone attacks: the
    gateway takes documents it has seen at any time, and new ones within a budget that a flood spends."""
    with httpx.Client(timeout=30, headers={"Authorization": f"Bearer {DEMO_TOKEN}"}) as http:
        for query in (READ_PAGE, LOOKUP, UPDATE, DELETE):
            http.post(url, json={"query": query, "variables": {"ext": "none"}}).raise_for_status()
        http.post(url, json={"query": CREATE, "variables": {}}).raise_for_status()


def run_soak(duration: float, clients: int, attackers: bool = False, rate: float = 0.0) -> SoakReport:
    """``rate``: operations a second of all clients together (0: each client back to back). The attackers
    run in a process of their own, so that making their requests does not slow the normal clients'."""
    report = SoakReport(duration_s=duration, clients=clients)
    with sandbox_process() as sandbox, gateway_process(sandbox.url) as gateway:
        with httpx.Client(base_url=sandbox.url, headers={"Authorization": f"Bearer {DEMO_TOKEN}"}) as rest:
            known = [c["external_id"] for c in rest.get("/v1/customers/", params={"limit": 100}).json()["items"]
                     if c["external_id"]]  # fmt: skip
        _warm(gateway.graphql_url)
        with sandbox.control() as control:
            control.post("/__sandbox/faults", json=FAULTS).raise_for_status()
        with attacking(gateway.graphql_url, duration if attackers else 0) as attacks:
            asyncio.run(_soak(gateway.graphql_url, duration, clients, report, known, gateway.rss_bytes, rate))
        report.attacks.update(attacks)
        with sandbox.control() as control:
            stats = control.get("/__sandbox/stats").json()
            control.post("/__sandbox/faults", json={"latency_ms": 0, "jitter_ms": 0, "error_rate": 0.0,
                                                    "drop_rate": 0.0}).raise_for_status()  # fmt: skip
        report.injected_faults = stats["faults"]
        report.upstream_requests = stats["total"]
        _verify_writes(sandbox.url, report)
        output = "".join(gateway.output)
        secrets = (DEMO_TOKEN, *(f"@{domain}" for domain in MAIL_DOMAINS), "Traceback")  # no email is logged
        report.leaks = [secret for secret in secrets if secret in output]
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--rate", type=float, default=0.0, help="operations/s of all clients (0: back to back)")
    parser.add_argument("--attackers", action="store_true", help="also run the same soak beside the attacker mix")
    args = parser.parse_args()
    reports = {"without_attackers": run_soak(args.duration, args.clients, rate=args.rate)}
    if args.attackers:
        reports["with_attackers"] = run_soak(args.duration, args.clients, attackers=True, rate=args.rate)
    print(json.dumps({name: report.summary() for name, report in reports.items()}, indent=2))
    problems = any(r.write_violations or r.leaks or r.http_statuses.get(500) for r in reports.values())
    raise SystemExit(1 if problems else 0)


if __name__ == "__main__":
    main()
