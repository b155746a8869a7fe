"""voucherifyCustomerConsentsUpdate with server keys (``/v1``) and client keys with their Origin (``/client/v1``,
no secret): the route each takes upstream, refusals before any call, and Voucherify's own refusals.

The consents are kept by the sandbox but appear in no customer answer (upstream's customer object never had
them), so what a call did is seen in the route it reached and in its answer."""

from __future__ import annotations

from typing import Any

from tests.voucherify_writes.client import CLIENT_KEYS, Upstream, VoucherifyGraphQL, codes

CONSENTS = """mutation($id: ID, $sourceId: String, $consents: [VoucherifyConsentInput!], $unsubscribed: Boolean! = false) {
  voucherifyCustomerConsentsUpdate(id: $id, sourceId: $sourceId, consents: $consents, unsubscribed: $unsubscribed) {
    updated userErrors { field message code } } }"""
LOOKUP = "GET /v1/customers/{customer_id}"
SERVER_ROUTE = "PUT /v1/customers/{customer_id}/consents"
CLIENT_ROUTE = "PUT /client/v1/customers/{customer_id}/consents"
GRANTS = [
    {"id": "cnst_NewsletterEmail000000001", "granted": True},
    {"id": "cnst_SmsOffers0000000000002", "granted": False},
]


def consents(vf: VoucherifyGraphQL, variables: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = vf.data(CONSENTS, variables, headers)["voucherifyCustomerConsentsUpdate"]
    return payload


def test_server_keys_update_consents_by_id(vf: VoucherifyGraphQL, upstream: Upstream) -> None:
    seeded = upstream.first_customers(1)[0]
    before = vf.calls()
    assert consents(vf, {"id": seeded["id"], "consents": GRANTS}) == {"updated": True, "userErrors": []}
    assert vf.calls_since(before) == {LOOKUP: 1, SERVER_ROUTE: 1}  # found by exactly its id, then written


def test_server_keys_unsubscribe_by_source_id(vf: VoucherifyGraphQL, upstream: Upstream) -> None:
    seeded = upstream.first_customers(2)[1]
    before = vf.calls()
    assert consents(vf, {"sourceId": seeded["source_id"], "unsubscribed": True}) == {"updated": True, "userErrors": []}
    assert vf.calls_since(before) == {LOOKUP: 1, SERVER_ROUTE: 1}


def test_client_keys_from_an_allowed_origin_go_to_the_client_api(
    vf_client_keys: VoucherifyGraphQL, upstream: Upstream
) -> None:
    seeded = upstream.first_customers(1)[0]
    before = vf_client_keys.calls()
    payload = consents(vf_client_keys, {"id": seeded["id"], "consents": GRANTS, "unsubscribed": True})
    assert payload == {"updated": True, "userErrors": []}
    assert vf_client_keys.calls_since(before) == {CLIENT_ROUTE: 1}  # and nothing on the server-side API


def test_client_keys_from_a_disallowed_origin_are_refused_by_voucherify(
    vf_client_keys: VoucherifyGraphQL, upstream: Upstream
) -> None:
    seeded = upstream.first_customers(1)[0]
    before = vf_client_keys.calls()
    headers = {**CLIENT_KEYS, "Origin": "https://evil.example"}
    body = vf_client_keys.execute(CONSENTS, {"id": seeded["id"], "consents": GRANTS}, headers)
    assert codes(body) == ["UNAUTHENTICATED"]
    assert body["data"] is None
    assert "Voucherify refused the credentials" in body["errors"][0]["message"]
    assert vf_client_keys.calls_since(before) == {CLIENT_ROUTE: 1}


def test_client_keys_without_an_origin_are_refused_before_any_call(
    vf_client_keys: VoucherifyGraphQL, upstream: Upstream
) -> None:
    seeded = upstream.first_customers(1)[0]
    before = vf_client_keys.calls()
    headers = {name: value for name, value in CLIENT_KEYS.items() if name != "Origin"}
    body = vf_client_keys.execute(CONSENTS, {"id": seeded["id"], "consents": GRANTS}, headers)
    assert codes(body) == ["UNAUTHENTICATED"]
    assert vf_client_keys.calls_since(before) == {}


def test_nothing_to_change_is_a_user_error_without_a_call(vf: VoucherifyGraphQL, upstream: Upstream) -> None:
    seeded = upstream.first_customers(1)[0]
    before = vf.calls()
    for variables in ({"id": seeded["id"]}, {"id": seeded["id"], "consents": []},
                      {"id": seeded["id"], "consents": [], "unsubscribed": False}):  # fmt: skip
        payload = consents(vf, variables)
        assert payload["updated"] is False
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["consents"], "REQUIRED")]
    assert vf.calls_since(before) == {}


def test_a_consent_id_of_another_kind_is_a_user_error_without_a_call(
    vf: VoucherifyGraphQL, vf_client_keys: VoucherifyGraphQL, upstream: Upstream
) -> None:
    seeded = upstream.first_customers(1)[0]
    bad = [GRANTS[0], {"id": "unsubscribed", "granted": True}, {"id": "newsletter", "granted": False}]
    before = vf.calls()
    for client in (vf, vf_client_keys):
        payload = consents(client, {"id": seeded["id"], "consents": bad})
        assert payload["updated"] is False
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
            (["consents", "1", "id"], "INVALID"), (["consents", "2", "id"], "INVALID")]  # fmt: skip
    assert vf.calls_since(before) == {}


def test_an_unknown_customer_is_a_not_found_user_error(vf: VoucherifyGraphQL,
                                                       vf_client_keys: VoucherifyGraphQL) -> None:  # fmt: skip
    before = vf.calls()
    by_id = consents(vf, {"id": "cust_NoSuchCustomer0000000000", "consents": GRANTS})
    assert by_id == {"updated": False, "userErrors": [
        {"field": ["id"], "message": "No Voucherify customer matches.", "code": "NOT_FOUND"}]}  # fmt: skip
    by_source = consents(vf_client_keys, {"sourceId": "crm_nobody", "unsubscribed": True})
    assert by_source["updated"] is False
    assert [(e["field"], e["code"]) for e in by_source["userErrors"]] == [(["sourceId"], "NOT_FOUND")]
    # Server keys: the lookup finds none and nothing is written; client keys (which read nothing): the 404.
    assert vf.calls_since(before) == {LOOKUP: 1, CLIENT_ROUTE: 1}


def test_too_many_consents_are_refused_without_a_call(vf: VoucherifyGraphQL, upstream: Upstream) -> None:
    seeded = upstream.first_customers(1)[0]
    many = [{"id": f"cnst_Consent{index:016d}", "granted": True} for index in range(101)]  # max_bulk_customers + 1
    before = vf.calls()
    payload = consents(vf, {"id": seeded["id"], "consents": many})
    assert payload["updated"] is False
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["consents"], "TOO_MANY")]
    assert vf.calls_since(before) == {}
