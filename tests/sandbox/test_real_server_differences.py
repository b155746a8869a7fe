"""The sandbox against Polar's real server: one test per row of ``polar-server-differences.md`` (the real
server run locally and compared with the sandbox, 2026-12-01). Each test asserts what the real server answered,
and its docstring names the row."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import string
import zlib
from typing import Any

import httpx
import pytest

from tests.sandbox.helpers import all_pages, customer_with_active_subscription, new_customer
from tests.servers import SandboxProcess

UNKNOWN_ID = "6f1c2a4e-8b7d-4c3e-9f2a-1b2c3d4e5f60"
INSUFFICIENT_SCOPE = (
    b'{"error": "insufficient_scope", '
    b'"error_description": "The request requires higher privileges than provided by the access token."}'
)
INVALID_TOKEN = (
    b'{"error": "invalid_token", "error_description": '
    b'"The access token provided is expired, revoked, malformed, or invalid for other reasons."}'
)


def _details(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "RequestValidationError"
    details: list[dict[str, Any]] = response.json()["detail"]
    return details


def _advance_clock(sandbox: SandboxProcess, seconds: int = 60) -> None:
    with sandbox.control() as control:
        control.post("/__sandbox/clock", json={"advance_seconds": seconds}).raise_for_status()


# Row 1 and 1b ---------------------------------------------------------------------------------


def test_row_1_patch_email_null_keeps_the_email_of_an_individual(demo: httpx.Client, sandbox: SandboxProcess) -> None:
    """Row 1: ``PATCH /v1/customers/{id}`` with ``{"email": null}`` on an individual is a 200; the email is
    unchanged and ``modified_at`` bumped (the update service acts on email only when it is not None). The
    external-id twin does the same."""
    created = new_customer(demo, email="row1.individual@fastmail.com", external_id="row-1")
    renamed = demo.patch(f"/v1/customers/{created['id']}", json={"name": "Row One"}).json()
    _advance_clock(sandbox)
    response = demo.patch(f"/v1/customers/{created['id']}", json={"email": None})
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["email"] == "row1.individual@fastmail.com"
    assert updated["modified_at"] > renamed["modified_at"]
    assert {k: v for k, v in updated.items() if k != "modified_at"} == {
        k: v for k, v in renamed.items() if k != "modified_at"
    }
    by_external = demo.patch("/v1/customers/external/row-1", json={"email": None})
    assert (by_external.status_code, by_external.json()["email"]) == (200, "row1.individual@fastmail.com")
    assert demo.get(f"/v1/customers/{created['id']}").json()["email"] == "row1.individual@fastmail.com"


def test_row_1b_patch_email_null_keeps_the_email_of_a_team(demo: httpx.Client, sandbox: SandboxProcess) -> None:
    """Row 1b: the same ``{"email": null}`` on a team customer is a 200 that keeps the email (the sandbox used
    to clear it)."""
    created = new_customer(demo, type="team", name="Row 1b Team", email="row1b.team@proton.me", external_id="row-1b")
    _advance_clock(sandbox)
    response = demo.patch(f"/v1/customers/{created['id']}", json={"email": None})
    assert response.status_code == 200, response.text
    assert response.json()["email"] == "row1b.team@proton.me"
    assert response.json()["modified_at"] is not None
    assert demo.patch("/v1/customers/external/row-1b", json={"email": None}).json()["email"] == "row1b.team@proton.me"
    assert demo.get(f"/v1/customers/{created['id']}").json()["email"] == "row1b.team@proton.me"


# Rows 2 to 5: create and update validation ----------------------------------------------------


def test_row_2_create_errors_carry_the_union_tag(demo: httpx.Client) -> None:
    """Row 2: every body validation error of ``POST /v1/customers/`` has the union tag after ``body``:
    ``["body","individual","email"]``, ``["body","individual","metadata","nested", ...]``, and ``["body","team",
    ...]`` for a team. ``type``, ``msg`` and ``input`` are as before."""
    individual = _details(demo.post("/v1/customers/", json={"email": "no-at-sign", "metadata": {"nested": {"a": 1}}}))
    email = next(d for d in individual if d["loc"][-1] == "email")
    assert email["loc"] == ["body", "individual", "email"]
    assert (email["type"], email["input"]) == ("value_error", "no-at-sign")
    assert email["msg"].startswith("value is not a valid email address: ")
    nested = [d for d in individual if d is not email]
    assert nested
    assert all(d["loc"][:4] == ["body", "individual", "metadata", "nested"] for d in nested)
    assert {d["input"] == {"a": 1} for d in nested} == {True}
    missing = _details(demo.post("/v1/customers/", json={}))
    assert missing == [
        {"type": "missing", "loc": ["body", "individual", "email"], "msg": "Field required", "input": {}}
    ]
    team = _details(demo.post("/v1/customers/", json={"type": "team", "email": 42, "locale": "english"}))
    assert sorted(d["loc"] for d in team) == [["body", "team", "email"], ["body", "team", "locale"]]
    assert next(d for d in team if d["loc"][-1] == "email")["type"] == "string_type"


def test_row_3_team_without_email_or_owner(demo: httpx.Client) -> None:
    """Row 3: a team with neither email nor owner is refused by ``CustomerTeamCreate``'s model validator, at
    ``["body","team"]``, with the real server's message."""
    body = {"type": "team", "name": "Nobody's Team"}
    assert _details(demo.post("/v1/customers/", json=body)) == [
        {
            "type": "value_error",
            "loc": ["body", "team"],
            "msg": "Value error, An owner with an email address is required when creating a team customer "
            "without an email.",
            "input": body,
            "ctx": {"error": {}},
        }
    ]


def test_row_4_a_team_created_with_an_owner_has_no_avatar(demo: httpx.Client) -> None:
    """Row 4: a team created with an owner ``{email, name}`` and no email of its own has ``avatar_url: null``
    (not the owner's gravatar); a customer with an email keeps the gravatar of that email."""
    team = new_customer(demo, type="team", name="Row 4 Team", owner={"email": "row4.owner@gmail.com", "name": "Owner"})
    assert (team["email"], team["avatar_url"]) == (None, None)
    assert demo.get(f"/v1/customers/{team['id']}").json()["avatar_url"] is None
    with_email = new_customer(demo, type="team", name="Row 4 Mailed", email="Row4.Team@Gmail.com")
    digest = hashlib.sha256(b"row4.team@gmail.com").hexdigest()
    assert with_email["avatar_url"] == f"https://www.gravatar.com/avatar/{digest}?d=404"


def _dns_refusal(loc: list[Any], given: str, email: str, reason: str) -> dict[str, Any]:
    return {
        "type": "value_error",
        "loc": loc,
        "msg": f"{email} is not a valid email address: {reason}",
        "input": given,
        "ctx": {"email": email, "reason": reason},
    }


@pytest.mark.parametrize(
    ("given", "email", "reason"),
    [
        ("dave@example.com", "dave@example.com", "The domain name example.com does not accept email."),
        ("Dave@EXAMPLE.net", "Dave@example.net", "The domain name example.net does not accept email."),
        ("dave@example.org", "dave@example.org", "The domain name example.org does not accept email."),
        ("dave@shop.example", "dave@shop.example", "The domain name shop.example does not exist."),
        ("dave@demo.example.com", "dave@demo.example.com", "The domain name demo.example.com does not exist."),
    ],
)
def test_row_5_undeliverable_domains_are_refused(demo: httpx.Client, given: str, email: str, reason: str) -> None:
    """Row 5: Polar checks that the email's domain accepts mail (``EmailStrDNS``). ``example.com/.net/.org``
    publish a null MX ("does not accept email", as measured); a domain without DNS records gets "does not exist"
    (measured with an unregistered domain; here the reserved ``.example`` names and subdomains of ``example.com``,
    for which no record is published). The same check holds on create, on an owner's email and on update."""
    expected_create = _dns_refusal(["body", "individual", "email"], given, email, reason)
    assert _details(demo.post("/v1/customers/", json={"email": given})) == [expected_create]
    owner = {"type": "team", "name": "Row 5 Team", "owner": {"email": given}}
    assert _details(demo.post("/v1/customers/", json=owner)) == [
        _dns_refusal(["body", "team", "owner", "email"], given, email, reason)
    ]
    team_email = _details(demo.post("/v1/customers/", json={"type": "team", "email": given}))
    assert team_email == [_dns_refusal(["body", "team", "email"], given, email, reason)]
    customer = new_customer(demo, email="row5@outlook.com")
    update = demo.patch(f"/v1/customers/{customer['id']}", json={"email": given})
    assert _details(update) == [_dns_refusal(["body", "email"], given, email, reason)]
    assert demo.get(f"/v1/customers/{customer['id']}").json()["email"] == "row5@outlook.com"
    assert demo.get("/v1/customers/", params={"email": given}).json()["items"] == []


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("dave@shop.test", "The part after the @-sign is a special-use or reserved name that cannot be used with email."),
        ("dave@x.invalid", "The part after the @-sign is a special-use or reserved name that cannot be used with email."),
        ("dave@x.localhost", "The part after the @-sign is a special-use or reserved name that cannot be used with email."),
        ("dave@test", "The part after the @-sign is not valid. It should have a period."),
        ("dave@localhost", "The part after the @-sign is not valid. It should have a period."),
        ("dave@example", "The part after the @-sign is not valid. It should have a period."),
    ],
)  # fmt: skip
def test_row_5_special_use_domains_fail_the_syntax_check(demo: httpx.Client, given: str, reason: str) -> None:
    """Row 5: the special-use names (``.test``, ``.invalid``, ``.localhost``) and dotless domains never reach the
    DNS check: email-validator's syntax check, which pydantic's ``EmailStr`` runs first on the real server,
    refuses them, with pydantic's message."""
    expected = {
        "type": "value_error",
        "loc": ["body", "individual", "email"],
        "msg": f"value is not a valid email address: {reason}",
        "input": given,
        "ctx": {"reason": reason},
    }
    assert _details(demo.post("/v1/customers/", json={"email": given})) == [expected]


# Row 6: metadata order ------------------------------------------------------------------------


def test_row_6_metadata_comes_back_in_jsonb_key_order(demo: httpx.Client) -> None:
    """Row 6: metadata is stored as PostgreSQL ``jsonb``, which orders keys shorter first (length in bytes),
    then bytewise: ``{"plan","seats","vip"}`` comes back as ``{"vip","plan","seats"}``, in the JSON answers and
    in the CSV export's ``Metadata`` column."""
    metadata = {"plan": "pro", "seats": 3, "vip": True, "éé": 1, "abc": 2}
    created = new_customer(demo, email="row6@fastmail.com", metadata=metadata)
    expected = ["abc", "vip", "plan", "éé", "seats"]  # "éé" is 4 bytes long, and 0xC3 sorts after "p"
    assert list(created["metadata"]) == expected
    assert list(demo.get(f"/v1/customers/{created['id']}").json()["metadata"]) == expected
    listed = demo.get("/v1/customers/", params={"email": "row6@fastmail.com"}).json()["items"][0]
    assert list(listed["metadata"]) == expected
    updated = demo.patch(f"/v1/customers/{created['id']}", json={"metadata": {"seats": 1, "plan": "x", "vip": 0}})
    assert list(updated.json()["metadata"]) == ["vip", "plan", "seats"]
    rows = csv.DictReader(io.StringIO(demo.get("/v1/customers/export").text))
    row = next(r for r in rows if r["ID"] == created["id"])
    assert row["Metadata"] == '{"vip": 0, "plan": "x", "seats": 1}'
    assert list(json.loads(row["Metadata"])) == ["vip", "plan", "seats"]


# Rows 7 to 11: HTTP behaviour -----------------------------------------------------------------


def test_row_7_api_v1_paths_are_rewritten_to_v1(demo: httpx.Client) -> None:
    """Row 7: ``GET /api/v1/customers/?limit=1`` is a 200: a middleware rewrites ``/api/v1`` to ``/v1``."""
    rewritten = demo.get("/api/v1/customers/", params={"limit": 1})
    assert rewritten.status_code == 200
    assert rewritten.json() == demo.get("/v1/customers/", params={"limit": 1}).json()
    customer = rewritten.json()["items"][0]
    assert demo.get(f"/api/v1/customers/{customer['id']}").json() == customer


@pytest.mark.parametrize("version", ["1999-01", "latest"])
def test_row_8_an_unknown_version_is_a_bare_404(demo: httpx.Client, version: str) -> None:
    """Row 8: an unknown or malformed ``Polar-Version`` is a 404 ``{"detail":"Not Found"}`` with neither a
    ``polar-version`` nor a ``cache-control`` header."""
    response = demo.get("/v1/customers/", headers={"Polar-Version": version})
    assert (response.status_code, response.content) == (404, b'{"detail":"Not Found"}')
    assert response.headers["content-type"] == "application/json"
    assert "polar-version" not in response.headers
    assert "cache-control" not in response.headers


def test_row_9_insufficient_scope_is_spaced_and_not_cached(demo_read: httpx.Client) -> None:
    """Row 9: a 403 ``insufficient_scope`` carries ``cache-control: no-store`` and ``pragma: no-cache``, and its
    body has a space after ``:`` and ``,`` (authlib writes it with ``json.dumps``)."""
    for response in (demo_read.get("/v1/subscriptions/"), demo_read.post("/v1/customers/", json={})):
        assert (response.status_code, response.content) == (403, INSUFFICIENT_SCOPE)
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["pragma"] == "no-cache"
        assert response.headers["content-type"] == "application/json"


def test_row_10_invalid_token_is_spaced(sandbox: SandboxProcess, anonymous: httpx.Client) -> None:
    """Row 10: a 401 ``invalid_token`` keeps its headers and has the spaced body of row 9; the plain 401
    ``Unauthorized`` (no token) stays compact, as the real server's matched."""
    response = httpx.get(f"{sandbox.url}/v1/customers/", headers={"Authorization": "Bearer polar_oat_unknown"})
    assert (response.status_code, response.content) == (401, INVALID_TOKEN)
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    assert response.headers["www-authenticate"].startswith('Bearer realm="polar", error="invalid_token"')
    plain = anonymous.get("/v1/customers/")
    assert (plain.status_code, plain.content) == (401, b'{"error":"Unauthorized","detail":"Unauthorized"}')


def test_row_11_delete_is_a_204_with_a_json_content_type(demo: httpx.Client) -> None:
    """Row 11: ``DELETE`` answers 204 with ``content-type: application/json`` and an empty body, by id, by
    external id and with ``?anonymize=true``."""
    by_id = new_customer(demo, email="row11.a@fastmail.com")
    new_customer(demo, email="row11.b@fastmail.com", external_id="row-11")
    anonymized = new_customer(demo, email="row11.c@fastmail.com")
    for response in (
        demo.delete(f"/v1/customers/{by_id['id']}"),
        demo.delete("/v1/customers/external/row-11"),
        demo.delete(f"/v1/customers/{anonymized['id']}", params={"anonymize": "true"}),
    ):
        assert (response.status_code, response.content) == (204, b"")
        assert response.headers["content-type"] == "application/json"


# Rows 12 to 14: subscription and state shapes ------------------------------------------------


@pytest.mark.parametrize("version", ["2026-04", "2026-10"])
def test_row_12_subscriptions_carry_the_deprecated_fields(demo: httpx.Client, version: str) -> None:
    """Row 12: subscriptions of ``GET /v1/subscriptions/`` also carry the deprecated ``price``, ``price_id``,
    ``user`` and ``user_id``, absent from the published OpenAPI (``SkipJsonSchema``): the first price, its id,
    and the customer as a legacy user."""
    subscriptions = demo.get("/v1/subscriptions/", params={"limit": 100}, headers={"Polar-Version": version}).json()
    assert subscriptions["items"]
    for item in subscriptions["items"]:
        assert item["price"] == item["prices"][0]
        assert item["price_id"] == item["prices"][0]["id"]
        assert item["user_id"] == item["customer_id"]
        customer = item["customer"]
        public_name = (customer["name"] or customer["email"] or "?")[0]
        assert item["user"] == {
            "id": customer["id"],
            "email": customer["email"],
            "public_name": public_name,
            "avatar_url": None,
            "github_username": None,
        }


def test_row_13_state_subscriptions_have_a_price_id_and_no_seats_or_units(demo: httpx.Client) -> None:
    """Row 13: ``/v1/customers/{id}/state`` ``active_subscriptions[]`` have no ``seats`` and no ``units`` (as the
    OpenAPI ``CustomerStateSubscription``), and do have the hidden ``price_id``."""
    state = customer_with_active_subscription(demo)
    listed = {
        s["id"]: s
        for s in all_pages(demo, "/v1/subscriptions/", [("customer_id", state["id"])])
    }  # fmt: skip
    for subscription in state["active_subscriptions"]:
        assert "seats" not in subscription
        assert "units" not in subscription
        assert subscription["price_id"] == listed[subscription["id"]]["prices"][0]["id"]


def test_row_14_subscription_products_have_no_is_deletable(demo: httpx.Client) -> None:
    """Row 14: ``subscription.product`` has no ``is_deletable``."""
    items = demo.get("/v1/subscriptions/", params={"limit": 100}).json()["items"]
    assert items
    assert all("is_deletable" not in item["product"] for item in items)


# Row 15: ties ----------------------------------------------------------------------------------


def _ties_in_creation_order(items: list[dict[str, Any]], key: str) -> None:
    groups: dict[Any, list[str]] = {}
    for item in items:
        groups.setdefault(item[key], []).append(item["created_at"])
    tied = [created for created in groups.values() if len(created) > 1]
    assert tied, f"no ties on {key}"
    for created in tied:
        assert created == sorted(created), key


@pytest.mark.parametrize("sorting", ["-name", "name", "-email", "email"])
def test_row_15_ties_come_in_creation_order(demo: httpx.Client, sorting: str) -> None:
    """Row 15: rows that tie on the sort (``sorting=-name`` with many null names) come in creation (insertion)
    order, with no ``id`` tie-breaker, for a descending sort as for an ascending one."""
    for number in range(4):
        new_customer(demo, type="team", owner={"email": f"row15.owner.{number}@proton.me"}, name=None)
        new_customer(demo, email=f"row15.{number}@proton.me", name="Ada Lovelace")
    customers = all_pages(demo, "/v1/customers/", [("sorting", sorting)])
    key = sorting.lstrip("-")
    _ties_in_creation_order(customers, key)
    nulls = [c for c in customers if c[key] is None]
    ends = customers[: len(nulls)] if sorting.startswith("-") else customers[-len(nulls) :]
    assert ends == nulls  # NULLS FIRST descending, NULLS LAST ascending


def test_row_15_ties_in_the_batch_lists_keep_creation_order(demo: httpx.Client) -> None:
    """Row 15, for the lists a state is rebuilt from: subscriptions tied on ``amount`` come in the order they
    were created, which in the seed is the order of their customers."""
    created_at = {c["id"]: c["created_at"] for c in all_pages(demo, "/v1/customers/")}
    for sorting in ("amount", "-amount"):
        subscriptions = all_pages(demo, "/v1/subscriptions/", [("sorting", sorting)])
        by_amount: dict[int, list[str]] = {}
        for s in subscriptions:
            by_amount.setdefault(s["amount"], []).append(created_at[s["customer_id"]])
        assert any(len(group) > 1 for group in by_amount.values())
        assert all(group == sorted(group) for group in by_amount.values()), sorting


# Row 16: session tokens ----------------------------------------------------------------------

_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def _base62(number: int) -> str:
    digits = ""
    while number:
        number, remainder = divmod(number, 62)
        digits = _BASE62[remainder] + digits
    return digits.rjust(6, "0")


def test_row_16_session_tokens_end_with_a_crc32_checksum(demo: httpx.Client) -> None:
    """Row 16: a customer session token is ``polar_cst_`` and 43 letters and digits: 37 random, then the CRC32
    of those 37 in base 62 (``0-9A-Za-z``), zero-padded to 6 (Polar's ``kit.crypto.generate_token``)."""
    customer = demo.get("/v1/customers/", params={"limit": 1}).json()["items"][0]
    tokens = {
        demo.post("/v1/customer-sessions/", json={"customer_id": customer["id"]}).json()["token"] for _ in range(5)
    }
    assert len(tokens) == 5
    for token in tokens:
        assert re.fullmatch(r"polar_cst_[A-Za-z0-9]{43}", token), token
        random_part, checksum = token[10:47], token[47:]
        assert checksum == _base62(zlib.crc32(random_part.encode()) & 0xFFFFFFFF)
        portal = demo.get("/v1/customer-portal/orders/", headers={"Authorization": f"Bearer {token}"})
        assert portal.status_code == 200


# Row 17: UUID messages -------------------------------------------------------------------------


def test_row_17_uuid_character_error_as_pydantic_core_2_13(demo: httpx.Client) -> None:
    """Row 17: ``GET /v1/customers/not-a-uuid`` says "Input should be a valid UUID, invalid character: found `n`
    at 1", the text of the pydantic-core that Polar pins (pydantic 2.13.x)."""
    reason = "invalid character: found `n` at 1"
    assert _details(demo.get("/v1/customers/not-a-uuid")) == [
        {
            "type": "uuid_parsing",
            "loc": ["path", "id"],
            "msg": f"Input should be a valid UUID, {reason}",
            "input": "not-a-uuid",
            "ctx": {"error": reason},
        }
    ]
