"""``GET /v1/customers``: page and limit, filters, order, the ``starting_after`` cursor, ``total`` and ``has_more``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.sandbox_voucherify.openapi import error_body, validate


def _list(client: httpx.Client, **params: Any) -> dict[str, Any]:
    response = client.get("/v1/customers", params=params)
    validate(response)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_default_is_ten_newest_first_with_total(demo: httpx.Client) -> None:
    body = _list(demo)
    assert body["object"] == "list"
    assert body["data_ref"] == "customers"
    assert body["total"] == 120
    assert body["has_more"] is True
    stamps = [c["created_at"] for c in body["customers"]]
    assert len(stamps) == 10
    assert stamps == sorted(stamps, reverse=True)


def test_pages_cover_every_customer_once(demo: httpx.Client) -> None:
    seen: list[str] = []
    for page in range(1, 4):
        body = _list(demo, limit=50, page=page)
        seen += [c["id"] for c in body["customers"]]
        assert body["has_more"] is (page < 3)
    assert len(seen) == len(set(seen)) == 120


def test_a_page_past_the_end_is_empty(demo: httpx.Client) -> None:
    body = _list(demo, limit=100, page=99)
    assert body["customers"] == []
    assert body["total"] == 120
    assert body["has_more"] is False


@pytest.mark.parametrize(
    "params",
    [{"page": 100}, {"page": 0}, {"limit": 101}, {"limit": 0}, {"limit": "ten"}, {"order": "name"},
     {"starting_after": "yesterday"}, {"created_at[before]": "soon"}],
)  # fmt: skip
def test_bad_query_is_400_invalid_query_params(demo: httpx.Client, params: dict[str, str | int]) -> None:
    error_body(demo.get("/v1/customers", params=params), 400, "invalid_query_params")


def test_filters_by_email_name_and_city(demo: httpx.Client) -> None:
    someone = demo.get("/v1/customers/crm_00001").json()
    by_email = _list(demo, email=someone["email"].upper())
    assert [c["id"] for c in by_email["customers"]] == [someone["id"]]
    assert by_email["total"] == 1
    by_name = _list(demo, name=someone["name"], limit=100)
    assert someone["id"] in {c["id"] for c in by_name["customers"]}
    assert all(c["name"] == someone["name"] for c in by_name["customers"])
    in_berlin = _list(demo, city="Berlin", limit=100)
    assert in_berlin["total"] > 0
    assert all(c["address"]["city"] == "Berlin" for c in in_berlin["customers"])


def test_segment_filter_matches_the_segments_endpoint(demo: httpx.Client) -> None:
    members = _list(demo, segment_id="seg_LinkedToPolar000000003", limit=100)
    assert members["total"] == 60
    first = members["customers"][0]
    names = [s["id"] for s in demo.get(f"/v1/customers/{first['id']}/segments").json()["data"]]
    assert "seg_LinkedToPolar000000003" in names
    assert _list(demo, segment_id="seg_unknown")["total"] == 0


def test_created_and_updated_ranges(demo: httpx.Client) -> None:
    newest = _list(demo, limit=1)["customers"][0]["created_at"]
    assert _list(demo, **{"created_at[after]": newest})["total"] == 0
    assert _list(demo, **{"created_at[before]": newest})["total"] == 119
    assert _list(demo, **{"created_at[before]": "2025-01-01"})["total"] == 0
    assert _list(demo, **{"updated_at[after]": "2025-01-01"})["total"] == 0
    demo.put("/v1/customers/crm_00001", json={"name": "Touched"})
    touched = _list(demo, **{"updated_at[after]": "2025-01-01"})
    assert [c["source_id"] for c in touched["customers"]] == ["crm_00001"]


def test_order_by_source_id_and_updated_at(demo: httpx.Client) -> None:
    ascending = [c["source_id"] for c in _list(demo, order="source_id", limit=100)["customers"]]
    assert ascending == sorted(ascending)
    descending = [c["source_id"] for c in _list(demo, order="-source_id", limit=5)["customers"]]
    assert descending == sorted(descending, reverse=True)
    demo.put("/v1/customers/crm_00001", json={"name": "Most recently updated"})
    assert _list(demo, order="-updated_at", limit=1)["customers"][0]["source_id"] == "crm_00001"


def test_starting_after_without_order_walks_back_in_time(demo: httpx.Client) -> None:
    first = _list(demo, limit=40)
    cursor = first["customers"][-1]["created_at"]
    seen = [c["id"] for c in first["customers"]]
    while True:
        body = _list(demo, limit=40, starting_after=cursor)
        stamps = [c["created_at"] for c in body["customers"]]
        assert stamps == sorted(stamps, reverse=True)
        assert all(stamp < cursor for stamp in stamps)
        seen += [c["id"] for c in body["customers"]]
        if not body["has_more"]:
            break
        cursor = stamps[-1]
    assert len(seen) == len(set(seen)) == 120


def test_starting_after_with_ascending_order_walks_forward(demo: httpx.Client) -> None:
    body = _list(demo, order="created_at", limit=5, starting_after="2025-01-02T00:00:00Z")
    stamps = [c["created_at"] for c in body["customers"]]
    assert stamps == sorted(stamps)
    assert all(stamp > "2025-01-02T00:00:00.000Z" for stamp in stamps)
    assert body["has_more"] is True
    last = _list(demo, order="created_at", limit=5, starting_after=_list(demo, limit=2)["customers"][1]["created_at"])
    assert len(last["customers"]) == 1
    assert last["has_more"] is False


def test_new_customers_come_first(demo: httpx.Client) -> None:
    created = demo.post("/v1/customers", json={"source_id": "brand-new"}).json()
    body = _list(demo, limit=1)
    assert body["customers"][0]["id"] == created["id"]
    assert body["total"] == 121
