"""Small helpers the sandbox tests share."""

from __future__ import annotations

from typing import Any

import httpx

PAGE_LIMIT = 100


def all_pages(client: httpx.Client, path: str, params: list[tuple[str, str | int]] | None = None) -> list[Any]:
    """Every item of a Polar list, following ``page`` up to ``max_page``."""
    items: list[Any] = []
    page = 1
    while True:
        query: list[tuple[str, str | int | float | bool | None]] = [
            *(params or []),
            ("page", page),
            ("limit", PAGE_LIMIT),
        ]
        response = client.get(path, params=query)
        response.raise_for_status()
        body = response.json()
        items.extend(body["items"])
        if page >= body["pagination"]["max_page"]:
            return items
        page += 1


def new_customer(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    response = client.post("/v1/customers/", json=fields)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def customer_with_active_subscription(client: httpx.Client) -> dict[str, Any]:
    for customer in all_pages(client, "/v1/customers/", [("active", "true")]):
        state = client.get(f"/v1/customers/{customer['id']}/state").json()
        if state["active_subscriptions"] and state["granted_benefits"] and state["active_meters"]:
            return state  # type: ignore[no-any-return]
    raise AssertionError("the seed has no customer with subscriptions, grants and meters")
