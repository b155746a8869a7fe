"""Create (upsert), get, update, delete and permanent deletion, with Voucherify's bodies and statuses."""

from __future__ import annotations

import re

import httpx

from tests.sandbox_voucherify.openapi import error_body, validate

CUSTOMER_ID = re.compile(r"^cust_[A-Za-z0-9]{24}$")


def _create(client: httpx.Client, **body: object) -> dict[str, object]:
    response = client.post("/v1/customers", json=body)
    validate(response)
    assert response.status_code == 200
    created: dict[str, object] = response.json()
    return created


def test_create_returns_the_new_customer_without_updated_at(demo: httpx.Client) -> None:
    created = _create(demo, source_id="crm-new-1", name="Nora Falk", email="nora.falk@proton.me",
                      metadata={"lang": "sv"}, address={"city": "Malmö", "country": "SE"})  # fmt: skip
    assert CUSTOMER_ID.match(str(created["id"]))
    assert created["source_id"] == "crm-new-1"
    assert created["metadata"] == {"lang": "sv"}
    assert created["address"] == {"city": "Malmö", "country": "SE"}
    assert created["object"] == "customer"
    assert created["loyalty"] == {"points": 0, "referred_customers": 0, "campaigns": {}}
    assert "updated_at" not in created


def test_create_with_an_existing_source_id_updates_that_customer(demo: httpx.Client) -> None:
    first = _create(demo, source_id="crm-upsert", name="Before", phone="+46 70 000 0000")
    second = _create(demo, source_id="crm-upsert", name="After")
    assert second["id"] == first["id"]
    assert second["name"] == "After"
    assert second["phone"] == "+46 70 000 0000"
    assert "updated_at" in second


def test_create_with_an_existing_id_ignores_the_source_id(demo: httpx.Client) -> None:
    first = _create(demo, source_id="crm-by-id", name="One")
    again = _create(demo, id=first["id"], source_id="something-else", name="Two")
    assert again["id"] == first["id"]
    assert again["source_id"] == "crm-by-id"
    assert demo.get("/v1/customers/something-else").status_code == 404


def test_create_with_an_unknown_id_is_404(demo: httpx.Client) -> None:
    body = error_body(demo.post("/v1/customers", json={"id": "cust_unknown"}), 404, "not_found")
    assert body["resource_type"] == "customer"
    assert body["resource_id"] == "cust_unknown"


def test_create_without_any_key_has_no_source_id(demo: httpx.Client) -> None:
    created = _create(demo, name="Anonymous")
    assert "source_id" not in created
    assert demo.get(f"/v1/customers/{created['id']}").json()["name"] == "Anonymous"


def test_bad_bodies_are_400_invalid_payload(demo: httpx.Client) -> None:
    body = error_body(demo.post("/v1/customers", json={"name": 5}), 400, "invalid_payload")
    assert body["details"] == "Property .name must be string"
    error_body(demo.post("/v1/customers", json=[1]), 400, "invalid_payload")
    error_body(demo.post("/v1/customers", content=b"{not json"), 400, "invalid_payload")
    error_body(demo.post("/v1/customers", json={"birthdate": "2020-13-40"}), 400, "invalid_payload")
    error_body(demo.post("/v1/customers", json={"metadata": "x"}), 400, "invalid_payload")
    error_body(demo.put("/v1/customers/crm_00001", json={"address": 3}), 400, "invalid_payload")


def test_get_by_id_and_by_source_id_is_the_same_customer(demo: httpx.Client) -> None:
    by_source = demo.get("/v1/customers/crm_00001")
    validate(by_source)
    by_id = demo.get(f"/v1/customers/{by_source.json()['id']}")
    validate(by_id)
    assert by_id.json() == by_source.json()


def test_unknown_customer_is_404_with_the_identifier_as_passed(demo: httpx.Client) -> None:
    response = demo.get("/v1/customers/no-such-source")
    validate(response)
    body = error_body(response, 404, "not_found")
    assert body["message"] == "Resource not found"
    assert body["details"] == "Cannot find customer with id no-such-source"
    assert (body["resource_id"], body["resource_type"]) == ("no-such-source", "customer")


def test_update_is_partial_and_sets_updated_at(demo: httpx.Client) -> None:
    before = demo.get("/v1/customers/crm_00003").json()
    response = demo.put("/v1/customers/crm_00003", json={"description": "VIP", "source_id": "ignored"})
    validate(response)
    after = response.json()
    assert after["description"] == "VIP"
    assert after["name"] == before["name"]
    assert after["email"] == before["email"]
    assert after["source_id"] == "crm_00003"
    assert "updated_at" in after
    assert demo.get("/v1/customers/crm_00003").json() == after


def test_update_replaces_metadata_whole(demo: httpx.Client) -> None:
    demo.put("/v1/customers/crm_00003", json={"metadata": {"a": 1, "b": 2}})
    assert demo.put("/v1/customers/crm_00003", json={"metadata": {"b": 3}}).json()["metadata"] == {"b": 3}


def test_update_of_an_unknown_customer_is_404(demo: httpx.Client) -> None:
    response = demo.put("/v1/customers/cust_missing", json={"name": "x"})
    validate(response)
    error_body(response, 404, "not_found")


def test_delete_is_204_then_404_and_frees_the_source_id(demo: httpx.Client) -> None:
    response = demo.delete("/v1/customers/crm_00005")
    validate(response)
    assert response.status_code == 204
    assert response.content == b""
    gone = demo.get("/v1/customers/crm_00005")
    error_body(gone, 404, "not_found")
    deleted_again = demo.delete("/v1/customers/crm_00005")
    validate(deleted_again)
    error_body(deleted_again, 404, "not_found")
    assert _create(demo, source_id="crm_00005")["source_id"] == "crm_00005"


def test_permanent_deletion_reports_with_upstream_spelling(demo: httpx.Client) -> None:
    customer = demo.get("/v1/customers/crm_00007").json()
    response = demo.post("/v1/customers/crm_00007/permanent-deletion")
    validate(response)
    report = response.json()
    assert report["object"] == "pernament_deletion"
    assert report["status"] == "DONE"
    assert report["related_object"] == "customer"
    assert report["related_object_id"] == customer["id"]
    assert report["data_json"]["customer"] == 1
    assert report["data_json"]["orders"] == customer["summary"]["orders"]["total_count"]
    assert re.match(r"^del_[A-Za-z0-9]{24}$", report["id"])
    error_body(demo.get(f"/v1/customers/{customer['id']}"), 404, "not_found")
    missing = demo.post("/v1/customers/crm_00007/permanent-deletion")
    validate(missing)
    error_body(missing, 404, "not_found")


def test_segments_follow_the_profile_and_an_unknown_customer_has_none(demo: httpx.Client) -> None:
    created = _create(demo, source_id="usr_demo_99999")
    response = demo.get(f"/v1/customers/{created['id']}/segments")
    validate(response)
    body = response.json()
    assert body["object"] == "list"
    assert body["data_ref"] == "data"
    assert [s["name"] for s in body["data"]] == ["linked to Polar"]
    assert body["total"] == 1
    unknown = demo.get("/v1/customers/nobody/segments")
    validate(unknown)
    assert unknown.json() == {"object": "list", "data_ref": "data", "data": [], "total": 0}


def test_unknown_route_and_method_use_the_error_body(demo: httpx.Client) -> None:
    error_body(demo.get("/v1/nothing-here"), 404, "not_found")
    error_body(demo.patch("/v1/customers/crm_00001", json={}), 405, "method_not_allowed")
