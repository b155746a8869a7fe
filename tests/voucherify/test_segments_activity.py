"""A customer's ``segments`` and ``activity`` (paged by event-id cursors), as the sandbox answers them."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.graphql_client import error_codes
from tests.voucherify.client import (
    ACTIVITY_ROUTE,
    CUSTOMER_ROUTE,
    VoucherifyGraphQL,
    sandbox_customer,
    sandbox_ids,
)

SEGMENTS = "query($id: ID!) { voucherifyCustomer(id: $id) { id segments { id name } } }"
ACTIVITY = """query($id: ID!, $first: Int, $after: String, $type: String, $category: VoucherifyActivityCategory,
  $startDate: DateTime, $endDate: DateTime) {
  voucherifyCustomer(id: $id) { id activity(first: $first, after: $after, type: $type, category: $category,
    startDate: $startDate, endDate: $endDate) {
    nodes { id type category createdAt groupId data } edges { cursor }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }"""
UPDATES = 12


def _sandbox_segments(vf_demo: httpx.Client, customer_id: str) -> list[dict[str, str]]:
    body = vf_demo.get(f"/v1/customers/{customer_id}/segments").json()
    return [{"id": item["id"], "name": item["name"]} for item in body["data"]]


def _sandbox_events(vf_demo: httpx.Client, customer_id: str, **params: Any) -> list[dict[str, Any]]:
    response = vf_demo.get(f"/v1/customers/{customer_id}/activity", params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["has_more"] is False
    events: list[dict[str, Any]] = body["data"]
    return events


def _as_node(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": event["id"], "type": event["type"], "category": event["category"],
        "createdAt": datetime.fromisoformat(event["created_at"]), "groupId": event["group_id"], "data": event["data"],
    }  # fmt: skip


def _parsed(node: dict[str, Any]) -> dict[str, Any]:
    return {**node, "createdAt": datetime.fromisoformat(node["createdAt"])}


def _active_customer(vf_demo: httpx.Client) -> str:
    """A seed customer with ``UPDATES`` updates made through the sandbox: 13 events, newest first."""
    customer_id = sandbox_ids(vf_demo)[2]
    for n in range(UPDATES):
        body = {"metadata": {"visit": n}} if n % 2 else {"description": f"update {n}"}
        assert vf_demo.put(f"/v1/customers/{customer_id}", json=body).status_code == 200
    return customer_id


def _activity(vf: VoucherifyGraphQL, customer_id: str, **arguments: Any) -> dict[str, Any]:
    activity: dict[str, Any] = vf.data(ACTIVITY, {"id": customer_id, **arguments})["voucherifyCustomer"]["activity"]
    return activity


def _walk(vf: VoucherifyGraphQL, customer_id: str, size: int, **filters: Any) -> list[dict[str, Any]]:
    """Every event ``first: size`` pages reach; each page costs the lookup and one activity call."""
    nodes: list[dict[str, Any]] = []
    after = None
    for page_number in range(100):
        before = vf.upstream_calls()
        page = _activity(vf, customer_id, first=size, after=after, **filters)
        assert vf.calls_since(before) == {CUSTOMER_ROUTE: 1, ACTIVITY_ROUTE: 1}
        assert page["pageInfo"]["hasPreviousPage"] is (page_number > 0)
        nodes += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        assert len(page["nodes"]) == size
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("the walk did not end")


def test_segments_match_the_sandbox(vf: VoucherifyGraphQL, vf_demo: httpx.Client) -> None:
    ids = sandbox_ids(vf_demo)[:40]
    expected = {customer_id: _sandbox_segments(vf_demo, customer_id) for customer_id in ids}
    assert any(len(segments) >= 2 for segments in expected.values())  # the seed really has members
    assert any(not segments for segments in expected.values())
    for customer_id in ids[:8]:
        assert vf.data(SEGMENTS, {"id": customer_id})["voucherifyCustomer"]["segments"] == expected[customer_id]
    listed = vf.data("{ voucherifyCustomers(first: 40) { nodes { id segments { id name } } } }")
    assert {node["id"]: node["segments"] for node in listed["voucherifyCustomers"]["nodes"]} == expected


def test_activity_pages_with_after_cursors_reach_every_event_once(vf: VoucherifyGraphQL, vf_demo: httpx.Client) -> None:
    customer_id = _active_customer(vf_demo)
    expected = [_as_node(event) for event in _sandbox_events(vf_demo, customer_id)]
    assert len(expected) == UPDATES + 1
    assert [event["type"] for event in expected] == ["customer.updated"] * UPDATES + ["customer.created"]
    for size in (5, 1, 13, 100):
        assert [_parsed(node) for node in _walk(vf, customer_id, size)] == expected, size


def test_activity_default_page_is_ten_newest_first(vf: VoucherifyGraphQL, vf_demo: httpx.Client) -> None:
    customer_id = _active_customer(vf_demo)
    expected = [event["id"] for event in _sandbox_events(vf_demo, customer_id)]
    page = _activity(vf, customer_id)
    assert [node["id"] for node in page["nodes"]] == expected[:10]
    assert page["pageInfo"]["hasNextPage"] is True
    assert page["pageInfo"]["hasPreviousPage"] is False
    assert page["edges"][-1]["cursor"] == page["pageInfo"]["endCursor"]


def _filters(vf_demo: httpx.Client, customer_id: str) -> list[tuple[dict[str, Any], dict[str, str], int]]:
    """(GraphQL arguments, the sandbox's parameters, how many of the 13 events they select)."""
    events = _sandbox_events(vf_demo, customer_id)
    newer, older = events[3]["created_at"], events[9]["created_at"]
    return [
        ({"type": "customer.updated"}, {"type": "customer.updated"}, UPDATES),
        ({"type": "customer.created"}, {"type": "customer.created"}, 1),
        ({"type": "customer.deleted"}, {"type": "customer.deleted"}, 0),
        ({"category": "ACTION"}, {"category": "ACTION"}, UPDATES + 1),
        ({"category": "EFFECT"}, {"category": "EFFECT"}, 0),
        ({"startDate": older}, {"start_date": older}, 10),
        ({"endDate": newer}, {"end_date": newer}, 10),
        ({"startDate": older, "endDate": newer, "type": "customer.updated"},
         {"start_date": older, "end_date": newer, "type": "customer.updated"}, 7),
    ]  # fmt: skip


def test_activity_filters_match_the_sandbox_and_page_with_their_cursors(
    vf: VoucherifyGraphQL, vf_demo: httpx.Client
) -> None:
    customer_id = _active_customer(vf_demo)
    for graphql_filters, params, count in _filters(vf_demo, customer_id):
        expected = [event["id"] for event in _sandbox_events(vf_demo, customer_id, **params)]
        assert len(expected) == count, params
        assert [node["id"] for node in _walk(vf, customer_id, 4, **graphql_filters)] == expected, params


def _refused(vf: VoucherifyGraphQL, customer_id: str, **arguments: Any) -> dict[str, Any]:
    """Refused as the caller's mistake, with no activity call (the customer's lookup is made)."""
    before = vf.upstream_calls()
    body = vf.execute(ACTIVITY, {"id": customer_id, **arguments})
    assert body["data"] == {"voucherifyCustomer": None}
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert ACTIVITY_ROUTE not in vf.calls_since(before)
    error: dict[str, Any] = body["errors"][0]
    return error


def test_activity_cursors_belong_to_their_customer_and_filters(vf: VoucherifyGraphQL, vf_demo: httpx.Client) -> None:
    customer_id = _active_customer(vf_demo)
    other_id = sandbox_ids(vf_demo)[5]
    cursor = _activity(vf, customer_id, first=2, type="customer.updated")["pageInfo"]["endCursor"]
    assert "another filter or sort" in _refused(vf, customer_id, first=2, after=cursor)["message"]
    _refused(vf, customer_id, first=2, after=cursor, category="ACTION", type="customer.updated")
    _refused(vf, other_id, first=2, after=cursor, type="customer.updated")
    list_cursor = vf.data("{ voucherifyCustomers(first: 1) { pageInfo { endCursor } } }")
    _refused(vf, customer_id, first=2, after=list_cursor["voucherifyCustomers"]["pageInfo"]["endCursor"])


@pytest.mark.parametrize("arguments", [{"first": 101}, {"first": -1}])
def test_activity_page_size_is_checked_before_any_call(
    vf: VoucherifyGraphQL, vf_demo: httpx.Client, arguments: dict[str, int]
) -> None:
    _refused(vf, sandbox_ids(vf_demo)[0], **arguments)


def test_a_tampered_activity_cursor_is_refused(vf: VoucherifyGraphQL, vf_demo: httpx.Client) -> None:
    customer_id = _active_customer(vf_demo)
    cursor = _activity(vf, customer_id, first=2)["pageInfo"]["endCursor"]
    raw = base64.urlsafe_b64decode(cursor)
    events = _sandbox_events(vf_demo, customer_id)
    forged = raw.replace(events[1]["id"].encode(), events[5]["id"].encode())  # another event, the signature kept
    assert forged != raw
    for bad in (base64.urlsafe_b64encode(forged).decode(), cursor[:-2], "x" + cursor):
        assert "not a cursor this API issued" in _refused(vf, customer_id, first=2, after=bad)["message"]


def test_first_zero_is_an_empty_page_without_an_activity_call(vf: VoucherifyGraphQL, vf_demo: httpx.Client) -> None:
    customer_id = sandbox_customer(vf_demo, sandbox_ids(vf_demo)[0])["id"]
    before = vf.upstream_calls()
    page = _activity(vf, customer_id, first=0)
    assert page["nodes"] == []
    assert page["pageInfo"]["hasNextPage"] is False
    assert vf.calls_since(before) == {CUSTOMER_ROUTE: 1}
