"""Voucherify keys on reads: none, malformed, client-side, another project's, a wrong secret. Refusals are made
before any Voucherify call where the gateway can tell, never quote what was sent, and leave Polar served."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.http.voucherify_keys import APP_ID, APP_TOKEN, CLIENT_ID, CLIENT_TOKEN
from gateway.sandbox.voucherify.seed import (
    DEMO_APP_ID,
    DEMO_APP_TOKEN,
    DEMO_CLIENT_APP_ID,
    DEMO_CLIENT_TOKEN,
    OTHER_APP_ID,
    OTHER_APP_TOKEN,
)
from tests.graphql_client import error_codes
from tests.voucherify.client import CUSTOMER_ROUTE, Headers, VoucherifyGraphQL, sandbox_customer, sandbox_ids

ORIGIN = "http://localhost:5173"
POLAR_SEED = 250


def _every_read(customer: dict[str, Any]) -> str:
    """Every Voucherify read beside a Polar field: each is nullable, so its error leaves the rest served."""
    return (
        f'{{ a: voucherifyCustomer(id: "{customer["id"]}") {{ id }} '
        f'b: voucherifyCustomer(sourceId: "{customer["source_id"]}") {{ id segments {{ id }} }} '
        f'c: voucherifyAsyncAction(id: "aa_0a875d56c805df6601") {{ id }} '
        f"d: voucherifyCustomers(first: 1) {{ totalCount }} "
        f"customers(first: 1) {{ totalCount }} }}"
    )


def _check_refused(vf: VoucherifyGraphQL, customer: dict[str, Any], code: str, secrets: list[str]) -> list[str]:
    """Every Voucherify read refused with ``code`` and no Voucherify call, Polar served; the messages."""
    before = vf.upstream_calls()
    response = vf.post(_every_read(customer))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] == {"a": None, "b": None, "c": None, "d": None, "customers": {"totalCount": POLAR_SEED}}
    assert error_codes(body) == [code] * 4
    assert sorted(error["path"][0] for error in body["errors"]) == ["a", "b", "c", "d"]
    assert vf.calls_since(before) == {}
    for secret in secrets:
        assert secret not in response.text
    return [error["message"] for error in body["errors"]]


def test_without_keys_every_voucherify_read_is_unauthenticated_and_polar_is_served(
    vf: VoucherifyGraphQL, vf_demo: httpx.Client
) -> None:
    customer = sandbox_customer(vf_demo, sandbox_ids(vf_demo)[0])
    messages = _check_refused(vf.with_keys(()), customer, "UNAUTHENTICATED", [])
    assert all(APP_ID in message and APP_TOKEN in message for message in messages)  # says what to send


MALFORMED: list[tuple[str, Headers]] = [
    ("bad characters", ((APP_ID, "vf sandbox app!"), (APP_TOKEN, DEMO_APP_TOKEN))),
    ("a list in one header", ((APP_ID, f"{DEMO_APP_ID}, {OTHER_APP_ID}"), (APP_TOKEN, DEMO_APP_TOKEN))),
    ("id twice", ((APP_ID, DEMO_APP_ID), (APP_ID, OTHER_APP_ID), (APP_TOKEN, DEMO_APP_TOKEN))),
    ("token twice, same value", ((APP_ID, DEMO_APP_ID), (APP_TOKEN, DEMO_APP_TOKEN), (APP_TOKEN, DEMO_APP_TOKEN))),
    ("id alone", ((APP_ID, DEMO_APP_ID),)),
    ("token alone", ((APP_TOKEN, DEMO_APP_TOKEN),)),
    ("token too long", ((APP_ID, DEMO_APP_ID), (APP_TOKEN, "s" * 201))),
    ("empty token", ((APP_ID, DEMO_APP_ID), (APP_TOKEN, ""))),
    ("client keys without an origin", ((CLIENT_ID, DEMO_CLIENT_APP_ID), (CLIENT_TOKEN, DEMO_CLIENT_TOKEN))),
    ("client keys, origin not a web origin",
     ((CLIENT_ID, DEMO_CLIENT_APP_ID), (CLIENT_TOKEN, DEMO_CLIENT_TOKEN), ("Origin", "null"))),
    ("client token alone", ((CLIENT_TOKEN, DEMO_CLIENT_TOKEN), ("Origin", ORIGIN))),
]  # fmt: skip


@pytest.mark.parametrize("keys", [keys for _, keys in MALFORMED], ids=[name for name, _ in MALFORMED])
def test_malformed_or_duplicated_key_headers_are_unauthenticated_without_echo(
    vf: VoucherifyGraphQL, vf_demo: httpx.Client, keys: Headers
) -> None:
    customer = sandbox_customer(vf_demo, sandbox_ids(vf_demo)[0])
    sent = [value for name, value in keys if name != "Origin" and len(value) > 3]
    messages = _check_refused(vf.with_keys(keys), customer, "UNAUTHENTICATED", sent)
    assert all("must each appear once" in message or APP_TOKEN in message for message in messages)


def test_client_keys_with_their_origin_are_forbidden_on_reads(vf: VoucherifyGraphQL, vf_demo: httpx.Client) -> None:
    customer = sandbox_customer(vf_demo, sandbox_ids(vf_demo)[0])
    client_keys = ((CLIENT_ID, DEMO_CLIENT_APP_ID), (CLIENT_TOKEN, DEMO_CLIENT_TOKEN), ("Origin", ORIGIN))
    messages = _check_refused(vf.with_keys(client_keys), customer, "FORBIDDEN", [DEMO_CLIENT_TOKEN])
    assert all("server keys" in message for message in messages)


def test_another_projects_keys_see_none_of_the_first_projects_customers(
    vf: VoucherifyGraphQL, vf_demo: httpx.Client, vf_other: httpx.Client
) -> None:
    other = vf.with_keys(((APP_ID, OTHER_APP_ID), (APP_TOKEN, OTHER_APP_TOKEN)))
    demo_ids = sandbox_ids(vf_demo)
    other_ids = sandbox_ids(vf_other)
    assert other_ids
    assert not set(other_ids) & set(demo_ids)

    listed = other.data("{ voucherifyCustomers(first: 100) { totalCount nodes { id sourceId } } }")
    assert listed["voucherifyCustomers"]["totalCount"] == len(other_ids)
    assert [node["id"] for node in listed["voucherifyCustomers"]["nodes"]] == other_ids

    demo = [sandbox_customer(vf_demo, customer_id) for customer_id in demo_ids[:5]]
    lookups = " ".join(
        f'i{n}: voucherifyCustomer(id: "{c["id"]}") {{ id }} s{n}: voucherifyCustomer(sourceId: "{c["source_id"]}") {{ id }}'
        for n, c in enumerate(demo)
    )
    assert set(other.data(f"{{ {lookups} }}").values()) == {None}
    by_segment = other.data('{ voucherifyCustomers(filter: {segmentId: "seg_LinkedToPolar000000003"}) { totalCount } }')
    assert by_segment["voucherifyCustomers"]["totalCount"] == 0
    # and the demo project's keys, on the same gateway, still see their own
    assert vf.data(f'{{ voucherifyCustomer(id: "{demo_ids[0]}") {{ id }} }}') == {
        "voucherifyCustomer": {"id": demo_ids[0]}
    }
    assert vf.data(f'{{ voucherifyCustomer(id: "{other_ids[0]}") {{ id }} }}') == {"voucherifyCustomer": None}


def test_a_wrong_secret_is_unauthenticated_from_voucherify_and_never_quoted(
    vf: VoucherifyGraphQL, vf_demo: httpx.Client
) -> None:
    secret = "vf_wrong_secret_4d9f2c"
    wrong = vf.with_keys(((APP_ID, DEMO_APP_ID), (APP_TOKEN, secret)))
    ids = sandbox_ids(vf_demo)
    before = vf.upstream_calls()
    lookups = " ".join(
        f'c{n}: voucherifyCustomer(id: "{customer_id}") {{ id }}' for n, customer_id in enumerate(ids[:5])
    )
    response = wrong.post(f"{{ {lookups} customers(first: 1) {{ totalCount }} }}")
    body = response.json()
    assert body["data"] == {**{f"c{n}": None for n in range(5)}, "customers": {"totalCount": POLAR_SEED}}
    assert set(error_codes(body)) == {"UNAUTHENTICATED"}
    # One call finds the keys refused; the other lookups of the request are not sent with them.
    assert vf.calls_since(before) == {CUSTOMER_ROUTE: 1}
    assert secret not in response.text
    assert DEMO_APP_TOKEN not in response.text
    assert all("Voucherify refused the credentials" in error["message"] for error in body["errors"])

    before = vf.upstream_calls()
    listed = wrong.post("{ voucherifyCustomers(first: 3) { totalCount } }")
    assert error_codes(listed.json()) == ["UNAUTHENTICATED"]
    assert vf.calls_since(before) == {"GET /v1/customers": 1}  # a 401 is not retried
    assert secret not in listed.text


def test_another_projects_secret_with_this_projects_id_is_refused(vf: VoucherifyGraphQL, vf_demo: httpx.Client) -> None:
    mixed = vf.with_keys(((APP_ID, DEMO_APP_ID), (APP_TOKEN, OTHER_APP_TOKEN)))
    response = mixed.post(f'{{ voucherifyCustomer(id: "{sandbox_ids(vf_demo)[0]}") {{ id }} }}')
    assert error_codes(response.json()) == ["UNAUTHENTICATED"]
    assert OTHER_APP_TOKEN not in response.text
