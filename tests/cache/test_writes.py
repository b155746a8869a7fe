"""A write through the gateway invalidates what it touched before it answers, in every instance: written on A, read
on B at once, the change shows. No webhook endpoint is registered (``quiet_pair``): Polar's webhooks would
invalidate the same entries a moment later, and only the write's own invalidation may explain what B reads.

Each test first shows B serving the customer from the cache (no upstream request), so that what B reads after
the write cannot be a read that was never cached."""

from __future__ import annotations

from typing import Any

from tests.cache.conftest import Pair
from tests.cache.harness import (
    BY_EXTERNAL_ID,
    BY_ID,
    COLD_CUSTOMER,
    PERSON,
    VF_CUSTOMER,
    VOUCHERIFY_BY_SOURCE,
    Gateway,
)

UPDATE_BY_EXTERNAL_ID = """mutation RenameByExternal($externalId: String!, $name: String!) {
  customerUpdate(externalId: $externalId, input: {name: $name}) { customer { id name } userErrors { field message code } }
}"""
DELETE = "mutation Delete($id: ID!) { customerDelete(id: $id) { deletedCustomerId userErrors { field message code } } }"
ERASE = """mutation Erase($externalId: String!) {
  customerErase(externalId: $externalId) { reports { system status } userErrors { field message code } }
}"""
ENROLL = """mutation Enroll($externalId: String!) {
  customerLoyaltyEnroll(externalId: $externalId) {
    voucherifyCustomer { id sourceId name } userErrors { field message code }
  }
}"""


def _cached_on_b(pair: Pair, customer_id: str) -> dict[str, Any]:
    """B has read the customer by id and by external id, and serves both from the cache: what each answered."""
    by_id = pair.b.customer(customer_id)
    assert by_id.polar == COLD_CUSTOMER
    by_external = pair.b.ask(BY_EXTERNAL_ID, {"externalId": PERSON})
    assert by_external.data["customer"]["id"] == customer_id
    assert pair.b.customer(customer_id).polar == {}
    assert pair.b.ask(BY_EXTERNAL_ID, {"externalId": PERSON}).polar == {}
    return {"by_id": by_id.data["customer"], "by_external_id": by_external.data["customer"]}


def _voucherify_cached_on(gateway: Gateway, source_id: str) -> dict[str, Any]:
    cold = gateway.ask(VOUCHERIFY_BY_SOURCE, {"sourceId": source_id})
    assert cold.voucherify == {VF_CUSTOMER: 1}
    assert gateway.ask(VOUCHERIFY_BY_SOURCE, {"sourceId": source_id}).voucherify == {}
    found: dict[str, Any] = cold.data["voucherifyCustomer"]
    assert found["sourceId"] == source_id
    return found


def test_customer_update_by_id_on_a_shows_on_b_at_once(quiet_pair: Pair) -> None:
    pair = quiet_pair
    customer_id = pair.polar.by_external_id(PERSON)["id"]
    before = _cached_on_b(pair, customer_id)
    assert before["by_id"]["name"] != "Renamed through A"

    pair.a.rename(customer_id, "Renamed through A")
    after = pair.b.customer(customer_id)
    assert after.polar == COLD_CUSTOMER  # the customer and its state, both about it
    assert after.data["customer"] == {**before["by_id"], "name": "Renamed through A"}
    by_external = pair.b.ask(BY_EXTERNAL_ID, {"externalId": PERSON})
    assert by_external.data["customer"] == {**before["by_external_id"], "name": "Renamed through A"}
    assert pair.a.customer(customer_id).data == after.data


def test_customer_update_by_external_id_on_a_shows_on_b_at_once(quiet_pair: Pair) -> None:
    pair = quiet_pair
    customer_id = pair.polar.by_external_id(PERSON)["id"]
    before = _cached_on_b(pair, customer_id)

    written = pair.a.ask(UPDATE_BY_EXTERNAL_ID, {"externalId": PERSON, "name": "Renamed by external id"})
    assert written.data["customerUpdate"] == {
        "customer": {"id": customer_id, "name": "Renamed by external id"},
        "userErrors": [],
    }
    after = pair.b.customer(customer_id)  # the entry by id is about the external id too
    assert after.polar[BY_ID] == 1
    assert after.data["customer"] == {**before["by_id"], "name": "Renamed by external id"}
    by_external = pair.b.ask(BY_EXTERNAL_ID, {"externalId": PERSON})
    assert by_external.data["customer"] == {**before["by_external_id"], "name": "Renamed by external id"}


def test_customer_delete_on_a_shows_on_b_at_once(quiet_pair: Pair) -> None:
    pair = quiet_pair
    customer_id = pair.polar.by_external_id(PERSON)["id"]
    _cached_on_b(pair, customer_id)

    deleted = pair.a.ask(DELETE, {"id": customer_id})
    assert deleted.data["customerDelete"] == {"deletedCustomerId": customer_id, "userErrors": []}
    by_id = pair.b.customer(customer_id)
    assert by_id.polar == {BY_ID: 1}  # Polar's 404
    assert by_id.data == {"customer": None}
    assert pair.b.ask(BY_EXTERNAL_ID, {"externalId": PERSON}).data == {"customer": None}


def test_customer_erase_on_a_shows_on_b_at_once(quiet_pair: Pair) -> None:
    pair = quiet_pair
    customer_id = pair.polar.by_external_id(PERSON)["id"]
    _cached_on_b(pair, customer_id)
    _voucherify_cached_on(pair.b, PERSON)

    erased = pair.a.ask(ERASE, {"externalId": PERSON})
    assert erased.data["customerErase"] == {
        "reports": [{"system": "POLAR", "status": "ERASED"}, {"system": "VOUCHERIFY", "status": "ERASED"}],
        "userErrors": [],
    }
    assert pair.b.customer(customer_id).data == {"customer": None}
    assert pair.b.ask(BY_EXTERNAL_ID, {"externalId": PERSON}).data == {"customer": None}
    loyalty = pair.b.ask(VOUCHERIFY_BY_SOURCE, {"sourceId": PERSON})
    assert loyalty.voucherify == {VF_CUSTOMER: 1}
    assert loyalty.data == {"voucherifyCustomer": None}


def test_customer_loyalty_enroll_on_a_shows_on_b_at_once(quiet_pair: Pair) -> None:
    """The Polar customer renamed in Polar (no webhook comes), then enrolled through A: the upsert carries the new
    name to Voucherify, and B, which had Voucherify's customer cached, reads it anew."""
    pair = quiet_pair
    customer_id = pair.polar.by_external_id(PERSON)["id"]
    before = _voucherify_cached_on(pair.b, PERSON)
    assert before["name"] != "Enrolled anew"
    pair.polar.rename(customer_id, "Enrolled anew")

    enrolled = pair.a.ask(ENROLL, {"externalId": PERSON})
    assert enrolled.data["customerLoyaltyEnroll"] == {
        "voucherifyCustomer": {**before, "name": "Enrolled anew"},
        "userErrors": [],
    }
    after = pair.b.ask(VOUCHERIFY_BY_SOURCE, {"sourceId": PERSON})
    assert after.voucherify == {VF_CUSTOMER: 1}
    assert after.data["voucherifyCustomer"] == {**before, "name": "Enrolled anew"}
