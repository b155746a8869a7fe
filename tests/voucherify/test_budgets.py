"""Upstream request budgets of Voucherify reads, counted exactly by the Voucherify sandbox's stats."""

from __future__ import annotations

import httpx

from tests.voucherify.client import (
    CUSTOMER_ROUTE,
    LIST_ROUTE,
    SEGMENTS_ROUTE,
    VoucherifyGraphQL,
    sandbox_customer,
    sandbox_ids,
)


def test_a_page_of_50_with_loyalty_costs_one_request(vf: VoucherifyGraphQL, vf_demo: httpx.Client) -> None:
    data = vf.data("{ voucherifyCustomers(first: 50) { nodes { id loyalty { points } } } }")
    assert vf.upstream_calls() == {LIST_ROUTE: 1}
    nodes = data["voucherifyCustomers"]["nodes"]
    assert len(nodes) == 50
    assert sum(node["loyalty"]["points"] > 0 for node in nodes) > 10  # the loyalty is really there
    assert [node["id"] for node in nodes] == sandbox_ids(vf_demo)[:50]


def test_segments_of_a_page_of_50_cost_one_request_each(vf: VoucherifyGraphQL) -> None:
    data = vf.data("{ voucherifyCustomers(first: 50) { nodes { id loyalty { points } segments { id } } } }")
    calls = vf.upstream_calls()
    assert calls == {LIST_ROUTE: 1, SEGMENTS_ROUTE: 50}
    assert sum(calls.values()) == 51
    assert sum(bool(node["segments"]) for node in data["voucherifyCustomers"]["nodes"]) > 10


def test_twenty_aliased_lookups_of_five_customers_by_id_and_source_id_cost_five_requests(
    vf: VoucherifyGraphQL, vf_demo: httpx.Client
) -> None:
    customers = [sandbox_customer(vf_demo, customer_id) for customer_id in sandbox_ids(vf_demo)[10:15]]
    before = vf.upstream_calls()
    lookups = []
    for n in range(20):
        customer = customers[n % 5]
        argument = f'id: "{customer["id"]}"' if (n // 5) % 2 == 0 else f'sourceId: "{customer["source_id"]}"'
        lookups.append(f"c{n}: voucherifyCustomer({argument}) {{ id sourceId email loyalty {{ points }} }}")
    data = vf.data("{ " + " ".join(lookups) + " }")
    assert vf.calls_since(before) == {CUSTOMER_ROUTE: 5}
    for n in range(20):
        customer = customers[n % 5]
        assert data[f"c{n}"]["id"] == customer["id"]
        assert data[f"c{n}"]["sourceId"] == customer["source_id"]


def test_lookups_by_source_id_only_cost_one_request_each(vf: VoucherifyGraphQL, vf_demo: httpx.Client) -> None:
    customers = [sandbox_customer(vf_demo, customer_id) for customer_id in sandbox_ids(vf_demo)[:5]]
    before = vf.upstream_calls()
    lookups = " ".join(
        f'c{n}: voucherifyCustomer(sourceId: "{customers[n % 5]["source_id"]}") {{ id }}' for n in range(15)
    )
    data = vf.data("{ " + lookups + " }")
    assert vf.calls_since(before) == {CUSTOMER_ROUTE: 5}
    assert [data[f"c{n}"]["id"] for n in range(15)] == [customers[n % 5]["id"] for n in range(15)]


def test_lookups_of_listed_customers_after_the_list_cost_nothing_more(
    vf: VoucherifyGraphQL, vf_demo: httpx.Client
) -> None:
    listed = [sandbox_customer(vf_demo, customer_id) for customer_id in sandbox_ids(vf_demo)[:20]]
    before = vf.upstream_calls()
    lookups = " ".join(
        f'a{n}: voucherifyCustomer(id: "{customer["id"]}") {{ id email }} '
        f'b{n}: voucherifyCustomer(sourceId: "{customer["source_id"]}") {{ id email }}'
        for n, customer in enumerate(listed[::4])
    )
    data = vf.data(f"{{ voucherifyCustomers(first: 20) {{ nodes {{ id }} }} {lookups} }}")
    assert vf.calls_since(before) == {LIST_ROUTE: 1}
    for n, customer in enumerate(listed[::4]):
        assert data[f"a{n}"] == data[f"b{n}"] == {"id": customer["id"], "email": customer["email"]}


def test_lookups_before_the_list_in_the_document_also_wait_for_it(vf: VoucherifyGraphQL, vf_demo: httpx.Client) -> None:
    listed = sandbox_ids(vf_demo)[:20]
    before = vf.upstream_calls()
    data = vf.data(
        f'{{ a: voucherifyCustomer(id: "{listed[3]}") {{ id }} '
        f"voucherifyCustomers(first: 20) {{ nodes {{ id }} }} "
        f'b: voucherifyCustomer(id: "{listed[7]}") {{ id }} }}'
    )
    assert vf.calls_since(before) == {LIST_ROUTE: 1}
    assert data["a"] == {"id": listed[3]}
    assert data["b"] == {"id": listed[7]}


def test_a_lookup_of_a_customer_the_list_did_not_hold_costs_one_more(
    vf: VoucherifyGraphQL, vf_demo: httpx.Client
) -> None:
    ids = sandbox_ids(vf_demo)
    before = vf.upstream_calls()
    data = vf.data(
        f'{{ voucherifyCustomers(first: 5) {{ nodes {{ id }} }} in: voucherifyCustomer(id: "{ids[2]}") {{ id }} '
        f'out: voucherifyCustomer(id: "{ids[50]}") {{ id }} }}'
    )
    assert vf.calls_since(before) == {LIST_ROUTE: 1, CUSTOMER_ROUTE: 1}
    assert data["in"] == {"id": ids[2]}
    assert data["out"] == {"id": ids[50]}


def test_segments_of_one_customer_asked_twice_cost_one_request(vf: VoucherifyGraphQL, vf_demo: httpx.Client) -> None:
    customer = sandbox_customer(vf_demo, sandbox_ids(vf_demo)[0])
    before = vf.upstream_calls()
    vf.data(
        f'{{ a: voucherifyCustomer(id: "{customer["id"]}") {{ segments {{ id }} }} '
        f'b: voucherifyCustomer(sourceId: "{customer["source_id"]}") {{ segments {{ name }} }} }}'
    )
    assert vf.calls_since(before) == {CUSTOMER_ROUTE: 1, SEGMENTS_ROUTE: 1}
