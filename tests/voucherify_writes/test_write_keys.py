"""Who may write: every Voucherify write without keys is UNAUTHENTICATED, with client keys (which reach only
the consents) FORBIDDEN, and with keys of the wrong shape UNAUTHENTICATED, all before any Voucherify call.
Keys of another project reach that project only."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.sandbox.voucherify.seed import DEMO_APP_ID, OTHER_APP_ID, OTHER_APP_TOKEN
from tests.voucherify_writes.client import (
    ASYNC_ACTION,
    CLIENT_KEYS,
    SERVER_KEYS,
    Upstream,
    VoucherifyGraphQL,
    codes,
)

CUSTOMER_ID = "cust_AnyCustomerAtAll000000000"
WRITES: dict[str, tuple[str, dict[str, Any]]] = {
    "upsert": (
        "mutation($input: VoucherifyCustomerUpsertInput!) { voucherifyCustomerUpsert(input: $input) { customer { id } } }",
        {"input": {"sourceId": "crm_denied", "name": "Denied"}},
    ),
    "update": (
        "mutation($id: ID) { voucherifyCustomerUpdate(id: $id, input: {name: \"x\"}) { customer { id } } }",
        {"id": CUSTOMER_ID},
    ),
    "delete": ("mutation($id: ID) { voucherifyCustomerDelete(id: $id) { deletedCustomerId } }", {"id": CUSTOMER_ID}),
    "deleteBySource": (
        "mutation($s: String) { voucherifyCustomerDelete(sourceId: $s) { deletedCustomerId } }", {"s": "crm_00001"},
    ),
    "permanentDelete": (
        "mutation($id: ID) { voucherifyCustomerPermanentDelete(id: $id) { deletion { id } } }", {"id": CUSTOMER_ID},
    ),
    "bulkUpdate": (
        "mutation { voucherifyCustomersBulkUpdate(customers: [{sourceId: \"crm_x\", name: \"x\"}]) { asyncAction { id } } }",
        {},
    ),
    "metadataBulkUpdate": (
        "mutation { voucherifyCustomersMetadataBulkUpdate(sourceIds: [\"crm_x\"], metadata: {a: 1}) { asyncAction { id } } }",
        {},
    ),
    "asyncAction": (ASYNC_ACTION, {"id": "aa_0123456789abcdef01", "wait": 1}),
}  # fmt: skip
CONSENTS = (
    "mutation($id: ID) { voucherifyCustomerConsentsUpdate(id: $id, unsubscribed: true) { updated } }",
    {"id": CUSTOMER_ID},
)
MALFORMED = [
    {"X-Voucherify-App-Id": DEMO_APP_ID},  # half a pair
    {"X-Voucherify-App-Token": "vf_sandbox_secret"},
    {**SERVER_KEYS, "X-Voucherify-App-Token": "has spaces in it"},
    {
        "X-Voucherify-Client-Id": "vf_sandbox_client_app",
        "X-Voucherify-Client-Token": "vf_sandbox_client_token",
    },  # no Origin
    {**CLIENT_KEYS, "Origin": "null"},
]


@pytest.mark.parametrize("name", sorted(WRITES))
def test_without_keys_every_write_is_unauthenticated_without_a_call(vf_no_keys: VoucherifyGraphQL, name: str) -> None:
    query, variables = WRITES[name]
    before = vf_no_keys.calls()
    body = vf_no_keys.execute(query, variables)
    assert codes(body) == ["UNAUTHENTICATED"]
    assert not any((body["data"] or {}).values())
    assert "X-Voucherify-App-Id" in body["errors"][0]["message"]  # it says what to send
    assert vf_no_keys.calls_since(before) == {}


def test_without_keys_consents_are_unauthenticated_without_a_call(vf_no_keys: VoucherifyGraphQL) -> None:
    before = vf_no_keys.calls()
    assert codes(vf_no_keys.execute(*CONSENTS)) == ["UNAUTHENTICATED"]
    assert vf_no_keys.calls_since(before) == {}


@pytest.mark.parametrize("name", sorted(WRITES))
def test_client_keys_are_forbidden_every_write_but_consents_without_a_call(
    vf_client_keys: VoucherifyGraphQL, name: str
) -> None:
    query, variables = WRITES[name]
    before = vf_client_keys.calls()
    body = vf_client_keys.execute(query, variables)
    assert codes(body) == ["FORBIDDEN"]
    assert "voucherifyCustomerConsentsUpdate" in body["errors"][0]["message"]
    assert vf_client_keys.calls_since(before) == {}


@pytest.mark.parametrize(
    "headers", MALFORMED, ids=["app-id-only", "token-only", "bad-characters", "no-origin", "origin-null"]
)
def test_malformed_keys_are_unauthenticated_without_a_call(vf: VoucherifyGraphQL, headers: dict[str, str]) -> None:
    before = vf.calls()
    for query, variables in [*WRITES.values(), CONSENTS]:
        body = vf.execute(query, variables, headers)
        assert codes(body) == ["UNAUTHENTICATED"], query
    assert vf.calls_since(before) == {}


def test_wrong_secret_is_refused_by_voucherify_once(vf: VoucherifyGraphQL, upstream: Upstream) -> None:
    total = upstream.total()
    query, variables = WRITES["upsert"]
    before = vf.calls()
    body = vf.execute(query, variables, {**SERVER_KEYS, "X-Voucherify-App-Token": OTHER_APP_TOKEN})
    assert codes(body) == ["UNAUTHENTICATED"]
    assert vf.calls_since(before) == {"POST /v1/customers": 1}
    assert upstream.total() == total


def test_keys_of_another_project_write_there_only(vf: VoucherifyGraphQL, upstream: Upstream) -> None:
    other = {"X-Voucherify-App-Id": OTHER_APP_ID, "X-Voucherify-App-Token": OTHER_APP_TOKEN}
    demo_customer = upstream.first_customers(1)[0]
    # The Demo project's customer is not the Other project's to update or delete.
    update = vf.data(WRITES["update"][0], {"id": demo_customer["id"]}, other)["voucherifyCustomerUpdate"]
    assert update["customer"] is None
    deleted = vf.data(WRITES["delete"][0], {"id": demo_customer["id"]}, other)["voucherifyCustomerDelete"]
    assert deleted["deletedCustomerId"] is None
    assert upstream.must(demo_customer["id"])["name"] == demo_customer["name"]
    # A customer created with the Other keys is not in Demo.
    created = vf.data(*WRITES["upsert"], headers=other)["voucherifyCustomerUpsert"]["customer"]
    assert upstream.customer(created["id"]) is None
