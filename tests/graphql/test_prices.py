"""Product prices in the customer portal are typed: every kind the sandbox's seed has (fixed, metered,
seat-based, pay-what-you-want) equals Polar's JSON field for field, in camelCase with enums."""

from __future__ import annotations

from typing import Any

import httpx

from tests.graphql.fields import as_polar, polar_times
from tests.graphql.test_portal import PRICE_FIELDS, PRICE_TYPES
from tests.graphql_client import GraphQL
from tests.sandbox.helpers import all_pages

QUERY = (
    PRICE_FIELDS
    + "{ customerPortal { orders(first: 100) { nodes { product { name prices { ...PriceFields } } } } } }"
)


def _sessions_covering_every_product(demo: httpx.Client) -> list[tuple[str, list[dict[str, Any]]]]:
    """Session tokens of a few customers whose orders, together, hold every product, with Polar's orders."""
    seen: set[str] = set()
    found: list[tuple[str, list[dict[str, Any]]]] = []
    for customer in all_pages(demo, "/v1/customers/"):
        session = demo.post("/v1/customer-sessions/", json={"customer_id": customer["id"]}).json()
        portal = httpx.Client(base_url=str(demo.base_url), headers={"Authorization": f"Bearer {session['token']}"})
        orders = portal.get("/v1/customer-portal/orders/", params={"limit": 100}).json()["items"]
        names = {order["product"]["name"] for order in orders}
        if names - seen:
            seen |= names
            found.append((session["token"], orders))
        if len(seen) == 4:
            return found
    raise AssertionError(f"the seed's orders hold only {seen}")


def test_every_kind_of_price_equals_polars(gql: GraphQL, demo: httpx.Client) -> None:
    kinds: set[str] = set()
    for token, orders in _sessions_covering_every_product(demo):
        nodes = gql.data(QUERY, token=token)["customerPortal"]["orders"]["nodes"]
        for node, order in zip(nodes, orders, strict=True):
            for price in node["product"]["prices"]:
                assert price.pop("__typename") == PRICE_TYPES[price["amountType"].lower()]
                assert price.pop("legacy", False) is False
                assert price.pop("recurringInterval", None) is None
                kinds.add(price["amountType"])
            assert as_polar(node["product"]["prices"]) == polar_times(order["product"]["prices"])
    assert kinds == {"FIXED", "METERED_UNIT", "SEAT_BASED", "CUSTOM"}


def test_common_fields_need_no_fragment(gql: GraphQL, demo: httpx.Client) -> None:
    token, orders = _sessions_covering_every_product(demo)[0]
    query = "{ customerPortal { orders(first: 1) { nodes { product { prices { id amountType priceCurrency } } } } } }"
    prices = gql.data(query, token=token)["customerPortal"]["orders"]["nodes"][0]["product"]["prices"]
    assert prices == [{"id": p["id"], "amountType": p["amount_type"].upper(), "priceCurrency": p["price_currency"]}
                      for p in orders[0]["product"]["prices"]]  # fmt: skip
