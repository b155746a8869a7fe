"""Customer operations as the contract document describes them: lists, writes, rules, export."""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import httpx
import pytest

from tests.sandbox.helpers import all_pages, new_customer


def _error(response: httpx.Response, status: int = 422) -> list[dict[str, Any]]:
    assert response.status_code == status, response.text
    details: list[dict[str, Any]] = response.json()["detail"]
    return details


# Lists -------------------------------------------------------------------------------------


def test_default_order_is_newest_first_and_pages_partition_the_list(demo: httpx.Client) -> None:
    customers = all_pages(demo, "/v1/customers/")
    created = [c["created_at"] for c in customers]
    assert created == sorted(created, reverse=True)
    assert len({c["id"] for c in customers}) == 250


def test_limit_is_clamped_to_100_and_pages_beyond_are_empty(demo: httpx.Client) -> None:
    clamped = demo.get("/v1/customers/", params={"limit": 500}).json()
    assert len(clamped["items"]) == 100
    assert clamped["pagination"] == {"total_count": 250, "max_page": 3}
    beyond = demo.get("/v1/customers/", params={"limit": 100, "page": 9}).json()
    assert beyond == {"items": [], "pagination": {"total_count": 250, "max_page": 3}}
    assert demo.get("/v1/customers/", params={"limit": 37}).json()["pagination"]["max_page"] == math.ceil(250 / 37)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"page": "0"},
            {
                "type": "greater_than",
                "loc": ["query", "page"],
                "msg": "Input should be greater than 0",
                "input": "0",
                "ctx": {"gt": 0},
            },
        ),
        (
            {"limit": "-1"},
            {
                "type": "greater_than",
                "loc": ["query", "limit"],
                "msg": "Input should be greater than 0",
                "input": "-1",
                "ctx": {"gt": 0},
            },
        ),
        (
            {"page": "x"},
            {
                "type": "int_parsing",
                "loc": ["query", "page"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "input": "x",
            },
        ),
    ],
)
def test_bad_paging_is_422(demo: httpx.Client, params: dict[str, str], expected: dict[str, Any]) -> None:
    response = demo.get("/v1/customers/", params=params)
    assert response.json() == {"error": "RequestValidationError", "detail": [expected]}


def test_unknown_sorting_is_an_enum_422(demo: httpx.Client) -> None:
    [entry] = _error(demo.get("/v1/customers/", params={"sorting": "age"}))
    assert entry["type"] == "enum"
    assert entry["loc"] == ["query", "sorting", 0]
    assert entry["msg"] == "Input should be 'created_at', '-created_at', 'email', '-email', 'name' or '-name'"


def test_sorting_by_email_and_several_criteria(demo: httpx.Client) -> None:
    by_email = [c["email"] for c in all_pages(demo, "/v1/customers/", [("sorting", "email")])]
    present = [e for e in by_email if e is not None]
    assert present == sorted(present)
    assert by_email[len(present) :] == [None] * (len(by_email) - len(present))  # NULLS LAST ascending
    by_name_desc = all_pages(demo, "/v1/customers/", [("sorting", "-name"), ("sorting", "created_at")])
    assert by_name_desc[0]["name"] is None  # NULLS FIRST descending
    names = [c["name"] for c in by_name_desc if c["name"] is not None]
    assert names == sorted(names, reverse=True)


def test_email_filter_is_exact_and_case_insensitive(demo: httpx.Client) -> None:
    target = demo.get("/v1/customers/", params={"limit": 1}).json()["items"][0]
    found = demo.get("/v1/customers/", params={"email": target["email"].upper()}).json()["items"]
    assert [c["id"] for c in found] == [target["id"]]
    assert demo.get("/v1/customers/", params={"email": target["email"][:-1]}).json()["items"] == []


def test_query_matches_name_email_billing_name_and_external_id_prefix(demo: httpx.Client) -> None:
    customers = all_pages(demo, "/v1/customers/")
    with_external = next(c for c in customers if c["external_id"])
    prefix = with_external["external_id"][:-1].upper()
    found = all_pages(demo, "/v1/customers/", [("query", prefix)])
    assert with_external["id"] in {c["id"] for c in found}
    assert all(
        (c["external_id"] or "").lower().startswith(prefix.lower())
        or prefix.lower() in " ".join(filter(None, [c["email"], c["name"], c["billing_name"]])).lower()
        for c in found
    )
    found_by_name = all_pages(demo, "/v1/customers/", [("query", "lovelace")])
    assert found_by_name
    assert all("lovelace" in f"{c['email']} {c['name']} {c['billing_name']}".lower() for c in found_by_name)


def test_active_filter_partitions_customers_by_subscription_status(demo: httpx.Client) -> None:
    active = {c["id"] for c in all_pages(demo, "/v1/customers/", [("active", "true")])}
    inactive = {c["id"] for c in all_pages(demo, "/v1/customers/", [("active", "false")])}
    assert active
    assert inactive
    assert not active & inactive
    assert len(active | inactive) == 250
    subscriptions = all_pages(demo, "/v1/subscriptions/", [("status", "active"), ("status", "trialing")])
    assert {s["customer_id"] for s in subscriptions} <= active


def test_metadata_filters_or_within_a_key_and_across_keys(demo: httpx.Client) -> None:
    customers = all_pages(demo, "/v1/customers/")
    pro_or_free = all_pages(demo, "/v1/customers/", [("metadata[plan]", "pro"), ("metadata[plan]", "free")])
    assert {c["id"] for c in pro_or_free} == {
        c["id"] for c in customers if c["metadata"].get("plan") in {"pro", "free"}
    }
    pro_vip = all_pages(demo, "/v1/customers/", [("metadata[plan]", "pro"), ("metadata[vip]", "true")])
    expected = {c["id"] for c in customers if c["metadata"].get("plan") == "pro" and c["metadata"].get("vip") is True}
    assert expected
    assert {c["id"] for c in pro_vip} == expected
    seats = next(c["metadata"]["seats"] for c in customers if "seats" in c["metadata"])
    by_number = all_pages(demo, "/v1/customers/", [("metadata[seats]", str(seats))])
    assert by_number
    assert all(c["metadata"]["seats"] == seats for c in by_number)


# Create ------------------------------------------------------------------------------------


def test_create_normalises_input_and_returns_201(demo: httpx.Client) -> None:
    created = new_customer(
        demo,
        email="New.Person@FastMail.COM",
        external_id="",
        name="",
        locale="en-us",
        billing_address={"country": "us", "state": "NY", "line1": "", "city": "New York"},
        tax_id="91-1144442",
        metadata={"plan": "pro", "seats": 3, "ratio": 0.5, "vip": True},
    )
    assert created["email"] == "New.Person@fastmail.com"
    assert created["external_id"] is None
    assert created["name"] is None
    assert created["locale"] == "en-US"
    assert created["billing_address"] == {
        "line1": None,
        "line2": None,
        "postal_code": None,
        "city": "New York",
        "state": "US-NY",
        "country": "US",
    }
    assert created["tax_id"] == ["911144442", "us_ein"]
    assert created["type"] == "individual"
    assert created["email_verified"] is False
    assert created["deleted_at"] is None
    assert demo.get(f"/v1/customers/{created['id']}").json() == created


def test_duplicates_are_422_together_never_409(demo: httpx.Client) -> None:
    existing = next(c for c in all_pages(demo, "/v1/customers/") if c["external_id"] and c["email"])
    shouted = existing["email"].upper()
    response = demo.post("/v1/customers/", json={"email": shouted, "external_id": existing["external_id"]})
    local, domain = shouted.split("@")  # the service reports the validated address: domain lowercased
    assert response.json() == {
        "error": "PolarRequestValidationError",
        "detail": [
            {
                "type": "value_error",
                "loc": ["body", "email"],
                "msg": "A customer with this email address already exists.",
                "input": f"{local}@{domain.lower()}",
            },
            {
                "type": "value_error",
                "loc": ["body", "external_id"],
                "msg": "A customer with this external ID already exists.",
                "input": existing["external_id"],
            },
        ],
    }


@pytest.mark.parametrize(
    ("body", "loc", "kind", "message"),
    [
        ({}, ["body", "individual", "email"], "missing", "Field required"),
        ({"email": "no-at-sign"}, ["body", "individual", "email"], "value_error", "value is not a valid email address: "),
        ({"email": 42}, ["body", "individual", "email"], "string_type", "Input should be a valid string"),
        ({"type": "team"}, ["body", "team"], "value_error", "Value error, An owner with an email address is required"),
        ({"email": "a@fastmail.com", "name": "x" * 257}, ["body", "individual", "name"], "string_too_long", "String should have at most 256"),
        ({"email": "a@fastmail.com", "locale": "english"}, ["body", "individual", "locale"], "string_pattern_mismatch", "String should match"),
        ({"email": "a@fastmail.com", "metadata": {"k" * 41: 1}}, ["body", "individual", "metadata", "k" * 41, "[key]"], "string_too_long", "String should have at most 40"),
        ({"email": "a@fastmail.com", "metadata": {"k": "v" * 501}}, ["body", "individual", "metadata", "k", "constrained-str"], "string_too_long", "String should have at most 500"),
        ({"email": "a@fastmail.com", "metadata": {"k": ""}}, ["body", "individual", "metadata", "k", "constrained-str"], "string_too_short", "String should have at least 1 character"),
        ({"email": "a@fastmail.com", "metadata": {"k": [1]}}, ["body", "individual", "metadata", "k", "constrained-str"], "string_type", "Input should be a valid string"),
        ({"email": "a@fastmail.com", "metadata": {str(i): i for i in range(51)}}, ["body", "individual", "metadata"], "too_long", "Dictionary should have at most 50 items after validation, not 51"),
        ({"email": "a@fastmail.com", "billing_address": {"line1": "x"}}, ["body", "individual", "billing_address", "country"], "missing", "Field required"),
        ({"email": "a@fastmail.com", "billing_address": {"country": "RU"}}, ["body", "individual", "billing_address", "country"], "enum", "Input should be 'AD', 'AE'"),
        ({"email": "a@fastmail.com", "billing_address": {"country": "US", "state": "ZZ"}}, ["body", "individual", "billing_address"], "value_error", "Value error, Invalid US state"),
        ({"email": "a@fastmail.com", "billing_address": {"country": "CA", "state": "XX"}}, ["body", "individual", "billing_address"], "value_error", "Value error, Invalid CA subdivision"),
        ({"type": "team", "email": "a@fastmail.com", "name": "x" * 257}, ["body", "team", "name"], "string_too_long", "String should have at most 256"),
        ({"type": "team", "owner": {"name": "No Email"}}, ["body", "team", "owner", "email"], "missing", "Field required"),
        ({"type": "team", "owner": {"email": "no-at-sign"}}, ["body", "team", "owner", "email"], "value_error", "value is not a valid email address: "),
        ({"type": "robot", "email": "a@fastmail.com"}, ["body"], "union_tag_invalid", "Input tag 'robot' found using 'type'"),
    ],
)  # fmt: skip
def test_invalid_create_input_is_a_request_validation_422(
    demo: httpx.Client, body: dict[str, Any], loc: list[Any], kind: str, message: str
) -> None:
    before = demo.get("/v1/customers/", params={"limit": 1}).json()["pagination"]["total_count"]
    response = demo.post("/v1/customers/", json=body)
    assert response.status_code == 422
    assert response.json()["error"] == "RequestValidationError"
    entry = next(d for d in response.json()["detail"] if d["loc"] == loc)
    assert entry["type"] == kind
    assert entry["msg"].startswith(message)
    assert demo.get("/v1/customers/", params={"limit": 1}).json()["pagination"]["total_count"] == before


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"email": "t@fastmail.com", "tax_id": "911144442"},
            {"type": "missing", "loc": ["body", "billing_address"], "msg": "Country is required to validate tax ID.", "input": None},
        ),
        (
            {"email": "t@fastmail.com", "tax_id": "FR00000000000", "billing_address": {"country": "FR"}},
            {"type": "invalid", "loc": ["body", "tax_id"], "msg": "Invalid tax ID.", "input": "FR00000000000"},
        ),
        (
            {"email": "t@fastmail.com", "organization_id": "1dbfc517-0bbf-4301-9ba8-555ca42b9737"},
            {"type": "organization_token", "loc": ["body", "organization_id"], "msg": "Setting organization_id is disallowed when using an organization token.", "input": "1dbfc517-0bbf-4301-9ba8-555ca42b9737"},
        ),
    ],
)  # fmt: skip
def test_business_rules_are_polar_request_validation_422(
    demo: httpx.Client, body: dict[str, Any], expected: dict[str, Any]
) -> None:
    response = demo.post("/v1/customers/", json=body)
    assert response.json() == {"error": "PolarRequestValidationError", "detail": [expected]}
    assert demo.get("/v1/customers/", params={"email": "t@fastmail.com"}).json()["items"] == []


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("not-a-uuid", "invalid character: found `n` at 1"),
        ("export-x", "invalid character: found `x` at 2"),
        ("12345", "invalid length: expected length 32 for simple format, found 5"),
        ("6f1c2a4e-8b7d-4c3e-9f2a", "invalid group count: expected 5, found 4"),
        ("6f1c2a4e-8b7d4-c3e-9f2a-1b2c3d4e5f60", "invalid group length in group 1: expected 4, found 5"),
        ("6f1c2a4e-8b7d-4c3e-9f2a-1b2c3d4e5f6", "invalid group length in group 4: expected 12, found 11"),
    ],
)
def test_uuid_messages_are_pydantic_cores(demo: httpx.Client, value: str, reason: str) -> None:
    """The character message is the one measured on the real server (polar-server-differences.md, row 17); the
    others are the Rust ``uuid`` crate's, whose wording for lengths and groups pydantic-core has kept."""
    [entry] = _error(demo.get(f"/v1/customers/{value}"))
    assert entry == {
        "type": "uuid_parsing",
        "loc": ["path", "id"],
        "msg": f"Input should be a valid UUID, {reason}",
        "input": value,
        "ctx": {"error": reason},
    }


@pytest.mark.parametrize("raw", [b"{not json", b"", b"[1, 2]"])
def test_malformed_bodies_are_422(demo: httpx.Client, raw: bytes) -> None:
    response = demo.post("/v1/customers/", content=raw, headers={"content-type": "application/json"})
    [entry] = _error(response)
    assert entry["type"] in {"json_invalid", "missing", "model_attributes_type"}
    assert entry["loc"][0] == "body"


# Update ------------------------------------------------------------------------------------


def test_update_rules(demo: httpx.Client) -> None:
    created = new_customer(
        demo, email="rules@fastmail.com", billing_address={"country": "FR"}, tax_id="FR61954506077", metadata={"a": 1}
    )
    path = f"/v1/customers/{created['id']}"
    updated = demo.patch(path, json={"metadata": {"b": "two"}, "external_id": "rules-1", "type": "team"}).json()
    assert updated["metadata"] == {"b": "two"}  # replaced, not merged
    assert updated["external_id"] == "rules-1"  # set once while it was null
    assert updated["type"] == "team"
    assert updated["modified_at"] is not None
    write_once = _error(demo.patch(path, json={"external_id": "rules-2"}))
    assert write_once == [{"type": "value_error", "loc": ["body", "external_id"], "msg": "Customer external ID cannot be updated.", "input": "rules-2"}]  # fmt: skip
    downgrade = _error(demo.patch(path, json={"type": "individual"}))
    assert downgrade[0]["msg"] == "Customer type cannot be downgraded from 'team' to 'individual'."
    reset = _error(demo.patch(path, json={"billing_address": None}))
    assert reset[0]["msg"] == "Customer billing address cannot be reset to null once set."
    moved = _error(demo.patch(path, json={"billing_address": {"country": "DE"}}))
    assert moved == [{"type": "invalid", "loc": ["body", "tax_id"], "msg": "Invalid tax ID.", "input": "FR61954506077"}]
    assert demo.get(path).json() == updated  # every refused PATCH left the customer as it was
    cleared = demo.patch(path, json={"tax_id": None, "billing_address": {"country": "DE"}}).json()
    assert (cleared["tax_id"], cleared["billing_address"]["country"]) == (None, "DE")


def test_email_change_resets_verification_and_checks_uniqueness(demo: httpx.Client) -> None:
    customers = all_pages(demo, "/v1/customers/")
    verified = next(c for c in customers if c["email_verified"] and c["type"] == "individual")
    taken = next(c for c in customers if c["email"] and c["id"] != verified["id"])
    path = f"/v1/customers/{verified['id']}"
    same = demo.patch(path, json={"email": verified["email"].upper()}).json()
    assert same["email_verified"] is True  # the same address, compared case-insensitively
    conflict = _error(demo.patch(path, json={"email": taken["email"]}))
    assert conflict[0]["msg"] == "A customer with this email address already exists."
    changed = demo.patch(path, json={"email": "fresh@fastmail.com"}).json()
    assert (changed["email"], changed["email_verified"]) == ("fresh@fastmail.com", False)


def test_external_id_twins_update_and_ignore_external_id_and_type(demo: httpx.Client) -> None:
    created = new_customer(demo, email="twin@fastmail.com", external_id="twin-1")
    updated = demo.patch("/v1/customers/external/twin-1", json={"name": "Twin", "external_id": "x", "type": "team"})
    assert updated.status_code == 200
    assert (updated.json()["name"], updated.json()["external_id"], updated.json()["type"]) == (
        "Twin",
        "twin-1",
        "individual",
    )
    assert demo.get("/v1/customers/external/twin-1").json()["id"] == created["id"]
    assert demo.get("/v1/customers/external/TWIN-1").status_code == 404  # case-sensitive


# Delete ------------------------------------------------------------------------------------


def test_delete_frees_email_and_external_id_and_hides_the_customer(demo: httpx.Client) -> None:
    first = new_customer(demo, email="gone@fastmail.com", external_id="gone-1")
    assert demo.delete("/v1/customers/external/gone-1").status_code == 204
    for path in (f"/v1/customers/{first['id']}", f"/v1/customers/{first['id']}/state", "/v1/customers/external/gone-1"):
        assert demo.get(path).status_code == 404
    assert demo.delete(f"/v1/customers/{first['id']}").status_code == 404  # a second delete
    assert demo.get("/v1/customers/", params={"email": "gone@fastmail.com"}).json()["items"] == []
    again = new_customer(demo, email="GONE@fastmail.com", external_id="gone-1")
    assert again["id"] != first["id"]


def test_delete_ends_subscriptions_and_benefits(demo: httpx.Client) -> None:
    customer = all_pages(demo, "/v1/customers/", [("active", "true")])[0]
    subscriptions = demo.get("/v1/subscriptions/", params={"customer_id": customer["id"]}).json()["items"]
    assert subscriptions
    assert demo.delete(f"/v1/customers/{customer['id']}", params={"anonymize": "true"}).status_code == 204
    assert demo.get("/v1/subscriptions/", params={"customer_id": customer["id"]}).json()["items"] == []
    assert demo.get("/v1/benefit-grants/", params={"customer_id": customer["id"]}).json()["items"] == []
    assert customer["id"] not in {c["id"] for c in all_pages(demo, "/v1/customers/", [("active", "true")])}


def test_delete_rejects_a_bad_anonymize_flag(demo: httpx.Client) -> None:
    customer = demo.get("/v1/customers/", params={"limit": 1}).json()["items"][0]
    [entry] = _error(demo.delete(f"/v1/customers/{customer['id']}", params={"anonymize": "perhaps"}))
    assert entry["type"] == "bool_parsing"
    assert demo.get(f"/v1/customers/{customer['id']}").status_code == 200


# Export ------------------------------------------------------------------------------------


def test_export_is_a_streamed_csv_of_live_customers(demo: httpx.Client) -> None:
    doomed = demo.get("/v1/customers/", params={"limit": 1}).json()["items"][0]
    demo.delete(f"/v1/customers/{doomed['id']}")
    response = demo.get("/v1/customers/export")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="polar-customers.csv"'
    assert response.text.count("\r\n") == 250  # a header and 249 rows, CRLF line endings
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 249
    assert doomed["id"] not in {row["ID"] for row in rows}
    with_tax = next(row for row in rows if row["Tax ID"])
    assert with_tax["Tax ID"].startswith("('")
    assert "<TaxIDFormat." in with_tax["Tax ID"]
    assert rows[0]["Created At"].endswith("+00:00")
    customers = {c["id"]: c for c in all_pages(demo, "/v1/customers/")}
    for row in rows:
        assert row["Email"] == (customers[row["ID"]]["email"] or "")
        assert (row["Metadata"] == "") == (customers[row["ID"]]["metadata"] == {})
