"""The issue's upstream budgets of the join, counted exactly by both sandboxes' stats, and its critical path.

Round trips, counted rather than timed: the Polar sandbox's timeline says which of Polar's requests overlapped
(``critical_path``), and the Voucherify sandbox the most requests it answered at once (``peak_in_flight``):
with each answer taking ``WAVE_MS``, a wave's lookups are all in flight together, so the peak is the wave."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from gateway.sandbox.seed import DEMO_TOKEN
from tests.bench.run import critical_path
from tests.conftest import MANY_NEW_DOCUMENTS
from tests.join.client import (
    POLAR_BY_EXTERNAL_ID,
    POLAR_LIST,
    POLAR_STATE_LISTS,
    VF_CUSTOMER,
    VF_LIST,
    BothGraphQL,
    Calls,
    distinct,
    polar_page,
    set_faults,
)
from tests.servers import GatewayProcess, SandboxProcess, gateway_process

JOINED_PAGE = "{ customers(first: 50) { nodes { externalId voucherify { loyalty { points } } } } }"
WITH_STATE = "{ customers(first: 50) { nodes { externalId state { activeSubscriptions { id } } voucherify { loyalty { points } } } } }"
VOUCHERIFY_PAGE = (
    "{ voucherifyCustomers(first: 50) { nodes { sourceId customer { id state { grantedBenefits { id } } } } } }"
)
LATENCY_S = 0.4
WAVE_MS = 1500  # each Voucherify answer waits this long: a wave's calls are all in flight together, even on a busy machine


def test_a_joined_page_of_50_is_one_polar_request_and_one_voucherify_request_per_external_id(
    both: BothGraphQL, polar: httpx.Client
) -> None:
    page = polar_page(polar, 50)
    external_ids = distinct(customer["external_id"] for customer in page)
    assert 10 < len(external_ids) < 50  # some customers have none: they cost nothing
    before = both.calls()
    data = both.data(JOINED_PAGE)
    assert both.calls_since_both(before) == Calls({POLAR_LIST: 1}, {VF_CUSTOMER: len(external_ids)})
    assert [node["externalId"] for node in data["customers"]["nodes"]] == [c["external_id"] for c in page]


def test_the_oldest_page_joined_costs_the_same_with_its_customers_found(both: BothGraphQL, polar: httpx.Client) -> None:
    """The newest page's external ids are unknown to Voucherify's seed; the oldest page's are mostly known."""
    page = polar_page(polar, 50, sorting="created_at")
    external_ids = distinct(customer["external_id"] for customer in page)
    before = both.calls()
    data = both.data(JOINED_PAGE.replace("first: 50", "first: 50, sortKey: CREATED_AT"))
    assert both.calls_since_both(before) == Calls({POLAR_LIST: 1}, {VF_CUSTOMER: len(external_ids)})
    assert sum(node["voucherify"] is not None for node in data["customers"]["nodes"]) >= 20


def test_the_joined_page_with_state_is_at_most_4_polar_requests(both: BothGraphQL, polar: httpx.Client) -> None:
    external_ids = distinct(customer["external_id"] for customer in polar_page(polar, 50))
    before = both.calls()
    both.data(WITH_STATE)
    calls = both.calls_since_both(before)
    assert calls.polar == {POLAR_LIST: 1, **{route: 1 for route in POLAR_STATE_LISTS}}
    assert sum(calls.polar.values()) <= 4
    assert calls.voucherify == {VF_CUSTOMER: len(external_ids)}


def test_a_voucherify_page_with_its_polar_customers_and_state(both: BothGraphQL, vf_demo: httpx.Client) -> None:
    listed = vf_demo.get("/v1/customers", params={"limit": 50}).json()["customers"]
    sources = distinct(customer.get("source_id") for customer in listed)
    before = both.calls()
    data = both.data(VOUCHERIFY_PAGE)
    calls = both.calls_since_both(before)
    assert calls.voucherify == {VF_LIST: 1}
    assert calls.polar[POLAR_BY_EXTERNAL_ID] == len(sources)  # 1 per distinct sourceId
    state = {route: count for route, count in calls.polar.items() if route != POLAR_BY_EXTERNAL_ID}
    assert set(state) <= set(POLAR_STATE_LISTS)
    assert sum(state.values()) <= 3  # the state of all of them
    assert sum(node["customer"] is not None for node in data["voucherifyCustomers"]["nodes"]) >= 20


def test_one_person_reached_both_ways_costs_one_request_on_each_side(both: BothGraphQL) -> None:
    before = both.calls()
    data = both.data('{ customer(externalId: "usr_demo_00002") { id voucherify { customer { id } } } }')
    assert both.calls_since_both(before) == Calls({POLAR_BY_EXTERNAL_ID: 1}, {VF_CUSTOMER: 1})
    assert data["customer"]["voucherify"]["customer"] == {"id": data["customer"]["id"]}


def test_a_voucherify_customer_reached_from_polar_and_back_costs_one_request_on_each_side(both: BothGraphQL) -> None:
    before = both.calls()
    data = both.data('{ voucherifyCustomer(sourceId: "usr_demo_00002") { id customer { voucherify { id } } } }')
    assert both.calls_since_both(before) == Calls({POLAR_BY_EXTERNAL_ID: 1}, {VF_CUSTOMER: 1})
    assert data["voucherifyCustomer"]["customer"]["voucherify"] == {"id": data["voucherifyCustomer"]["id"]}


def test_a_voucherify_page_and_its_customers_joined_back_cost_nothing_more(both: BothGraphQL) -> None:
    """Every Voucherify customer listed is seen: Polar's customers pointing back to them cost no call."""
    before = both.calls()
    data = both.data("{ voucherifyCustomers(first: 20) { nodes { id sourceId customer { voucherify { id } } } } }")
    calls = both.calls_since_both(before)
    assert calls.voucherify == {VF_LIST: 1}
    nodes = data["voucherifyCustomers"]["nodes"]
    assert calls.polar == {POLAR_BY_EXTERNAL_ID: len(distinct(node["sourceId"] for node in nodes))}
    for node in nodes:
        assert node["customer"] is None or node["customer"]["voucherify"] == {"id": node["id"]}


# Critical path --------------------------------------------------------------------------------------------


@pytest.fixture
def fresh(sandbox_server: SandboxProcess, voucherify_server: SandboxProcess, sandbox: SandboxProcess,
          voucherify: SandboxProcess) -> Iterator[BothGraphQL]:  # fmt: skip
    """A gateway that has not called Voucherify yet: the keys are unproven."""
    with gateway_process(sandbox_server.url, env=MANY_NEW_DOCUMENTS, voucherify_url=voucherify_server.url) as gateway:
        client = BothGraphQL(gateway.graphql_url, DEMO_TOKEN, sandbox, voucherify)
        yield client
        client.close()


def test_a_joined_page_is_two_round_trips_from_a_fresh_gateway_s_second_request(
    fresh: BothGraphQL, sandbox: SandboxProcess, voucherify: SandboxProcess
) -> None:
    """30 lookups that all miss (the newest page's external ids are not in Voucherify), within one caller's
    share of slots (32). Keys a fresh gateway has not seen accepted go one call first; Voucherify's own 404
    proves them, and the other 29 go at once: two waves after the list, then one for every later request.
    While only a success proved keys, all 30 went one at a time, request after request: past the
    10 s deadline here."""
    set_faults(sandbox, latency_ms=int(LATENCY_S * 1000))
    set_faults(voucherify, latency_ms=WAVE_MS)
    fresh.data(JOINED_PAGE)
    assert voucherify.peak_in_flight() == 29  # the probe alone, then the other 29 at once
    with voucherify.control() as control:
        control.post("/__sandbox/reset").raise_for_status()
    fresh.data(JOINED_PAGE)
    assert fresh.upstream_calls() == {POLAR_LIST: 2}
    assert voucherify.stats() == {VF_CUSTOMER: 30}
    assert voucherify.peak_in_flight() == 30  # one wave of Voucherify lookups after the list


def test_the_joined_page_with_state_is_no_longer(
    gateway_server: GatewayProcess, both: BothGraphQL, sandbox: SandboxProcess, voucherify: SandboxProcess
) -> None:
    """The state's three lists go with the Voucherify lookups, in the same wave after the list."""
    set_faults(sandbox, latency_ms=int(LATENCY_S * 1000))
    set_faults(voucherify, latency_ms=WAVE_MS)
    both.data(WITH_STATE)
    with sandbox.control() as control:
        timeline = control.get("/__sandbox/timeline").json()["requests"]
    assert len(timeline) == 4
    assert critical_path(timeline) == 2  # Polar: the list, then the state lists at once
    lookups = sum(voucherify.stats().values())
    assert voucherify.peak_in_flight() == lookups  # every Voucherify lookup in one wave after the list


def test_lookups_are_concurrent_up_to_the_caller_s_share(
    sandbox_server: SandboxProcess, voucherify_server: SandboxProcess, sandbox: SandboxProcess,
    voucherify: SandboxProcess, polar: httpx.Client,
) -> None:  # fmt: skip
    """With a share of 5 slots, 30 lookups take at least 6 waves."""
    lookups = len(distinct(customer["external_id"] for customer in polar_page(polar, 50)))
    env = {**MANY_NEW_DOCUMENTS, "GATEWAY_VOUCHERIFY_MAX_CONCURRENCY_PER_CALLER": "5"}
    with gateway_process(sandbox_server.url, env=env, voucherify_url=voucherify_server.url) as gateway:
        client = BothGraphQL(gateway.graphql_url, DEMO_TOKEN, sandbox, voucherify)
        set_faults(voucherify, latency_ms=100)
        client.data(JOINED_PAGE)
        client.close()
    assert voucherify.stats() == {VF_CUSTOMER: lookups}
    assert voucherify.peak_in_flight() == 5  # never more than the caller's share at once
