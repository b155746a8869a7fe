"""customerErase: one person out of both systems (Polar: deleted with anonymize; Voucherify: permanently
deleted, with its report), checked in both sandboxes; refused before any call without both credentials;
never one system alone because the other could not be asked; and a partial erasure finished by a rerun."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from gateway.http.voucherify_keys import APP_ID, APP_TOKEN, CLIENT_ID, CLIENT_TOKEN
from gateway.sandbox.seed import DEMO_READ_TOKEN
from gateway.sandbox.voucherify.seed import DEMO_CLIENT_APP_ID, DEMO_CLIENT_TOKEN
from tests.graphql_client import error_codes
from tests.join.client import (
    POLAR_BY_EXTERNAL_ID,
    POLAR_DELETE,
    VF_CUSTOMER,
    VF_PERMANENT_DELETION,
    BothGraphQL,
    Calls,
    polar_by_external_id,
    set_faults,
    vf_by_key,
    vf_customers,
)
from tests.join.conftest import RETRIES
from tests.servers import SandboxProcess

ERASE = """mutation($externalId: String!) {
  customerErase(externalId: $externalId) {
    reports { system status detail deletion { relatedObjectId status counts { events customerEvents dailyEvents segments orders orderEvents customer } } }
    userErrors { field message code }
  }
}"""
PERSON = "usr_demo_00008"  # in both systems, with two active subscriptions in Polar
ORIGIN = "http://localhost:5173"
FINISH = "Run customerErase again to finish."


def _erase(client: BothGraphQL, external_id: str = PERSON) -> dict[str, dict[str, Any]]:
    payload = client.data(ERASE, {"externalId": external_id})["customerErase"]
    assert payload["userErrors"] == []
    assert [report["system"] for report in payload["reports"]] == ["POLAR", "VOUCHERIFY"]
    return {report["system"]: report for report in payload["reports"]}


def _statuses(reports: dict[str, dict[str, Any]]) -> tuple[str, str]:
    return reports["POLAR"]["status"], reports["VOUCHERIFY"]["status"]


def _expected_deletion(vf: httpx.Client, customer: dict[str, Any]) -> dict[str, Any]:
    """The counts Voucherify's report must give for this customer, read from the sandbox beforehand."""
    events = vf.get(f"/v1/customers/{customer['id']}/activity", params={"limit": 100}).json()["data"]
    segments = vf.get(f"/v1/customers/{customer['id']}/segments").json()["data"]
    orders = customer["summary"]["orders"]["total_count"]
    return {
        "relatedObjectId": customer["id"], "status": "DONE",
        "counts": {"events": len(events), "customerEvents": len(events), "dailyEvents": 0, "segments": len(segments),
                   "orders": orders, "orderEvents": orders, "customer": 1},
    }  # fmt: skip


def _gone_from_polar(polar: httpx.Client, sandbox: SandboxProcess, before: dict[str, Any]) -> None:
    """Deleted with anonymize, as the Polar sandbox shows it: neither its id nor its external id finds it, no
    list holds it, its email and external id are free again, and the DELETE asked for anonymize."""
    assert polar.get(f"/v1/customers/{before['id']}").status_code == 404
    assert polar_by_external_id(polar, PERSON).status_code == 404
    listed = polar.get("/v1/customers/", params={"query": before["email"]}).json()
    assert listed["items"] == []
    subscriptions = polar.get("/v1/subscriptions/", params={"customer_id": before["id"]}).json()
    assert subscriptions["items"] == []
    with sandbox.control() as control:
        timeline = control.get("/__sandbox/timeline").json()["requests"]
    [delete] = [request for request in timeline if request["route"] == POLAR_DELETE]
    target = urllib.parse.urlsplit(delete["target"])
    assert target.path == f"/v1/customers/{before['id']}"
    assert urllib.parse.parse_qs(target.query) == {"anonymize": ["true"]}
    again = polar.post("/v1/customers/", json={"email": before["email"], "external_id": PERSON})
    assert again.status_code == 201, again.text  # both freed


def test_a_person_is_erased_from_both_systems(
    both: BothGraphQL, polar: httpx.Client, vf_demo: httpx.Client, sandbox: SandboxProcess
) -> None:
    polar_customer = polar_by_external_id(polar, PERSON).json()
    active = polar.get("/v1/subscriptions/", params={"customer_id": polar_customer["id"], "active": "true"}).json()
    assert len(active["items"]) == 2
    vf_customer = vf_by_key(vf_demo, PERSON).json()
    deletion = _expected_deletion(vf_demo, vf_customer)
    assert deletion["counts"]["segments"] > 0
    vf_total = len(vf_customers(vf_demo))
    before = both.calls()
    reports = _erase(both)
    assert both.calls_since_both(before) == Calls(
        {POLAR_BY_EXTERNAL_ID: 1, POLAR_DELETE: 1}, {VF_CUSTOMER: 1, VF_PERMANENT_DELETION: 1}
    )
    assert _statuses(reports) == ("ERASED", "ERASED")
    assert reports["POLAR"]["deletion"] is None
    assert reports["VOUCHERIFY"]["deletion"] == deletion
    assert "anonymize" in reports["POLAR"]["detail"]
    _gone_from_polar(polar, sandbox, polar_customer)
    assert vf_by_key(vf_demo, PERSON).status_code == 404
    assert vf_by_key(vf_demo, vf_customer["id"]).status_code == 404
    assert len(vf_customers(vf_demo)) == vf_total - 1


def test_erasing_again_finds_nothing_in_either(both: BothGraphQL) -> None:
    _erase(both)
    before = both.calls()
    assert _statuses(_erase(both)) == ("NOT_FOUND", "NOT_FOUND")
    assert both.calls_since_both(before) == Calls({POLAR_BY_EXTERNAL_ID: 1}, {VF_CUSTOMER: 1})


@pytest.mark.parametrize(("external_id", "statuses", "calls"), [
    ("usr_demo_00248", ("ERASED", "NOT_FOUND"),
     Calls({POLAR_BY_EXTERNAL_ID: 1, POLAR_DELETE: 1}, {VF_CUSTOMER: 1})),
    ("crm_00001", ("NOT_FOUND", "ERASED"),
     Calls({POLAR_BY_EXTERNAL_ID: 1}, {VF_CUSTOMER: 1, VF_PERMANENT_DELETION: 1})),
    ("usr_nobody", ("NOT_FOUND", "NOT_FOUND"), Calls({POLAR_BY_EXTERNAL_ID: 1}, {VF_CUSTOMER: 1})),
], ids=["polar only", "voucherify only", "nowhere"])  # fmt: skip
def test_a_person_in_one_system_only(
    both: BothGraphQL, external_id: str, statuses: tuple[str, str], calls: Calls
) -> None:
    before = both.calls()
    reports = _erase(both, external_id)
    assert _statuses(reports) == statuses
    assert both.calls_since_both(before) == calls
    for report in reports.values():
        assert (report["deletion"] is not None) == (report["system"] == "VOUCHERIFY" and report["status"] == "ERASED")


# Refused before any call --------------------------------------------------------------------------------


@pytest.mark.parametrize(("missing", "code"), [
    ("no Voucherify keys", "UNAUTHENTICATED"), ("no Polar token", "UNAUTHENTICATED"), ("neither", "UNAUTHENTICATED"),
    ("Voucherify client keys", "FORBIDDEN"), ("a customer session token", "FORBIDDEN"),
])  # fmt: skip
def test_without_both_credentials_nothing_is_called(
    both: BothGraphQL, polar: httpx.Client, vf_demo: httpx.Client, missing: str, code: str
) -> None:
    clients: dict[str, Callable[[], BothGraphQL]] = {
        "no Voucherify keys": lambda: both.with_keys(()),
        "no Polar token": both.without_token,
        "neither": lambda: both.without_token().with_keys(()),
        "Voucherify client keys": lambda: both.with_keys(
            ((CLIENT_ID, DEMO_CLIENT_APP_ID), (CLIENT_TOKEN, DEMO_CLIENT_TOKEN), ("Origin", ORIGIN))),
        "a customer session token": lambda: BothGraphQL(
            both.url, _session_token(polar), both.sandbox, both.voucherify, http=both.http),
    }  # fmt: skip
    client = clients[missing]()
    before = both.calls()
    body = client.execute(ERASE, {"externalId": PERSON})
    assert both.calls_since_both(before).none  # zero calls on both sandboxes
    assert body["data"] is None
    assert error_codes(body) == [code]
    assert polar_by_external_id(polar, PERSON).status_code == 200
    assert vf_by_key(vf_demo, PERSON).status_code == 200


def _session_token(polar: httpx.Client) -> str:
    session = polar.post("/v1/customer-sessions/", json={"external_customer_id": PERSON})
    assert session.status_code == 201, session.text
    token: str = session.json()["token"]
    return token


def test_an_empty_external_id_is_refused_before_any_call(both: BothGraphQL) -> None:
    before = both.calls()
    assert error_codes(both.execute(ERASE, {"externalId": ""})) == ["BAD_USER_INPUT"]
    assert both.calls_since_both(before).none


# Never one system alone because the other could not be asked -------------------------------------------


def test_keys_voucherify_refuses_erase_nothing(both: BothGraphQL, polar: httpx.Client, vf_demo: httpx.Client) -> None:
    """Made-up keys pass the check for keys; Voucherify refuses them when it is asked for the person, before
    anything is erased: Polar's customer stays. (Both were asked at once and Polar's erased before.)"""
    made_up = both.with_keys(((APP_ID, "vf_made_up"), (APP_TOKEN, "vf_made_up")))
    before = both.calls()
    reports = _erase(made_up)
    assert _statuses(reports) == ("FAILED", "FAILED")
    assert reports["POLAR"]["detail"] == f"Not erased: Voucherify could not be asked. {FINISH}"
    assert reports["VOUCHERIFY"]["detail"].endswith(FINISH)
    assert both.calls_since_both(before) == Calls({POLAR_BY_EXTERNAL_ID: 1}, {VF_CUSTOMER: 1})
    assert polar_by_external_id(polar, PERSON).status_code == 200
    assert _statuses(_erase(both)) == ("ERASED", "ERASED")  # with the right keys, the job is done


def test_a_polar_that_is_down_erases_nothing_from_voucherify(
    hasty: BothGraphQL, sandbox: SandboxProcess, vf_demo: httpx.Client
) -> None:
    set_faults(sandbox, error_rate=1.0, error_status=503)
    before = hasty.calls()
    reports = _erase(hasty)
    assert _statuses(reports) == ("FAILED", "FAILED")
    assert reports["VOUCHERIFY"]["detail"] == f"Not erased: Polar could not be asked. {FINISH}"
    assert hasty.calls_since_both(before) == Calls({POLAR_BY_EXTERNAL_ID: RETRIES}, {VF_CUSTOMER: 1})
    assert vf_by_key(vf_demo, PERSON).status_code == 200
    set_faults(sandbox)
    assert _statuses(_erase(hasty)) == ("ERASED", "ERASED")


# Interrupted, then finished -----------------------------------------------------------------------------


def test_an_erasure_interrupted_in_voucherify_is_finished_by_running_it_again(
    hasty: BothGraphQL, voucherify: SandboxProcess, polar: httpx.Client, vf_demo: httpx.Client
) -> None:
    vf_customer = vf_by_key(vf_demo, PERSON).json()
    deletion = _expected_deletion(vf_demo, vf_customer)
    set_faults(voucherify, error_rate=1.0, error_status=503, methods=["POST"])  # the lookup passes, the deletion not
    before = hasty.calls()
    first = _erase(hasty)
    assert _statuses(first) == ("ERASED", "FAILED")
    assert first["VOUCHERIFY"]["detail"] == f"Voucherify is unavailable. {FINISH}"
    assert first["VOUCHERIFY"]["deletion"] is None
    # A permanent deletion is never sent twice by the gateway itself.
    assert hasty.calls_since_both(before) == Calls(
        {POLAR_BY_EXTERNAL_ID: 1, POLAR_DELETE: 1}, {VF_CUSTOMER: 1, VF_PERMANENT_DELETION: 1}
    )
    assert polar_by_external_id(polar, PERSON).status_code == 404
    assert vf_by_key(vf_demo, PERSON).status_code == 200  # still there

    set_faults(voucherify)
    before = hasty.calls()
    second = _erase(hasty)
    assert _statuses(second) == ("NOT_FOUND", "ERASED")
    assert second["VOUCHERIFY"]["deletion"] == deletion
    assert hasty.calls_since_both(before) == Calls(
        {POLAR_BY_EXTERNAL_ID: 1}, {VF_CUSTOMER: 1, VF_PERMANENT_DELETION: 1}
    )
    assert vf_by_key(vf_demo, PERSON).status_code == 404
    assert _statuses(_erase(hasty)) == ("NOT_FOUND", "NOT_FOUND")


def test_an_erasure_interrupted_in_polar_is_finished_by_running_it_again(
    hasty: BothGraphQL, sandbox: SandboxProcess, polar: httpx.Client, vf_demo: httpx.Client
) -> None:
    polar_customer = polar_by_external_id(polar, PERSON).json()
    set_faults(sandbox, error_rate=1.0, error_status=503, methods=["DELETE"])
    before = hasty.calls()
    first = _erase(hasty)
    assert _statuses(first) == ("FAILED", "ERASED")
    assert first["POLAR"]["detail"] == f"Polar is unavailable. {FINISH}"
    # Polar's delete is safe to repeat, so the gateway tried it RETRIES times.
    assert hasty.calls_since_both(before) == Calls(
        {POLAR_BY_EXTERNAL_ID: 1, POLAR_DELETE: RETRIES}, {VF_CUSTOMER: 1, VF_PERMANENT_DELETION: 1}
    )
    assert polar.get(f"/v1/customers/{polar_customer['id']}").status_code == 200

    set_faults(sandbox)
    assert _statuses(_erase(hasty)) == ("ERASED", "NOT_FOUND")
    assert polar.get(f"/v1/customers/{polar_customer['id']}").status_code == 404


def test_a_token_without_the_write_scope_fails_in_polar_and_a_rerun_with_one_finishes(
    both: BothGraphQL, polar: httpx.Client, vf_demo: httpx.Client
) -> None:
    """A read-only token finds the person (both systems answered), so the erasure goes ahead: Polar refuses
    the delete (FAILED, FORBIDDEN's text) while Voucherify's is done; a token with the scope finishes it."""
    read_only = BothGraphQL(both.url, DEMO_READ_TOKEN, both.sandbox, both.voucherify, http=both.http)
    first = _erase(read_only)
    assert _statuses(first) == ("FAILED", "ERASED")
    assert first["POLAR"]["detail"].endswith(FINISH)
    assert polar_by_external_id(polar, PERSON).status_code == 200
    assert _statuses(_erase(both)) == ("ERASED", "NOT_FOUND")
