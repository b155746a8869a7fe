"""CSV import: 202 with an async action; at DONE the rows are upserted by Source_id (or Id), a matched profile
is overwritten whole, unknown columns become metadata, and failed rows are reported by 1-based number."""

from __future__ import annotations

from typing import Any

import httpx

from tests.sandbox_voucherify.openapi import error_body, validate, validate_async_action

TEMPLATE = (
    "Name,Source_id,Description,Email,Phone,Address_line_1,Address_line_2,City,Postal_Code,State,Country,"
    "Birthdate,favorite_brands,CRM_created_date\n"
    "Maja Holm,csv-1,From the template,maja.holm@proton.me,+46 70 111 2222,Storgatan 1,,Lund,222 22,,SE,"
    "1990-04-01,Fjällräven,2024-01-01\n"
)


def _import(client: httpx.Client, text: str) -> dict[str, Any]:
    response = client.post("/v1/customers/importCSV", files={"file": ("customers.csv", text.encode(), "text/csv")})
    validate(response)
    assert response.status_code == 202
    action_id = response.json()["async_action_id"]
    for _ in range(3):
        read = client.get(f"/v1/async-actions/{action_id}")
        validate_async_action(read)
    body: dict[str, Any] = read.json()
    assert body["status"] == "DONE"
    assert body["type"] == "CUSTOMERS.IMPORT_CSV"
    return body


def test_the_official_template_spelling_imports(demo: httpx.Client) -> None:
    result = _import(demo, TEMPLATE)["result"]
    assert result == {"message": "1 customer(s) imported successfully, 0 failed.", "failed": [],
                      "done_count": 1, "failed_count": 0}  # fmt: skip
    customer = demo.get("/v1/customers/csv-1").json()
    assert customer["name"] == "Maja Holm"
    assert customer["birthdate"] == "1990-04-01"
    assert customer["address"] == {"line_1": "Storgatan 1", "city": "Lund", "postal_code": "222 22", "country": "SE"}
    assert customer["metadata"] == {"favorite_brands": "Fjällräven", "CRM_created_date": "2024-01-01"}


def test_docs_spelling_overwrites_a_profile_whole(demo: httpx.Client) -> None:
    before = demo.get("/v1/customers/crm_00001").json()
    _import(demo, "SOURCE_ID,ADDRESS_CITY,vip\ncrm_00001,Oslo,true\n")
    after = demo.get("/v1/customers/crm_00001").json()
    assert after["id"] == before["id"]
    assert after["address"] == {"city": "Oslo"}
    assert after["metadata"] == {"vip": True}
    assert "name" not in after
    assert "email" not in after


def test_failed_rows_are_reported(demo: httpx.Client) -> None:
    text = "Id,Source_id,Name,Birthdate\n,,No key,\ncust_missing,,Ghost,\n,csv-bad,Bad date,1990-02-30\n,csv-ok,Fine,\n"
    result = _import(demo, text)["result"]
    assert result["done_count"] == 1
    assert result["failed_count"] == 3
    assert [(f["row"], f["source_id"]) for f in result["failed"]] == [(1, ""), (2, ""), (3, "csv-bad")]
    assert demo.get("/v1/customers/csv-ok").json()["name"] == "Fine"
    assert demo.get("/v1/customers/csv-bad").status_code == 404


def test_requests_without_a_csv_file_are_400(demo: httpx.Client) -> None:
    error_body(demo.post("/v1/customers/importCSV", json={"file": "x"}), 400, "invalid_payload")
    error_body(
        demo.post("/v1/customers/importCSV", files={"other": ("a.csv", b"x", "text/csv")}), 400, "invalid_payload"
    )
    error_body(demo.post("/v1/customers/importCSV", files={"file": ("a.csv", b"", "text/csv")}), 400, "invalid_payload")
