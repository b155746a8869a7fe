"""Every kind of answer the sandbox gives, success and error, against Polar's OpenAPI document."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from tests.sandbox.helpers import all_pages, customer_with_active_subscription, new_customer
from tests.sandbox.openapi import CONTRACTS, SHARED_CONTRACTS, validate

UNKNOWN_ID = "6f1c2a4e-8b7d-4c3e-9f2a-1b2c3d4e5f60"


def test_the_vendored_contracts_are_the_ones_recorded_and_the_shared_ones_when_present() -> None:
    """``docs/upstream/`` holds the contracts the sandbox is built to, each pinned in ``SHA256SUMS`` (a changed
    copy must be re-pinned on purpose); beside the team's shared folder, they must also equal it."""
    pinned = dict(line.split()[::-1] for line in (CONTRACTS / "SHA256SUMS").read_text().splitlines())
    vendored = {path.name for path in CONTRACTS.iterdir() if path.name != "SHA256SUMS"}
    assert vendored == set(pinned)
    for name, digest in pinned.items():
        assert hashlib.sha256((CONTRACTS / name).read_bytes()).hexdigest() == digest, name
        shared = SHARED_CONTRACTS / name
        if SHARED_CONTRACTS.is_dir():
            assert shared.read_bytes() == (CONTRACTS / name).read_bytes(), f"{name} drifted from {shared}"


def test_an_invalid_answer_is_caught() -> None:
    """The validator itself can fail: a customer without its required keys is refused."""
    request = httpx.Request("GET", "http://127.0.0.1/v1/customers/" + UNKNOWN_ID)
    response = httpx.Response(200, json={"id": UNKNOWN_ID}, request=request)
    with pytest.raises(Exception, match=r"(?i)invalid"):
        validate(response)


def test_customer_reads_validate(demo: httpx.Client) -> None:
    customers = all_pages(demo, "/v1/customers/")
    assert len(customers) == 250
    for page in (1, 2, 3, 4):
        validate(demo.get("/v1/customers/", params={"page": page, "limit": 100}))
    for customer in customers:
        validate(demo.get(f"/v1/customers/{customer['id']}"))
        validate(demo.get(f"/v1/customers/{customer['id']}/state"))
        if customer["external_id"]:
            validate(demo.get(f"/v1/customers/external/{customer['external_id']}"))
            validate(demo.get(f"/v1/customers/external/{customer['external_id']}/state"))
    validate(demo.get("/v1/customers/export"))


def test_customer_writes_validate(demo: httpx.Client) -> None:
    created = demo.post(
        "/v1/customers/", json={"email": "contract@fastmail.com", "external_id": "contract-1", "metadata": {"a": 1}}
    )
    assert created.status_code == 201
    validate(created)
    team = demo.post("/v1/customers/", json={"type": "team", "name": "Team Co", "owner": {"email": "o@fastmail.com"}})
    assert team.status_code == 201
    validate(team)
    customer_id = created.json()["id"]
    validate(demo.patch(f"/v1/customers/{customer_id}", json={"name": "Renamed"}))
    validate(demo.patch("/v1/customers/external/contract-1", json={"locale": "fr"}))
    validate(demo.delete(f"/v1/customers/{customer_id}"))
    validate(demo.delete(f"/v1/customers/{team.json()['id']}", params={"anonymize": "true"}))


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/customers/{unknown}", None),
        ("GET", "/v1/customers/{unknown}/state", None),
        ("PATCH", "/v1/customers/{unknown}", {"name": "x"}),
        ("DELETE", "/v1/customers/{unknown}", None),
        ("GET", "/v1/customers/external/nobody", None),
        ("GET", "/v1/customers/external/nobody/state", None),
        ("PATCH", "/v1/customers/external/nobody", {"name": "x"}),
        ("DELETE", "/v1/customers/external/nobody", None),
    ],
)
def test_not_found_answers_validate(demo: httpx.Client, method: str, path: str, body: object) -> None:
    response = demo.request(method, path.format(unknown=UNKNOWN_ID), json=body)
    assert response.status_code == 404
    assert response.json() == {"error": "ResourceNotFound", "detail": "Not found"}
    validate(response)


@pytest.mark.parametrize(
    ("method", "path", "params", "body"),
    [
        ("GET", "/v1/customers/", {"page": "0"}, None),
        ("GET", "/v1/customers/", {"limit": "many"}, None),
        ("GET", "/v1/customers/", {"sorting": "age"}, None),
        ("GET", "/v1/customers/", {"active": "perhaps"}, None),
        ("GET", "/v1/customers/", {"organization_id": "not-a-uuid"}, None),
        ("POST", "/v1/customers/", None, {}),
        ("POST", "/v1/customers/", None, {"email": "not an email"}),
        ("POST", "/v1/customers/", None, {"email": "a@fastmail.com", "metadata": {"k": None}}),
        ("POST", "/v1/customers/", None, {"email": "a@fastmail.com", "tax_id": "911144442"}),
        ("GET", "/v1/customers/6ba7b810-9dad-11d1-80b4-00c04fd430c8", None, None),
        ("PATCH", "/v1/customers/not-a-uuid", None, {"name": "x"}),
        ("DELETE", "/v1/customers/not-a-uuid", None, None),
        ("GET", "/v1/customers/not-a-uuid/state", None, None),
        ("GET", "/v1/customers/export", {"organization_id": "nope"}, None),
        ("POST", "/v1/customer-sessions/", None, {"customer_id": UNKNOWN_ID}),
        ("POST", "/v1/customer-sessions/", None, {}),
        ("GET", "/v1/subscriptions/", {"status": "sleeping"}, None),
        ("GET", "/v1/benefit-grants/", {"is_granted": "maybe"}, None),
        ("GET", "/v1/customer-meters/", {"customer_id": "nope"}, None),
    ],
)
def test_validation_answers_validate(
    demo: httpx.Client, method: str, path: str, params: dict[str, str] | None, body: object
) -> None:
    response = demo.request(method, path, params=params, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"] in {"RequestValidationError", "PolarRequestValidationError"}
    validate(response)


def test_batch_lists_validate(demo: httpx.Client) -> None:
    for path in ("/v1/subscriptions/", "/v1/benefit-grants/", "/v1/customer-meters/"):
        pages = demo.get(path, params={"limit": 100}).json()["pagination"]["max_page"]
        assert pages >= 1
        for page in range(1, pages + 1):
            validate(demo.get(path, params={"limit": 100, "page": page}))


def test_sessions_and_portal_validate(demo: httpx.Client, sandbox_server: object) -> None:
    state = customer_with_active_subscription(demo)
    session = demo.post("/v1/customer-sessions/", json={"customer_id": state["id"], "return_url": "https://a.example"})
    assert session.status_code == 201
    validate(session)
    token = session.json()["token"]
    portal = httpx.Client(base_url=str(demo.base_url), headers={"Authorization": f"Bearer {token}"})
    orders = portal.get("/v1/customer-portal/orders/")
    validate(orders)
    order_id = orders.json()["items"][0]["id"]
    validate(portal.get(f"/v1/customer-portal/orders/{order_id}"))
    validate(portal.patch(f"/v1/customer-portal/orders/{order_id}", json={"billing_name": "Portal Name"}))
    missing = portal.get(f"/v1/customer-portal/orders/{UNKNOWN_ID}")
    assert missing.status_code == 404
    validate(missing)
    refused = portal.patch(
        f"/v1/customer-portal/orders/{order_id}", json={"billing_address": {"country": "JP", "line1": "x"}}
    )
    if orders.json()["items"][0]["billing_address"] is not None:
        assert refused.status_code == 422
    validate(refused)
    created = new_customer(demo, email="portal-session@fastmail.com", external_id="portal-ext")
    by_external = demo.post("/v1/customer-sessions/", json={"external_customer_id": "portal-ext"})
    assert by_external.status_code == 201
    assert by_external.json()["customer"]["id"] == created["id"]
    validate(by_external)
