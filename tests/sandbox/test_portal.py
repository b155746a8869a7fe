"""Customer sessions and the customer portal's orders, with session tokens."""

from __future__ import annotations

from typing import Any

import httpx

from tests.sandbox.helpers import all_pages


def _session(demo: httpx.Client, **body: Any) -> dict[str, Any]:
    response = demo.post("/v1/customer-sessions/", json=body)
    assert response.status_code == 201, response.text
    session: dict[str, Any] = response.json()
    return session


def _portal(demo: httpx.Client, token: str) -> httpx.Client:
    return httpx.Client(base_url=str(demo.base_url), headers={"Authorization": f"Bearer {token}"})


def _customer_with_orders(demo: httpx.Client, count: int = 2) -> dict[str, Any]:
    for customer in all_pages(demo, "/v1/customers/", [("active", "true")]):
        session = _session(demo, customer_id=customer["id"])
        if (
            _portal(demo, session["token"]).get("/v1/customer-portal/orders/").json()["pagination"]["total_count"]
            >= count
        ):
            return session
    raise AssertionError("no seeded customer has enough orders")


def test_sessions_by_id_external_id_and_alias(demo: httpx.Client) -> None:
    customer = next(c for c in all_pages(demo, "/v1/customers/") if c["external_id"] and c["email"])
    by_id = _session(demo, customer_id=customer["id"], return_url="https://app.example.com/account")
    assert by_id["token"].startswith("polar_cst_")
    assert by_id["customer"] == customer
    assert by_id["return_url"] == "https://app.example.com/account"
    assert by_id["customer_portal_url"].startswith("https://polar.sh/demo/portal?customer_session_token=polar_cst_")
    assert by_id["expires_at"] > by_id["created_at"]
    assert _session(demo, external_customer_id=customer["external_id"])["customer_id"] == customer["id"]
    assert _session(demo, customer_external_id=customer["external_id"])["customer_id"] == customer["id"]


def test_unknown_customer_is_a_422(demo: httpx.Client, other: httpx.Client) -> None:
    demo_customer = demo.get("/v1/customers/", params={"limit": 1}).json()["items"][0]
    response = other.post("/v1/customer-sessions/", json={"customer_id": demo_customer["id"]})
    assert response.json() == {
        "error": "PolarRequestValidationError",
        "detail": [{"type": "value_error", "loc": ["body", "customer_id"], "msg": "Customer does not exist.",
                    "input": demo_customer["id"]}],
    }  # fmt: skip
    missing = demo.post("/v1/customer-sessions/", json={"external_customer_id": "nobody"})
    assert missing.json()["detail"][0]["loc"] == ["body", "external_customer_id"]


def test_portal_shows_only_the_customers_own_orders(demo: httpx.Client) -> None:
    first = _customer_with_orders(demo)
    mine = _portal(demo, first["token"]).get("/v1/customer-portal/orders/").json()["items"]
    assert {o["customer_id"] for o in mine} == {first["customer_id"]}
    someone_else = next(
        c for c in all_pages(demo, "/v1/customers/", [("active", "true")]) if c["id"] != first["customer_id"]
    )
    second = _session(demo, customer_id=someone_else["id"])
    theirs = _portal(demo, second["token"])
    assert theirs.get(f"/v1/customer-portal/orders/{mine[0]['id']}").status_code == 404
    assert theirs.patch(f"/v1/customer-portal/orders/{mine[0]['id']}", json={"billing_name": "x"}).status_code == 404


def test_order_list_filters_and_sorts(demo: httpx.Client) -> None:
    session = _customer_with_orders(demo)
    portal = _portal(demo, session["token"])
    orders = portal.get("/v1/customer-portal/orders/").json()["items"]
    assert [o["created_at"] for o in orders] == sorted((o["created_at"] for o in orders), reverse=True)
    product = orders[0]["product"]
    by_product = portal.get("/v1/customer-portal/orders/", params={"product_id": product["id"]}).json()["items"]
    assert by_product
    assert {o["product_id"] for o in by_product} == {product["id"]}
    by_name = portal.get("/v1/customer-portal/orders/", params={"query": product["name"][:3].lower()}).json()
    assert orders[0]["id"] in {o["id"] for o in by_name["items"]}
    recurring = portal.get("/v1/customer-portal/orders/", params={"product_billing_type": "recurring"}).json()
    assert all(o["product"]["is_recurring"] for o in recurring["items"])
    by_amount = portal.get("/v1/customer-portal/orders/", params={"sorting": "-amount"}).json()["items"]
    assert [o["net_amount"] for o in by_amount] == sorted((o["net_amount"] for o in by_amount), reverse=True)


def test_order_update_writes_only_what_is_sent_and_keeps_country(demo: httpx.Client) -> None:
    session = _customer_with_orders(demo, count=1)
    portal = _portal(demo, session["token"])
    order = portal.get("/v1/customer-portal/orders/").json()["items"][0]
    path = f"/v1/customer-portal/orders/{order['id']}"
    renamed = portal.patch(path, json={"billing_name": "Portal Person"}).json()
    assert renamed["billing_name"] == "Portal Person"
    assert renamed["billing_address"] == order["billing_address"]
    if order["billing_address"] is None:
        portal.patch(path, json={"billing_address": {"country": "SE", "city": "Lund"}}).raise_for_status()
    current = portal.get(path).json()
    country = current["billing_address"]["country"]
    other_country = "JP" if country != "JP" else "FR"
    refused = portal.patch(path, json={"billing_address": {"country": other_country}})
    assert refused.status_code == 422
    assert refused.json()["detail"][0] == {
        "type": "value_error", "loc": ["body", "billing_address", "country"], "msg": "Country cannot be changed",
        "input": other_country,
    }  # fmt: skip
    assert portal.get(path).json() == current
