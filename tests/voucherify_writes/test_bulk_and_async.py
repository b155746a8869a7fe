"""voucherifyCustomersBulkUpdate and voucherifyCustomersMetadataBulkUpdate schedule async actions, which
voucherifyAsyncAction(waitSeconds) follows to DONE (the sandbox moves one step per read); then the customers
show the change. Refusals before any call: too many customers, empty source ids or metadata."""

from __future__ import annotations

from typing import Any

from tests.voucherify_writes.client import ASYNC_ACTION, Upstream, VoucherifyGraphQL, codes

ACTION = "asyncAction { id type status progress result } userErrors { field message code }"
BULK = f"""mutation($customers: [VoucherifyBulkCustomerInput!]!) {{
  voucherifyCustomersBulkUpdate(customers: $customers) {{ {ACTION} }} }}"""
METADATA = f"""mutation($sourceIds: [String!]!, $metadata: JSON!) {{
  voucherifyCustomersMetadataBulkUpdate(sourceIds: $sourceIds, metadata: $metadata) {{ {ACTION} }} }}"""
ACTIONS_ROUTE = "GET /v1/async-actions/{action_id}"
MAX_BULK_CUSTOMERS = 100  # the setting's default, which the session gateway runs with


def wait_done(vf: VoucherifyGraphQL, action_id: str, seconds: float = 5) -> dict[str, Any]:
    action: dict[str, Any] = vf.data(ASYNC_ACTION, {"id": action_id, "wait": seconds})["voucherifyAsyncAction"]
    return action


def test_bulk_update_runs_as_an_async_action_and_changes_the_customers(
    vf: VoucherifyGraphQL, upstream: Upstream
) -> None:
    seeded = upstream.first_customers(1)[0]
    customers = [
        {"sourceId": seeded["source_id"], "email": "bulk@example.com", "metadata": {"bulk": True}},
        {"sourceId": "crm_bulk_new", "name": "Bulk Newcomer", "birthdate": "2001-02-03",
         "address": {"city": "Turku", "country": "FI"}},
    ]  # fmt: skip
    total = upstream.total()
    before = vf.calls()
    payload = vf.data(BULK, {"customers": customers})["voucherifyCustomersBulkUpdate"]
    assert payload["userErrors"] == []
    action = payload["asyncAction"]
    assert action["id"].startswith("aa_")
    assert action["type"] == "CUSTOMERS.BULK_UPDATE"
    assert action["status"] == "ENQUEUED"
    assert action["progress"] == 0
    assert action["result"] is None
    assert vf.calls_since(before) == {"POST /v1/customers/bulk/async": 1, ACTIONS_ROUTE: 1}
    assert upstream.customer("crm_bulk_new") is None  # not applied before it is done

    before = vf.calls()
    done = wait_done(vf, action["id"])
    assert done["status"] == "DONE"
    assert done["operationStatus"] == "SUCCESS"
    assert done["progress"] == 100
    assert done["result"]["done_count"] == 2
    assert done["result"]["failed_count"] == 0
    assert done["result"]["errors"] == []
    assert vf.calls_since(before) == {ACTIONS_ROUTE: 2}  # IN_PROGRESS, then DONE

    changed = upstream.must(seeded["id"])
    assert changed["email"] == "bulk@example.com"
    assert changed["metadata"] == {"bulk": True}
    assert changed["name"] == seeded["name"]
    created = upstream.must("crm_bulk_new")
    assert created["name"] == "Bulk Newcomer"
    assert created["birthdate"] == "2001-02-03"
    assert created["address"] == {"city": "Turku", "country": "FI"}
    assert upstream.total() == total + 1


def test_metadata_bulk_update_merges_the_same_metadata_into_every_customer(
    vf: VoucherifyGraphQL, upstream: Upstream
) -> None:
    first, second = upstream.first_customers(2)
    source_ids = [first["source_id"], second["source_id"], "crm_meta_new"]
    payload = vf.data(METADATA, {"sourceIds": source_ids, "metadata": {"tier": "gold", "score": 7}})
    action = payload["voucherifyCustomersMetadataBulkUpdate"]["asyncAction"]
    assert payload["voucherifyCustomersMetadataBulkUpdate"]["userErrors"] == []
    assert action["type"] == "CUSTOMERS.METADATA_UPDATE"
    assert action["status"] == "ENQUEUED"

    done = wait_done(vf, action["id"])
    assert done["status"] == "DONE"
    assert (done["result"]["done_count"], done["result"]["failed_count"]) == (3, 0)
    for seeded in (first, second):
        assert upstream.must(seeded["id"])["metadata"] == {**seeded["metadata"], "tier": "gold", "score": 7}
    assert upstream.must("crm_meta_new")["metadata"] == {"tier": "gold", "score": 7}


def test_an_action_already_done_is_answered_at_once(vf: VoucherifyGraphQL) -> None:
    payload = vf.data(METADATA, {"sourceIds": ["crm_done_twice"], "metadata": {"a": 1}})
    action_id = payload["voucherifyCustomersMetadataBulkUpdate"]["asyncAction"]["id"]
    assert wait_done(vf, action_id)["status"] == "DONE"
    before = vf.calls()
    assert wait_done(vf, action_id)["status"] == "DONE"
    assert vf.calls_since(before) == {ACTIONS_ROUTE: 1}


def test_without_wait_seconds_the_action_is_read_once(vf: VoucherifyGraphQL) -> None:
    payload = vf.data(BULK, {"customers": [{"sourceId": "crm_read_once", "name": "x"}]})
    action_id = payload["voucherifyCustomersBulkUpdate"]["asyncAction"]["id"]  # read once: now IN_PROGRESS
    before = vf.calls()
    action = vf.data(ASYNC_ACTION, {"id": action_id})["voucherifyAsyncAction"]
    assert (action["status"], action["progress"], action["result"]) == ("IN_PROGRESS", 50, None)
    assert vf.calls_since(before) == {ACTIONS_ROUTE: 1}


def test_wait_seconds_out_of_range_is_bad_user_input_without_a_call(vf: VoucherifyGraphQL) -> None:
    before = vf.calls()
    for wait in (-1, 8.5, 1e9):
        body = vf.execute(ASYNC_ACTION, {"id": "aa_000000000000000000", "wait": wait})
        assert codes(body) == ["BAD_USER_INPUT"]
        assert body["errors"][0]["extensions"]["argument"] == "waitSeconds"
    assert vf.calls_since(before) == {}


def test_an_unknown_async_action_is_null(vf: VoucherifyGraphQL) -> None:
    before = vf.calls()
    body = vf.execute(ASYNC_ACTION, {"id": "aa_0123456789abcdef01", "wait": 2})
    assert "errors" not in body
    assert body["data"] == {"voucherifyAsyncAction": None}
    assert vf.calls_since(before) == {ACTIONS_ROUTE: 1}  # a 404 ends the wait at once


# Limits, before any call -------------------------------------------------------------------------


def test_bulk_update_over_max_bulk_customers_is_refused_without_a_call(vf: VoucherifyGraphQL) -> None:
    customers = [{"sourceId": f"crm_many_{index:04d}", "name": "Many"} for index in range(MAX_BULK_CUSTOMERS + 1)]
    before = vf.calls()
    payload = vf.data(BULK, {"customers": customers})["voucherifyCustomersBulkUpdate"]
    assert payload["asyncAction"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["customers"], "TOO_MANY")]
    assert str(MAX_BULK_CUSTOMERS) in payload["userErrors"][0]["message"]
    assert vf.calls_since(before) == {}


def test_bulk_update_of_exactly_max_bulk_customers_is_sent(vf: VoucherifyGraphQL) -> None:
    customers = [{"sourceId": f"crm_many_{index:04d}", "name": "Many"} for index in range(MAX_BULK_CUSTOMERS)]
    before = vf.calls()
    action_id = vf.data(BULK, {"customers": customers})["voucherifyCustomersBulkUpdate"]["asyncAction"]["id"]
    assert wait_done(vf, action_id)["result"]["done_count"] == MAX_BULK_CUSTOMERS
    assert vf.calls_since(before)["POST /v1/customers/bulk/async"] == 1


def test_bulk_update_refusals_without_a_call(vf: VoucherifyGraphQL) -> None:
    before = vf.calls()
    empty = vf.data(BULK, {"customers": []})["voucherifyCustomersBulkUpdate"]
    assert [(e["field"], e["code"]) for e in empty["userErrors"]] == [(["customers"], "REQUIRED")]
    blank = vf.data(BULK, {"customers": [{"sourceId": "crm_ok"}, {"sourceId": "", "name": "x"},
                                         {"sourceId": "crm_ok2", "metadata": [1, 2]}]})  # fmt: skip
    errors = blank["voucherifyCustomersBulkUpdate"]["userErrors"]
    assert sorted((tuple(e["field"]), e["code"]) for e in errors) == [
        (("customers", "1", "sourceId"), "BLANK"), (("customers", "2", "metadata"), "INVALID")]  # fmt: skip
    assert blank["voucherifyCustomersBulkUpdate"]["asyncAction"] is None
    assert vf.calls_since(before) == {}


def test_metadata_bulk_update_refusals_without_a_call(vf: VoucherifyGraphQL) -> None:
    cases: list[tuple[dict[str, Any], list[str], str]] = [
        ({"sourceIds": [], "metadata": {"a": 1}}, ["sourceIds"], "REQUIRED"),
        ({"sourceIds": ["crm_a", ""], "metadata": {"a": 1}}, ["sourceIds", "1"], "BLANK"),
        ({"sourceIds": ["crm_a", "x" * 256], "metadata": {"a": 1}}, ["sourceIds", "1"], "TOO_LONG"),
        ({"sourceIds": [f"crm_{i}" for i in range(MAX_BULK_CUSTOMERS + 1)], "metadata": {"a": 1}}, ["sourceIds"],
         "TOO_MANY"),
        ({"sourceIds": ["crm_a"], "metadata": {}}, ["metadata"], "INVALID"),
        ({"sourceIds": ["crm_a"], "metadata": ["a", 1]}, ["metadata"], "INVALID"),
        ({"sourceIds": ["crm_a"], "metadata": "a"}, ["metadata"], "INVALID"),
    ]  # fmt: skip
    before = vf.calls()
    for variables, field, code in cases:
        payload = vf.data(METADATA, variables)["voucherifyCustomersMetadataBulkUpdate"]
        assert payload["asyncAction"] is None
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(field, code)], variables
    assert vf.calls_since(before) == {}
