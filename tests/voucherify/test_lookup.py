"""``voucherifyCustomer(id:)`` and ``voucherifyCustomer(sourceId:)`` against the Voucherify sandbox: every
field as the sandbox itself answers ``GET /v1/customers/{id}``, null for no match, and the argument rule."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.graphql_client import error_codes
from tests.voucherify.client import (
    CUSTOMER_FIELDS,
    CUSTOMER_ROUTE,
    VoucherifyGraphQL,
    expected_customer,
    normalized,
    sandbox_customer,
    sandbox_ids,
)

BY_ID = f"query($id: ID!) {{ voucherifyCustomer(id: $id) {{ {CUSTOMER_FIELDS} }} }}"
BY_SOURCE_ID = f"query($sourceId: String!) {{ voucherifyCustomer(sourceId: $sourceId) {{ {CUSTOMER_FIELDS} }} }}"
FULL = {
    "source_id": "vfq_full_profile",
    "name": "Zoë Full-Profile",
    "description": "Every writable field set",
    "email": "zoe.full@example.com",
    "phone": "+46 70 123 4567",
    "birthdate": "1990-04-05",
    "address": {"line_1": "Storgatan 1", "line_2": "lgh 1102", "city": "Uppsala", "state": "Uppsala län",
                "postal_code": "753 20", "country": "SE"},
    "metadata": {"lang": "sv", "vip": True, "score": 1.5, "tags": ["a", "b"], "nested": {"k": None, "n": 3}},
}  # fmt: skip


def _created(vf_demo: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = vf_demo.post("/v1/customers", json=body)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


def test_a_customer_with_every_field_matches_the_sandbox_by_id_and_by_source_id(
    vf: VoucherifyGraphQL, vf_demo: httpx.Client
) -> None:
    created = _created(vf_demo, FULL)
    updated = vf_demo.put(f"/v1/customers/{created['id']}", json={"description": "Updated once"})
    assert updated.status_code == 200
    raw = sandbox_customer(vf_demo, created["id"])
    assert raw["updated_at"]
    assert raw["address"]["state"]
    assert raw["birthdate"]
    expected = expected_customer(raw)

    by_id = vf.data(BY_ID, {"id": created["id"]})["voucherifyCustomer"]
    by_source_id = vf.data(BY_SOURCE_ID, {"sourceId": FULL["source_id"]})["voucherifyCustomer"]
    assert normalized(by_id) == expected
    assert normalized(by_source_id) == expected
    assert by_id["description"] == "Updated once"
    assert by_id["address"]["line2"] == "lgh 1102"
    assert by_id["metadata"] == FULL["metadata"]


def test_seed_customers_match_the_sandbox_field_for_field(vf: VoucherifyGraphQL, vf_demo: httpx.Client) -> None:
    """A spread of the seed: with and without address, phone, orders (with a last order date) and loyalty."""
    ids = sandbox_ids(vf_demo)[::10]  # 12 customers, 24 aliases (at most 30)
    raws = [sandbox_customer(vf_demo, customer_id) for customer_id in ids]
    assert any(raw.get("address") is None for raw in raws)
    assert any(raw.get("address") for raw in raws)
    assert any(raw.get("phone") for raw in raws)
    assert any(raw["summary"]["orders"].get("last_order_date") for raw in raws)
    assert any(raw["loyalty"]["campaigns"] for raw in raws)
    aliases = " ".join(
        f'i{n}: voucherifyCustomer(id: "{raw["id"]}") {{ {CUSTOMER_FIELDS} }} '
        f's{n}: voucherifyCustomer(sourceId: "{raw["source_id"]}") {{ {CUSTOMER_FIELDS} }}'
        for n, raw in enumerate(raws)
    )
    data = vf.data(f"{{ {aliases} }}")
    for n, raw in enumerate(raws):
        assert normalized(data[f"i{n}"]) == expected_customer(raw)
        assert normalized(data[f"s{n}"]) == expected_customer(raw)


def test_updated_at_is_null_until_the_first_update(vf: VoucherifyGraphQL, vf_demo: httpx.Client) -> None:
    customer_id = sandbox_ids(vf_demo)[0]
    assert vf.data(BY_ID, {"id": customer_id})["voucherifyCustomer"]["updatedAt"] is None
    vf_demo.put(f"/v1/customers/{customer_id}", json={"name": "Renamed"}).raise_for_status()
    answer = vf.data(BY_ID, {"id": customer_id})["voucherifyCustomer"]
    assert answer["name"] == "Renamed"
    assert normalized(answer) == expected_customer(sandbox_customer(vf_demo, customer_id))
    assert answer["updatedAt"] is not None


@pytest.mark.parametrize(
    ("argument", "value"),
    [("id", "cust_NoSuchCustomer0000000000"), ("sourceId", "crm_99999"), ("sourceId", "no such / customer?")],
)
def test_no_match_is_null_without_an_error(vf: VoucherifyGraphQL, argument: str, value: str) -> None:
    kind = "ID" if argument == "id" else "String"
    body = vf.execute(f"query($v: {kind}!) {{ voucherifyCustomer({argument}: $v) {{ id }} }}", {"v": value})
    assert "errors" not in body
    assert body["data"] == {"voucherifyCustomer": None}
    assert vf.upstream_calls() == {CUSTOMER_ROUTE: 1}


def test_an_id_that_is_a_source_id_and_a_source_id_that_is_an_id_match_nothing(
    vf: VoucherifyGraphQL, vf_demo: httpx.Client
) -> None:
    """Voucherify's path takes either; the gateway answers only for the kind of key that was asked."""
    raw = sandbox_customer(vf_demo, sandbox_ids(vf_demo)[3])
    data = vf.data(
        "query($id: ID!, $idAsSource: String!, $sourceAsId: ID!) { byId: voucherifyCustomer(id: $sourceAsId) { id } "
        "bySource: voucherifyCustomer(sourceId: $idAsSource) { id } right: voucherifyCustomer(id: $id) { id } }",
        {"id": raw["id"], "idAsSource": raw["id"], "sourceAsId": raw["source_id"]},
    )
    assert data == {"byId": None, "bySource": None, "right": {"id": raw["id"]}}


def test_a_source_id_equal_to_another_customers_id_never_returns_that_customer(
    vf: VoucherifyGraphQL, vf_demo: httpx.Client
) -> None:
    """Voucherify keeps a customer (the shadow) whose source_id is another's (the victim's) id. Its
    ``GET /v1/customers/{x}`` then finds the customer whose *id* is x (the sandbox looks ids up first), and the
    list has no source_id filter: no call reaches the shadow by that value. The gateway must never answer with
    the victim: null, or the shadow when this request already read it by its id."""
    victim = sandbox_customer(vf_demo, sandbox_ids(vf_demo)[0])
    shadow = _created(vf_demo, {"source_id": victim["id"], "name": "Shadow", "email": "shadow@example.com"})
    assert shadow["id"] != victim["id"]
    assert shadow["source_id"] == victim["id"]
    assert sandbox_customer(vf_demo, victim["id"])["id"] == victim["id"]  # what the path answers for that value

    data = vf.data(
        "query($v: String!, $victim: ID!, $shadow: ID!) { bySource: voucherifyCustomer(sourceId: $v) { id name } "
        "byId: voucherifyCustomer(id: $victim) { id name } shadow: voucherifyCustomer(id: $shadow) { id sourceId } }",
        {"v": victim["id"], "victim": victim["id"], "shadow": shadow["id"]},
    )
    # The id lookups go first and prime what they found by both its keys, so here the shadow is known:
    assert data["bySource"] == {"id": shadow["id"], "name": "Shadow"}
    assert data["byId"] == {"id": victim["id"], "name": victim["name"]}
    assert data["shadow"] == {"id": shadow["id"], "sourceId": victim["id"]}
    # Alone in its request, the only call answers with the victim, which is not the customer asked for:
    before = vf.upstream_calls()
    alone = vf.data("query($v: String!) { voucherifyCustomer(sourceId: $v) { id } }", {"v": victim["id"]})
    assert alone == {"voucherifyCustomer": None}
    assert vf.calls_since(before) == {CUSTOMER_ROUTE: 1}


@pytest.mark.parametrize(
    "arguments",
    ["", '(id: "cust_a", sourceId: "crm_00001")', "(id: null, sourceId: null)", '(id: "")', '(sourceId: "")'],
)
def test_exactly_one_non_empty_argument_or_bad_user_input_without_a_call(vf: VoucherifyGraphQL, arguments: str) -> None:
    body = vf.execute(f"{{ voucherifyCustomer{arguments} {{ id }} }}")
    assert body["data"] == {"voucherifyCustomer": None}
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert vf.upstream_calls() == {}
