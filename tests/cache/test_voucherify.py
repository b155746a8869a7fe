"""Voucherify's customers, cached only with voucherify_cache_ttl_s (``pair`` has 60 s; ``short_lived`` caches Polar
and leaves Voucherify's setting at its default): a repeated lookup costs Voucherify nothing, by source id or by
id, on either instance; another project's keys never hit what the demo project's read; and a Voucherify write
through A shows on B at once (Voucherify sends the gateway no webhooks: writes and the TTL are all there is)."""

from __future__ import annotations

from typing import Any

from gateway.http.voucherify_keys import APP_ID, APP_TOKEN
from gateway.sandbox.voucherify.seed import DEMO_APP_ID, DEMO_APP_TOKEN, OTHER_APP_ID, OTHER_APP_TOKEN
from tests.cache.conftest import Pair
from tests.cache.harness import (
    PERSON,
    VF_CUSTOMER,
    VOUCHERIFY_BY_ID,
    VOUCHERIFY_BY_SOURCE,
    Gateway,
)
from tests.voucherify.client import vf_client

OTHER_KEYS = ((APP_ID, OTHER_APP_ID), (APP_TOKEN, OTHER_APP_TOKEN))
WRONG_TOKEN = ((APP_ID, DEMO_APP_ID), (APP_TOKEN, "not-the-demo-projects-token"))
UPDATE = """mutation LoyalRename($sourceId: String!, $name: String!) {
  voucherifyCustomerUpdate(sourceId: $sourceId, input: {name: $name}) {
    customer { id sourceId name } userErrors { field message code }
  }
}"""
UPSERT = """mutation LoyalUpsert($sourceId: String!, $name: String!) {
  voucherifyCustomerUpsert(input: {sourceId: $sourceId, name: $name}) {
    customer { id sourceId name } userErrors { field message code }
  }
}"""
DELETE = """mutation LoyalDelete($sourceId: String!) {
  voucherifyCustomerDelete(sourceId: $sourceId) { deletedCustomerId userErrors { field message code } }
}"""
PERMANENT_DELETE = """mutation LoyalErase($sourceId: String!) {
  voucherifyCustomerPermanentDelete(sourceId: $sourceId) { userErrors { field message code } }
}"""

BULK_UPDATE = """mutation LoyalBulk($customers: [VoucherifyBulkCustomerInput!]!) {
  voucherifyCustomersBulkUpdate(customers: $customers) { asyncAction { id status } userErrors { field message code } }
}"""
ASYNC_ACTION = "query Action($id: ID!) { voucherifyAsyncAction(id: $id, waitSeconds: 5) { id status } }"


def _by_source(gateway: Gateway, source_id: str = PERSON) -> tuple[dict[str, Any] | None, dict[str, int]]:
    answer = gateway.ask(VOUCHERIFY_BY_SOURCE, {"sourceId": source_id})
    return answer.data["voucherifyCustomer"], answer.voucherify


def _by_id(gateway: Gateway, customer_id: str) -> tuple[dict[str, Any] | None, dict[str, int]]:
    answer = gateway.ask(VOUCHERIFY_BY_ID, {"id": customer_id})
    return answer.data["voucherifyCustomer"], answer.voucherify


def _cached_on_b(pair: Pair) -> dict[str, Any]:
    """B has looked the customer up by source id and serves it, by source id and by id, from the cache."""
    found, cost = _by_source(pair.b)
    assert cost == {VF_CUSTOMER: 1}
    assert found is not None
    assert found["sourceId"] == PERSON
    assert _by_source(pair.b) == (found, {})
    assert _by_id(pair.b, found["id"]) == (found, {})
    return found


def test_a_repeated_lookup_costs_voucherify_nothing_on_either_instance(pair: Pair) -> None:
    found = _cached_on_b(pair)
    assert _by_source(pair.a) == (found, {})
    assert _by_id(pair.a, found["id"]) == (found, {})
    assert pair.a.metric("gateway_cache_hits_total", 'kind="voucherify_customer"') >= 2


def test_other_keys_never_hit(pair: Pair) -> None:
    found = _cached_on_b(pair)
    for gateway in (pair.a, pair.b):
        for query, variables in ((VOUCHERIFY_BY_SOURCE, {"sourceId": PERSON}), (VOUCHERIFY_BY_ID, {"id": found["id"]})):
            other = gateway.ask(query, variables, keys=OTHER_KEYS)
            assert other.voucherify == {VF_CUSTOMER: 1}  # asked, and Voucherify has no such customer for them
            assert other.data == {"voucherifyCustomer": None}
            # The demo project's id with a token that is not its own: Voucherify refuses it, nothing is served.
            wrong = gateway.ask(query, variables, keys=WRONG_TOKEN)
            assert wrong.voucherify == {VF_CUSTOMER: 1}
            assert wrong.body["data"] == {"voucherifyCustomer": None}
            assert wrong.error_codes == ["UNAUTHENTICATED"]


def test_off_by_default(short_lived: Gateway) -> None:
    first, first_cost = _by_source(short_lived)
    second, second_cost = _by_source(short_lived)
    assert first is not None
    assert first == second
    assert first_cost == second_cost == {VF_CUSTOMER: 1}


def test_an_update_on_a_shows_on_b_at_once(pair: Pair) -> None:
    before = _cached_on_b(pair)
    updated = pair.a.ask(UPDATE, {"sourceId": PERSON, "name": "Loyal, renamed through A"})
    assert updated.data["voucherifyCustomerUpdate"] == {
        "customer": {**before, "name": "Loyal, renamed through A"},
        "userErrors": [],
    }
    after, cost = _by_source(pair.b)
    assert after == {**before, "name": "Loyal, renamed through A"}
    assert cost == {VF_CUSTOMER: 1}
    assert _by_id(pair.b, before["id"])[0] == after


def test_an_upsert_on_a_shows_on_b_at_once(pair: Pair) -> None:
    before = _cached_on_b(pair)
    upserted = pair.a.ask(UPSERT, {"sourceId": PERSON, "name": "Loyal, upserted through A"})
    assert upserted.data["voucherifyCustomerUpsert"]["userErrors"] == []
    assert _by_id(pair.b, before["id"])[0] == {**before, "name": "Loyal, upserted through A"}
    assert _by_source(pair.b)[0] == {**before, "name": "Loyal, upserted through A"}


def test_a_delete_on_a_shows_on_b_at_once(pair: Pair) -> None:
    before = _cached_on_b(pair)
    deleted = pair.a.ask(DELETE, {"sourceId": PERSON})
    assert deleted.data["voucherifyCustomerDelete"] == {"deletedCustomerId": before["id"], "userErrors": []}
    assert _by_source(pair.b) == (None, {VF_CUSTOMER: 1})
    assert _by_id(pair.b, before["id"]) == (None, {VF_CUSTOMER: 1})


def test_a_permanent_delete_on_a_shows_on_b_at_once(pair: Pair) -> None:
    before = _cached_on_b(pair)
    erased = pair.a.ask(PERMANENT_DELETE, {"sourceId": PERSON})
    assert erased.data["voucherifyCustomerPermanentDelete"]["userErrors"] == []
    assert _by_source(pair.b) == (None, {VF_CUSTOMER: 1})
    assert _by_id(pair.b, before["id"]) == (None, {VF_CUSTOMER: 1})


def test_a_bulk_update_on_a_shows_on_b_once_it_is_done(pair: Pair) -> None:
    """Voucherify applies a bulk update when its async action is done, after the mutation answered: B, which read
    the customer in between, must show the update once the action is done, not the entry read before it."""
    before = _cached_on_b(pair)
    scheduled = pair.a.ask(BULK_UPDATE, {"customers": [{"sourceId": PERSON, "name": "Loyal, bulk renamed"}]})
    payload = scheduled.data["voucherifyCustomersBulkUpdate"]
    assert payload["userErrors"] == []
    assert _by_source(pair.b) == (before, {VF_CUSTOMER: 1})  # invalidated; not applied yet

    done = pair.a.ask(ASYNC_ACTION, {"id": payload["asyncAction"]["id"]})
    assert done.data["voucherifyAsyncAction"]["status"] == "DONE"
    assert pair.a.voucherify is not None
    with vf_client(pair.a.voucherify, DEMO_APP_ID, DEMO_APP_TOKEN) as voucherify:  # applied, as Voucherify shows
        assert voucherify.get(f"/v1/customers/{before['id']}").json()["name"] == "Loyal, bulk renamed"
    assert _by_source(pair.b)[0] == {**before, "name": "Loyal, bulk renamed"}
