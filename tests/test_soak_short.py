"""A few seconds of the soak (``make soak`` runs 60 s with 64 clients): its invariants hold, also with the
cache on and shared by two instances (``--cache``)."""

from __future__ import annotations

from tests.soak import run_soak

PLANNED = {"UPSTREAM_UNAVAILABLE", "UPSTREAM_TIMEOUT", "RATE_LIMITED"}


def test_short_soak_loses_and_duplicates_nothing() -> None:
    report = run_soak(duration=6, clients=16)
    assert report.served > 200
    assert set(report.http_statuses) == {200}
    assert report.write_violations == []
    assert report.writes_checked == len(report.created | report.create_refused | report.create_unknown) > 50
    assert report.leaks == []
    assert set(report.errors) <= PLANNED
    # Creates are never retried: each fault injected on POST is exactly one failed create.
    failed_creates = len(report.create_refused) + len(report.create_unknown)
    assert failed_creates == report.injected_faults["by_route"].get("POST /v1/customers/", 0) > 0
    # Everything else is retried: a failure needs at least three faults in a row.
    other_errors = sum(report.errors.values()) - failed_creates
    other_faults = report.injected_faults["total"] - failed_creates
    assert other_errors * 3 <= other_faults
    assert report.rss_end_bytes - report.rss_start_bytes < 50 * 2**20


def test_the_attacker_mix_leaves_normal_clients_as_they_were() -> None:
    """The same paced soak twice, the second beside every class of attack: the normal clients get the
    same kinds of answers (only the faults the sandbox injects), nothing is lost, and their median latency
    stays within twice what it was (a ratio, on a machine the attackers share)."""
    calm = run_soak(duration=8, clients=16, rate=60)
    attacked = run_soak(duration=8, clients=16, rate=60, attackers=True)
    for report in (calm, attacked):
        assert set(report.http_statuses) == {200}
        assert set(report.errors) <= PLANNED
        assert report.write_violations == []
        assert report.leaks == []
    assert sum(attacked.attacks.values()) > 50
    assert attacked.latency_ms(0.5) <= 2 * calm.latency_ms(0.5)


def test_with_the_cache_shared_by_two_instances_every_acknowledged_write_is_read_back_from_both() -> None:
    """The cache mode: two instances sharing a Redis cache, operations to either, faults on. After every
    acknowledged write, reads from the other instance and from the same one, by external id and by id, show
    it (no stale entry served); nothing is lost or duplicated, and the last acknowledged name of each customer
    is the sandbox's."""
    report = run_soak(duration=6, clients=16, cache=True)
    assert set(report.http_statuses) == {200}
    assert set(report.errors) <= PLANNED
    assert report.stale == []
    assert report.write_violations == []
    assert report.writes_checked == len(report.created | report.create_refused | report.create_unknown) > 20
    assert report.writes_acknowledged["update"] > 5
    assert report.checks["other"] > 20
    assert report.names_checked > 0
    assert sum(report.cache_hits.values()) > 0
    assert report.leaks == []
