"""``voucherifyCustomers``: totals, every filter and sort as the sandbox's own list answers them, walks in both
directions over all 120 seed customers (one upstream call a page), and cursors that must be refused."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from tests.graphql_client import error_codes
from tests.voucherify.client import (
    CUSTOMER_FIELDS,
    LIST_ROUTE,
    VoucherifyGraphQL,
    expected_customer,
    normalized,
    sandbox_customer,
    sandbox_ids,
    sandbox_list,
)

LIST = """query($filter: VoucherifyCustomerFilter, $sortKey: VoucherifyCustomerSortKey, $reverse: Boolean,
  $first: Int, $after: String, $last: Int, $before: String) {
  voucherifyCustomers(filter: $filter, sortKey: $sortKey, reverse: $reverse, first: $first, after: $after,
    last: $last, before: $before) {
    totalCount nodes { id } edges { cursor }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
SEED = 120
# (sortKey, reverse) -> the sandbox's order parameter for the same list
ORDERS = {
    (None, False): "-created_at", (None, True): "created_at",
    ("CREATED_AT", False): "created_at", ("CREATED_AT", True): "-created_at",
    ("UPDATED_AT", False): "updated_at", ("UPDATED_AT", True): "-updated_at",
    ("SOURCE_ID", False): "source_id", ("SOURCE_ID", True): "-source_id",
}  # fmt: skip


def _page(vf: VoucherifyGraphQL, **variables: Any) -> dict[str, Any]:
    connection: dict[str, Any] = vf.data(LIST, variables)["voucherifyCustomers"]
    return connection


def _refused(vf: VoucherifyGraphQL, **variables: Any) -> dict[str, Any]:
    """The answer of a listing that must be refused as the caller's mistake, before any upstream call."""
    before = vf.upstream_calls()
    body = vf.execute(LIST, variables)
    assert body["data"] == {"voucherifyCustomers": None}
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert vf.calls_since(before) == {}
    error: dict[str, Any] = body["errors"][0]
    return error


def _stamp(moment: str) -> str:
    return datetime.fromisoformat(moment).isoformat()


def _in_zone(moment: str, hours: int) -> str:
    return datetime.fromisoformat(moment).astimezone(timezone(timedelta(hours=hours))).isoformat()


def _shifted(moment: str, **delta: float) -> str:
    return (datetime.fromisoformat(moment) + timedelta(**delta)).isoformat()


def _update_some(vf_demo: httpx.Client, ids: list[str]) -> list[dict[str, Any]]:
    """Updates ``ids`` in this order, so their ``updated_at`` follow it; their answers."""
    answers = []
    for n, customer_id in enumerate(ids):
        response = vf_demo.put(f"/v1/customers/{customer_id}", json={"description": f"touched {n}"})
        assert response.status_code == 200
        answers.append(response.json())
    return answers


def test_total_count_and_the_default_page(vf: VoucherifyGraphQL, vf_demo: httpx.Client) -> None:
    page = _page(vf)
    assert vf.upstream_calls() == {LIST_ROUTE: 1}
    assert page["totalCount"] == SEED
    assert [node["id"] for node in page["nodes"]] == sandbox_ids(vf_demo)[:10]  # ten, newest first
    assert page["pageInfo"]["hasNextPage"] is True
    assert page["pageInfo"]["hasPreviousPage"] is False


def test_listed_nodes_carry_every_field_as_the_sandbox_lists_them(vf: VoucherifyGraphQL, vf_demo: httpx.Client) -> None:
    vf_demo.put(f"/v1/customers/{sandbox_ids(vf_demo)[5]}", json={"birthdate": "1980-02-29", "description": "d"})
    query = f"query($after: String) {{ voucherifyCustomers(first: 100, after: $after) {{ nodes {{ {CUSTOMER_FIELDS} }} pageInfo {{ endCursor }} }} }}"
    first = vf.data(query)["voucherifyCustomers"]
    second = vf.data(query, {"after": first["pageInfo"]["endCursor"]})["voucherifyCustomers"]
    raws = sandbox_list(vf_demo, limit=100, page=1)["customers"] + sandbox_list(vf_demo, limit=100, page=2)["customers"]
    assert len(raws) == SEED
    assert [normalized(node) for node in first["nodes"] + second["nodes"]] == [expected_customer(raw) for raw in raws]


def _filters(vf_demo: httpx.Client) -> list[tuple[dict[str, Any], dict[str, str]]]:
    """(GraphQL filter, the sandbox's query parameters for it), each restricting the seed to a proper part."""
    ids = sandbox_ids(vf_demo, order="created_at")
    someone = sandbox_customer(vf_demo, ids[17])
    named = [sandbox_customer(vf_demo, customer_id)["name"] for customer_id in ids[:40]]
    shared_name = max(set(named), key=named.count)
    touched = _update_some(vf_demo, ids[10:40:3])
    middle = sandbox_customer(vf_demo, ids[60])["created_at"]
    later = sandbox_customer(vf_demo, ids[90])["created_at"]
    since = touched[3]["updated_at"]
    until = touched[7]["updated_at"]
    return [
        ({"email": someone["email"]}, {"email": someone["email"]}),
        ({"email": someone["email"].upper()}, {"email": someone["email"].upper()}),
        ({"name": shared_name}, {"name": shared_name}),
        ({"city": "Berlin"}, {"city": "Berlin"}),
        ({"city": "New York"}, {"city": "New York"}),
        ({"segmentId": "seg_LoyalMembers0000000001"}, {"segment_id": "seg_LoyalMembers0000000001"}),
        ({"segmentId": "seg_FrequentBuyers00000002"}, {"segment_id": "seg_FrequentBuyers00000002"}),
        ({"segmentId": "seg_LinkedToPolar000000003"}, {"segment_id": "seg_LinkedToPolar000000003"}),
        ({"createdAfter": _stamp(middle)}, {"created_at[after]": middle}),
        ({"createdBefore": _stamp(middle)}, {"created_at[before]": middle}),
        ({"createdBefore": _in_zone(middle, 5)}, {"created_at[before]": middle}),  # the same instant at +05:00
        ({"createdAfter": _stamp(middle), "createdBefore": _stamp(later)},
         {"created_at[after]": middle, "created_at[before]": later}),
        ({"updatedAfter": _stamp(since)}, {"updated_at[after]": since}),
        ({"updatedBefore": _stamp(until)}, {"updated_at[before]": until}),
        ({"updatedAfter": _stamp(since), "updatedBefore": _stamp(until)},
         {"updated_at[after]": since, "updated_at[before]": until}),
        ({"city": "Berlin", "segmentId": "seg_LinkedToPolar000000003", "createdBefore": _shifted(later, hours=1)},
         {"city": "Berlin", "segment_id": "seg_LinkedToPolar000000003", "created_at[before]": _shifted(later, hours=1)}),
    ]  # fmt: skip


def test_every_filter_matches_the_sandboxs_own_list(vf: VoucherifyGraphQL, vf_demo: httpx.Client) -> None:
    for graphql_filter, params in _filters(vf_demo):
        expected = sandbox_list(vf_demo, limit=100, **params)
        assert 0 < expected["total"] < SEED, params  # the filter really selects a part
        before = vf.upstream_calls()
        page = _page(vf, filter=graphql_filter, first=100)
        assert vf.calls_since(before) == {LIST_ROUTE: 1}
        assert page["totalCount"] == expected["total"], graphql_filter
        assert [node["id"] for node in page["nodes"]] == [c["id"] for c in expected["customers"]], graphql_filter


def test_a_filter_nothing_matches_is_an_empty_page(vf: VoucherifyGraphQL) -> None:
    page = _page(vf, filter={"email": "nobody@example.com"}, first=5)
    assert page["totalCount"] == 0
    assert page["nodes"] == []
    assert page["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None}


@pytest.mark.parametrize(("sort_key", "reverse"), list(ORDERS))
def test_sort_keys_and_reverse_match_the_sandboxs_order(
    vf: VoucherifyGraphQL, vf_demo: httpx.Client, sort_key: str | None, reverse: bool
) -> None:
    ids = sandbox_ids(vf_demo, order="created_at")
    _update_some(vf_demo, [ids[50], ids[3], ids[99], ids[0]])  # updated_at now differs from creation order
    expected = sandbox_ids(vf_demo, order=ORDERS[sort_key, reverse])
    first = _page(vf, sortKey=sort_key, reverse=reverse, first=100)
    rest = _page(vf, sortKey=sort_key, reverse=reverse, first=100, after=first["pageInfo"]["endCursor"])
    assert [node["id"] for node in first["nodes"] + rest["nodes"]] == expected
    assert rest["pageInfo"]["hasNextPage"] is False


def _walk_forwards(vf: VoucherifyGraphQL, size: int, **variables: Any) -> list[str]:
    """Every id ``first: size`` pages reach, checking that each page costs exactly one upstream call."""
    seen: list[str] = []
    after = None
    for _ in range(SEED + 2):
        before = vf.upstream_calls()
        page = _page(vf, first=size, after=after, **variables)
        assert vf.calls_since(before) == {LIST_ROUTE: 1}
        seen += [node["id"] for node in page["nodes"]]
        assert page["totalCount"] == SEED
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("the walk did not end")


@pytest.mark.parametrize(
    ("sort_key", "reverse"), [(None, False), (None, True), ("UPDATED_AT", True), ("SOURCE_ID", False)]
)
def test_a_walk_of_seven_at_a_time_reaches_every_customer_once_in_order(
    vf: VoucherifyGraphQL, vf_demo: httpx.Client, sort_key: str | None, reverse: bool
) -> None:
    expected = sandbox_ids(vf_demo, order=ORDERS[sort_key, reverse])
    assert _walk_forwards(vf, 7, sortKey=sort_key, reverse=reverse) == expected


def test_a_walk_of_one_at_a_time_goes_past_page_99(vf: VoucherifyGraphQL, vf_demo: httpx.Client) -> None:
    """120 pages of one: Voucherify numbers pages up to 99, so pages 100 to 120 exist only by starting_after."""
    assert _walk_forwards(vf, 1) == sandbox_ids(vf_demo)


@pytest.mark.parametrize("change", ["add", "delete"])
def test_a_walk_continues_by_creation_time_when_the_list_changes_meanwhile(
    vf: VoucherifyGraphQL, vf_demo: httpx.Client, change: str
) -> None:
    """Newest first, new customers go in front of the walk, and deleting ones already seen takes from the
    front: a cursor that is a creation time is moved by neither (a position would be), and the walk ends
    exactly at the last customer, neither early nor with empty pages that still say there is more."""
    expected = sandbox_ids(vf_demo)
    first = _page(vf, first=7)
    for n in range(3):
        if change == "add":
            vf_demo.post("/v1/customers", json={"source_id": f"vfq_new_{n}"}).raise_for_status()
        else:
            assert vf_demo.delete(f"/v1/customers/{expected[n]}").status_code == 204
    seen = [node["id"] for node in first["nodes"]]
    after = first["pageInfo"]["endCursor"]
    for _ in range(SEED):
        page = _page(vf, first=7, after=after)
        assert page["nodes"], "an empty page said there was more"
        seen += [node["id"] for node in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected


def _walk_backwards(vf: VoucherifyGraphQL, size: int, **variables: Any) -> list[str]:
    """Every id ``last: size`` and then ``before`` pages reach, in the list's order."""
    seen: list[str] = []
    before_cursor = None
    for _ in range(SEED + 2):
        page = _page(vf, last=size, before=before_cursor, **variables)
        seen = [node["id"] for node in page["nodes"]] + seen
        assert page["totalCount"] == SEED
        if not page["pageInfo"]["hasPreviousPage"]:
            return seen
        before_cursor = page["pageInfo"]["startCursor"]
    raise AssertionError("the walk did not end")


@pytest.mark.parametrize("change", ["add", "delete"])
def test_a_backward_walk_continues_by_creation_time_when_the_list_changes_meanwhile(
    vf: VoucherifyGraphQL, vf_demo: httpx.Client, change: str
) -> None:
    """From the oldest towards the newest: customers added meanwhile are reached at the end, and deleting some
    not yet reached neither stops the walk early nor leaves empty pages that still say there is more."""
    expected = sandbox_ids(vf_demo)
    last = _page(vf, last=7)
    for n in range(3):
        if change == "add":
            vf_demo.post("/v1/customers", json={"source_id": f"vfq_new_{n}"}).raise_for_status()
        else:
            assert vf_demo.delete(f"/v1/customers/{expected[n]}").status_code == 204
    now = sandbox_ids(vf_demo)
    seen = [node["id"] for node in last["nodes"]]
    before = last["pageInfo"]["startCursor"]
    for _ in range(SEED):
        page = _page(vf, last=7, before=before)
        assert page["nodes"], "an empty page said there was more"
        seen = [node["id"] for node in page["nodes"]] + seen
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert seen == now
    assert len(now) == SEED + (3 if change == "add" else -3)


@pytest.mark.parametrize(("sort_key", "reverse"), [(None, False), ("CREATED_AT", False), ("SOURCE_ID", True)])
def test_a_backward_walk_reaches_every_customer_once_in_order(
    vf: VoucherifyGraphQL, vf_demo: httpx.Client, sort_key: str | None, reverse: bool
) -> None:
    expected = sandbox_ids(vf_demo, order=ORDERS[sort_key, reverse])
    assert _walk_backwards(vf, 7, sortKey=sort_key, reverse=reverse) == expected


def test_a_backward_walk_in_creation_order_costs_one_call_a_page(vf: VoucherifyGraphQL, vf_demo: httpx.Client) -> None:
    seen = _walk_backwards(vf, 13)
    assert vf.upstream_calls() == {LIST_ROUTE: 10}  # ceil(120 / 13) pages
    assert seen == sandbox_ids(vf_demo)


@pytest.mark.parametrize(
    ("sort_key", "reverse"), [(None, False), ("CREATED_AT", True), ("UPDATED_AT", False), ("SOURCE_ID", False)]
)
def test_last_alone_is_the_end_of_the_list(
    vf: VoucherifyGraphQL, vf_demo: httpx.Client, sort_key: str | None, reverse: bool
) -> None:
    expected = sandbox_ids(vf_demo, order=ORDERS[sort_key, reverse])
    page = _page(vf, last=5, sortKey=sort_key, reverse=reverse)
    assert [node["id"] for node in page["nodes"]] == expected[-5:]
    assert page["totalCount"] == SEED
    assert page["pageInfo"]["hasPreviousPage"] is True
    assert page["pageInfo"]["hasNextPage"] is False
    whole = _page(vf, last=100, sortKey=sort_key, reverse=reverse)
    assert [node["id"] for node in whole["nodes"]] == expected[-100:]


def test_last_and_before_continue_the_same_listing_after_a_forward_page(vf: VoucherifyGraphQL) -> None:
    forwards = _page(vf, first=30)
    back = _page(vf, last=10, before=forwards["pageInfo"]["endCursor"])
    assert [node["id"] for node in back["nodes"]] == [node["id"] for node in forwards["nodes"]][19:29]
    assert back["pageInfo"]["hasPreviousPage"] is True


def test_a_cursor_of_another_filter_or_sort_is_refused(vf: VoucherifyGraphQL) -> None:
    cursor = _page(vf, first=3)["pageInfo"]["endCursor"]
    for other in (
        {"sortKey": "SOURCE_ID"},
        {"sortKey": "CREATED_AT"},
        {"reverse": True},
        {"filter": {"city": "Berlin"}},
    ):
        error = _refused(vf, first=3, after=cursor, **other)
        assert error["extensions"]["argument"] == "after"
        assert "another filter or sort" in error["message"]
        _refused(vf, last=3, before=cursor, **other)
    sorted_cursor = _page(vf, first=3, sortKey="UPDATED_AT")["pageInfo"]["endCursor"]
    _refused(vf, first=3, after=sorted_cursor)
    _refused(vf, first=3, after=sorted_cursor, sortKey="SOURCE_ID")


def _tampered(cursor: str) -> list[str]:
    raw = base64.urlsafe_b64decode(cursor)
    flipped_mark = raw.replace(b"|", b"0|", 1)  # another position, the signature kept
    flipped_mac = raw[:-1] + bytes([raw[-1] ^ 1])
    return [
        base64.urlsafe_b64encode(flipped_mark).decode(),
        base64.urlsafe_b64encode(flipped_mac).decode(),
        cursor[:-4],
        "not a cursor",
        base64.urlsafe_b64encode(b"mark1:0123456789ab:5|2025-01-01T00:00:00.000Z").decode(),
    ]


def test_a_tampered_cursor_is_refused_without_an_upstream_call(vf: VoucherifyGraphQL) -> None:
    cursor = _page(vf, first=3)["pageInfo"]["endCursor"]
    for bad in _tampered(cursor):
        assert "not a cursor this API issued" in _refused(vf, first=3, after=bad)["message"]
        _refused(vf, last=3, before=bad)


@pytest.mark.parametrize(
    "arguments",
    [{"first": 101}, {"last": 101}, {"first": -1}, {"first": 1, "last": 1}, {"filter": {"email": ""}},
     {"filter": {"city": ""}}],
)  # fmt: skip
def test_out_of_range_and_contradictory_arguments_are_refused_without_a_call(
    vf: VoucherifyGraphQL, arguments: dict[str, Any]
) -> None:
    _refused(vf, **arguments)


def test_first_100_is_the_largest_page(vf: VoucherifyGraphQL, vf_demo: httpx.Client) -> None:
    page = _page(vf, first=100)
    assert vf.upstream_calls() == {LIST_ROUTE: 1}
    assert [node["id"] for node in page["nodes"]] == sandbox_ids(vf_demo)[:100]
