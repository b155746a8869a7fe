"""The join both ways, Customer.voucherify and VoucherifyCustomer.customer, checked against both sandboxes read
directly, with each request's upstream calls counted exactly on both."""

from __future__ import annotations

from typing import Any

import httpx

from gateway.http.voucherify_keys import APP_ID, APP_TOKEN, CLIENT_ID, CLIENT_TOKEN
from gateway.sandbox.voucherify.seed import DEMO_CLIENT_APP_ID, DEMO_CLIENT_TOKEN
from tests.graphql_client import error_codes
from tests.join.client import (
    POLAR_BY_EXTERNAL_ID,
    POLAR_BY_ID,
    POLAR_LIST,
    VF_CUSTOMER,
    VF_LIST,
    BothGraphQL,
    Calls,
    distinct,
    error_paths,
    polar_by_external_id,
    polar_customers,
    polar_page,
    source_ids,
    vf_by_key,
)
from tests.voucherify.client import CUSTOMER_FIELDS, expected_customer, normalized

ORIGIN = "http://localhost:5173"  # an origin the Voucherify sandbox's Demo project allows
LINKED = "usr_demo_00002"  # in both sandboxes (the Voucherify seed links half its customers to Polar's)


def _linked(polar: httpx.Client, vf: httpx.Client) -> tuple[dict[str, Any], dict[str, Any]]:
    polar_customer = polar_by_external_id(polar, LINKED)
    vf_customer = vf_by_key(vf, LINKED)
    assert polar_customer.status_code == vf_customer.status_code == 200
    return polar_customer.json(), vf_customer.json()


def test_a_customer_s_voucherify_is_the_customer_whose_source_id_is_its_external_id(
    both: BothGraphQL, polar: httpx.Client, vf_demo: httpx.Client
) -> None:
    polar_customer, vf_customer = _linked(polar, vf_demo)
    before = both.calls()
    data = both.data(
        f'{{ customer(id: "{polar_customer["id"]}") {{ id externalId voucherify {{ {CUSTOMER_FIELDS} }} }} }}'
    )
    assert both.calls_since_both(before) == Calls({POLAR_BY_ID: 1}, {VF_CUSTOMER: 1})
    customer = data["customer"]
    assert (customer["id"], customer["externalId"]) == (polar_customer["id"], LINKED)
    assert normalized(customer["voucherify"]) == expected_customer(vf_customer)  # every field, as Voucherify has it


def test_a_voucherify_customer_s_customer_is_the_polar_customer_whose_external_id_is_its_source_id(
    both: BothGraphQL, polar: httpx.Client, vf_demo: httpx.Client
) -> None:
    polar_customer, vf_customer = _linked(polar, vf_demo)
    before = both.calls()
    data = both.data(
        f'{{ voucherifyCustomer(id: "{vf_customer["id"]}") {{ id sourceId '
        "customer { id email name externalId createdAt metadata billingAddress { country city line1 } } } }"
    )
    assert both.calls_since_both(before) == Calls({POLAR_BY_EXTERNAL_ID: 1}, {VF_CUSTOMER: 1})
    customer = data["voucherifyCustomer"]["customer"]
    assert data["voucherifyCustomer"]["sourceId"] == LINKED
    address = polar_customer["billing_address"]
    assert customer == {
        "id": polar_customer["id"], "email": polar_customer["email"], "name": polar_customer["name"],
        "externalId": LINKED, "createdAt": customer["createdAt"], "metadata": polar_customer["metadata"],
        "billingAddress": None if address is None else
        {"country": address["country"], "city": address["city"], "line1": address["line1"]},
    }  # fmt: skip
    assert customer["createdAt"].replace("Z", "+00:00")[:19] == polar_customer["created_at"][:19]


def test_a_page_joined_both_ways_matches_both_sandboxes(
    both: BothGraphQL, polar: httpx.Client, vf_demo: httpx.Client
) -> None:
    """Oldest first, the page holds customers linked to Voucherify and customers without an external id."""
    page = polar_page(polar, 50, sorting="created_at")
    by_source = source_ids(vf_demo)
    before = both.calls()
    data = both.data(
        "{ customers(first: 50, sortKey: CREATED_AT) { nodes { id externalId "
        "voucherify { id sourceId email loyalty { points } customer { id externalId } } } } }"
    )
    external_ids = distinct(customer["external_id"] for customer in page)
    # The Polar customers listed are seen: the way back costs nothing.
    assert both.calls_since_both(before) == Calls({POLAR_LIST: 1}, {VF_CUSTOMER: len(external_ids)})
    nodes = data["customers"]["nodes"]
    assert [node["id"] for node in nodes] == [customer["id"] for customer in page]
    joined = 0
    for node, customer in zip(nodes, page, strict=True):
        linked = by_source.get(customer["external_id"]) if customer["external_id"] else None
        if linked is None:
            assert node["voucherify"] is None, node
            continue
        joined += 1
        assert node["voucherify"] == {
            "id": linked["id"], "sourceId": customer["external_id"], "email": linked["email"],
            "loyalty": {"points": (linked.get("loyalty") or {}).get("points", 0)},
            "customer": {"id": customer["id"], "externalId": customer["external_id"]},
        }  # fmt: skip
    assert joined >= 20  # the join really joins
    assert sum(1 for node in nodes if node["externalId"] is None) >= 5


def test_a_voucherify_page_joined_to_polar_matches_both_sandboxes(
    both: BothGraphQL, polar: httpx.Client, vf_demo: httpx.Client
) -> None:
    by_external_id = {c["external_id"]: c for c in polar_customers(polar) if c["external_id"]}
    listed = vf_demo.get("/v1/customers", params={"limit": 50}).json()["customers"]
    before = both.calls()
    data = both.data("{ voucherifyCustomers(first: 50) { nodes { id sourceId customer { id externalId email } } } }")
    sources = distinct(customer.get("source_id") for customer in listed)
    assert both.calls_since_both(before) == Calls({POLAR_BY_EXTERNAL_ID: len(sources)}, {VF_LIST: 1})
    nodes = data["voucherifyCustomers"]["nodes"]
    assert [node["id"] for node in nodes] == [customer["id"] for customer in listed]
    for node in nodes:
        polar_customer = by_external_id.get(node["sourceId"])
        expected = None if polar_customer is None else {
            "id": polar_customer["id"], "externalId": node["sourceId"], "email": polar_customer["email"]}  # fmt: skip
        assert node["customer"] == expected, node
    assert sum(node["customer"] is not None for node in nodes) >= 20
    assert sum(node["customer"] is None for node in nodes) >= 20  # crm_... source ids are no Polar customer's


def test_no_external_id_is_null_with_no_call(both: BothGraphQL, polar: httpx.Client) -> None:
    without = next(customer for customer in polar_page(polar, 50) if customer["external_id"] is None)
    before = both.calls()
    data = both.data(f'{{ customer(id: "{without["id"]}") {{ id externalId voucherify {{ id }} }} }}')
    assert data["customer"] == {"id": without["id"], "externalId": None, "voucherify": None}
    assert both.calls_since_both(before) == Calls({POLAR_BY_ID: 1}, {})


def test_an_external_id_voucherify_does_not_know_is_null_after_one_call(
    both: BothGraphQL, polar: httpx.Client, vf_demo: httpx.Client
) -> None:
    by_source = source_ids(vf_demo)
    unknown = next(c for c in polar_page(polar, 50) if c["external_id"] and c["external_id"] not in by_source)
    before = both.calls()
    data = both.data(f'{{ customer(externalId: "{unknown["external_id"]}") {{ id voucherify {{ id }} }} }}')
    assert data["customer"] == {"id": unknown["id"], "voucherify": None}
    assert both.calls_since_both(before) == Calls({POLAR_BY_EXTERNAL_ID: 1}, {VF_CUSTOMER: 1})


def test_a_source_id_polar_does_not_know_is_null_after_one_call(both: BothGraphQL, vf_demo: httpx.Client) -> None:
    crm = vf_by_key(vf_demo, "crm_00001").json()
    before = both.calls()
    data = both.data('{ voucherifyCustomer(sourceId: "crm_00001") { id customer { id } } }')
    assert data["voucherifyCustomer"] == {"id": crm["id"], "customer": None}
    assert both.calls_since_both(before) == Calls({POLAR_BY_EXTERNAL_ID: 1}, {VF_CUSTOMER: 1})


def test_a_source_id_that_is_another_customer_s_voucherify_id_is_not_matched(
    both: BothGraphQL, polar: httpx.Client, vf_demo: httpx.Client
) -> None:
    """Voucherify's path takes an id or a source id: a Polar external id equal to some Voucherify customer's
    id must not join that customer, whose source id is something else."""
    other = vf_by_key(vf_demo, "crm_00001").json()
    created = polar.post("/v1/customers/", json={"email": "mimic@fastmail.com", "external_id": other["id"]})
    assert created.status_code == 201, created.text
    before = both.calls()
    data = both.data(f'{{ customer(externalId: "{other["id"]}") {{ externalId voucherify {{ id sourceId }} }} }}')
    assert data["customer"] == {"externalId": other["id"], "voucherify": None}
    assert both.calls_since_both(before) == Calls({POLAR_BY_EXTERNAL_ID: 1}, {VF_CUSTOMER: 1})


def test_the_same_person_reached_both_ways_costs_one_call_on_each_side(both: BothGraphQL, polar: httpx.Client) -> None:
    polar_customer = polar_by_external_id(polar, LINKED).json()
    before = both.calls()
    data = both.data(
        f'{{ customer(externalId: "{LINKED}") {{ id voucherify {{ sourceId customer {{ id }} }} }} '
        f'voucherifyCustomer(sourceId: "{LINKED}") {{ sourceId customer {{ id voucherify {{ sourceId }} }} }} }}'
    )
    assert both.calls_since_both(before) == Calls({POLAR_BY_EXTERNAL_ID: 1}, {VF_CUSTOMER: 1})
    assert data["customer"]["voucherify"] == {"sourceId": LINKED, "customer": {"id": polar_customer["id"]}}
    assert data["voucherifyCustomer"]["customer"] == {"id": polar_customer["id"], "voucherify": {"sourceId": LINKED}}


def test_lookups_of_one_external_id_through_many_paths_are_one_call(both: BothGraphQL, polar: httpx.Client) -> None:
    polar_customer = polar_by_external_id(polar, LINKED).json()
    lookups = " ".join(
        f'a{n}: customer(externalId: "{LINKED}") {{ voucherify {{ loyalty {{ points }} }} }} '
        f'b{n}: customer(id: "{polar_customer["id"]}") {{ voucherify {{ id }} }}'
        for n in range(5)
    )
    before = both.calls()
    data = both.data(f"{{ {lookups} }}")
    # The two Polar lookups are of different keys, made at once; Voucherify is asked once.
    assert both.calls_since_both(before) == Calls({POLAR_BY_EXTERNAL_ID: 1, POLAR_BY_ID: 1}, {VF_CUSTOMER: 1})
    assert len({str(value["voucherify"]) for value in data.values()}) == 2  # {points} and {id}, all non-null
    assert all(value["voucherify"] is not None for value in data.values())


# Credentials: each upstream's fields need only that upstream's ------------------------------------------

JOINED_PAGE = "{ customers(first: 10, sortKey: CREATED_AT) { nodes { id email externalId voucherify { id } } } }"


def test_without_voucherify_keys_the_voucherify_fields_are_unauthenticated_and_polar_is_served(
    both: BothGraphQL, polar: httpx.Client
) -> None:
    page = polar_page(polar, 10, sorting="created_at")
    before = both.calls()
    body = both.with_keys(()).execute(JOINED_PAGE)
    assert both.calls_since_both(before) == Calls({POLAR_LIST: 1}, {})
    nodes = body["data"]["customers"]["nodes"]
    assert [(n["id"], n["email"], n["externalId"]) for n in nodes] == [
        (c["id"], c["email"], c["external_id"]) for c in page
    ]
    assert all(node["voucherify"] is None for node in nodes)
    with_external_id = [index for index, customer in enumerate(page) if customer["external_id"]]
    assert len(with_external_id) >= 3
    # An error on each path that needed the keys, and on no other (no externalId: null with no error).
    assert error_paths(body) == {("customers", "nodes", i, "voucherify"): "UNAUTHENTICATED" for i in with_external_id}


def test_with_client_keys_the_voucherify_fields_are_forbidden_and_polar_is_served(
    both: BothGraphQL, polar: httpx.Client
) -> None:
    page = polar_page(polar, 10, sorting="created_at")
    before = both.calls()
    client_keys = both.with_keys(
        ((CLIENT_ID, DEMO_CLIENT_APP_ID), (CLIENT_TOKEN, DEMO_CLIENT_TOKEN), ("Origin", ORIGIN))
    )
    body = client_keys.execute(JOINED_PAGE)
    assert both.calls_since_both(before) == Calls({POLAR_LIST: 1}, {})
    with_external_id = [index for index, customer in enumerate(page) if customer["external_id"]]
    assert error_paths(body) == {("customers", "nodes", i, "voucherify"): "FORBIDDEN" for i in with_external_id}
    assert [node["id"] for node in body["data"]["customers"]["nodes"]] == [c["id"] for c in page]


def test_keys_voucherify_refuses_are_unauthenticated_on_those_paths_only(
    both: BothGraphQL, polar: httpx.Client
) -> None:
    page = polar_page(polar, 10, sorting="created_at")
    before = both.calls()
    body = both.with_keys(((APP_ID, "vf_made_up"), (APP_TOKEN, "vf_made_up"))).execute(JOINED_PAGE)
    with_external_id = [index for index, customer in enumerate(page) if customer["external_id"]]
    calls = both.calls_since_both(before)
    assert calls.polar == {POLAR_LIST: 1}
    assert 1 <= calls.voucherify.get(VF_CUSTOMER, 0) <= len(with_external_id)  # a refusal ends the rest
    assert error_paths(body) == {("customers", "nodes", i, "voucherify"): "UNAUTHENTICATED" for i in with_external_id}
    assert [node["email"] for node in body["data"]["customers"]["nodes"]] == [c["email"] for c in page]


def test_without_a_polar_token_the_customer_fields_are_unauthenticated_and_voucherify_is_served(
    both: BothGraphQL, vf_demo: httpx.Client
) -> None:
    listed = vf_demo.get("/v1/customers", params={"limit": 10}).json()["customers"]
    before = both.calls()
    body = both.without_token().execute(
        "{ voucherifyCustomers(first: 10) { nodes { id sourceId loyalty { points } customer { id } } } }"
    )
    assert both.calls_since_both(before) == Calls({}, {VF_LIST: 1})
    nodes = body["data"]["voucherifyCustomers"]["nodes"]
    assert [(node["id"], node["sourceId"]) for node in nodes] == [(c["id"], c["source_id"]) for c in listed]
    assert all(node["customer"] is None for node in nodes)
    assert error_paths(body) == {("voucherifyCustomers", "nodes", i, "customer"): "UNAUTHENTICATED" for i in range(10)}


def test_without_either_credential_nothing_is_called(both: BothGraphQL) -> None:
    before = both.calls()
    neither = both.without_token().with_keys(())
    body = neither.execute(
        '{ customer(externalId: "usr_demo_00002") { voucherify { id } } '
        'voucherifyCustomer(sourceId: "usr_demo_00002") { customer { id } } }'
    )
    assert both.calls_since_both(before).none
    assert body["data"] == {"customer": None, "voucherifyCustomer": None}
    assert sorted(error_codes(body)) == ["UNAUTHENTICATED", "UNAUTHENTICATED"]
