"""A GraphQL client that sends Voucherify keys beside the Polar token, and what the tests compare with:
the Voucherify sandbox read directly, its answers turned into the shape the gateway gives."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx

from gateway.http.voucherify_keys import APP_ID, APP_TOKEN
from gateway.sandbox.voucherify.seed import DEMO_APP_ID, DEMO_APP_TOKEN
from tests.graphql_client import GRAPHQL_RESPONSE, GraphQL
from tests.servers import SandboxProcess

Headers = Sequence[tuple[str, str]]
SERVER_KEYS: Headers = ((APP_ID, DEMO_APP_ID), (APP_TOKEN, DEMO_APP_TOKEN))
CUSTOMER_ROUTE = "GET /v1/customers/{customer_id}"
LIST_ROUTE = "GET /v1/customers"
SEGMENTS_ROUTE = "GET /v1/customers/{customer_id}/segments"
ACTIVITY_ROUTE = "GET /v1/customers/{customer_id}/activity"


class VoucherifyGraphQL(GraphQL):
    """``GraphQL`` whose requests also carry ``keys`` (header pairs: a name may repeat); ``sandbox`` is the
    Voucherify sandbox, so ``upstream_calls`` counts Voucherify's requests."""

    def __init__(
        self, url: str, token: str | None, sandbox: SandboxProcess, keys: Headers = SERVER_KEYS,
        http: httpx.Client | None = None,
    ) -> None:  # fmt: skip
        super().__init__(url, token, sandbox)
        if http is not None:
            self.http.close()
            self.http = http
        self.keys = tuple(keys)

    def with_keys(self, keys: Headers) -> VoucherifyGraphQL:
        """The same client with other Voucherify headers (none: ``()``); it shares this one's connections."""
        return VoucherifyGraphQL(self.url, self.token, self.sandbox, keys, http=self.http)

    def post(self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = "") -> httpx.Response:
        use = self.token if token == "" else token
        headers = [("Accept", GRAPHQL_RESPONSE), ("Content-Type", "application/json"), *self.keys]
        if use is not None:
            headers.append(("Authorization", f"Bearer {use}"))
        body = json.dumps({"query": query, "variables": variables or {}}, separators=(",", ":"))
        return self.http.post(self.url, content=body, headers=headers)


def vf_client(server: SandboxProcess, app_id: str, token: str) -> httpx.Client:
    """The Voucherify sandbox itself, with server keys."""
    return httpx.Client(base_url=server.url, headers={"X-App-Id": app_id, "X-App-Token": token}, timeout=10)


def when(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def sandbox_list(client: httpx.Client, **params: Any) -> dict[str, Any]:
    """One page of the sandbox's own ``GET /v1/customers``."""
    response = client.get("/v1/customers", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def sandbox_ids(client: httpx.Client, **params: Any) -> list[str]:
    """Every customer id the sandbox lists for ``params`` (filters, order), in its order, page by page."""
    ids: list[str] = []
    for page in range(1, 10):
        body = sandbox_list(client, limit=100, page=page, **params)
        ids += [customer["id"] for customer in body["customers"]]
        if not body["has_more"]:
            return ids
    raise AssertionError("more than 900 customers")


def sandbox_customer(client: httpx.Client, key: str) -> dict[str, Any]:
    response = client.get(f"/v1/customers/{key}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


CUSTOMER_FIELDS = """
  id sourceId name description email phone birthdate
  address { line1 line2 city state postalCode country }
  metadata
  summary {
    redemptions { totalRedeemed totalFailed totalSucceeded totalRolledBack totalRollbackFailed totalRollbackSucceeded
      gift { redeemedAmount amountToGo } loyaltyCard { redeemedPoints pointsToGo } }
    orders { totalAmount totalCount averageAmount lastOrderAmount lastOrderDate }
  }
  loyalty { points referredCustomers campaigns { campaign points loyaltyTier referredCustomers } }
  referrals { total campaigns { campaignId referrerId relatedObjectId relatedObjectType date } }
  createdAt updatedAt
"""


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def expected_customer(raw: dict[str, Any]) -> dict[str, Any]:
    """What the gateway must answer for a customer the sandbox renders as ``raw`` (dates as datetimes)."""
    address = raw.get("address")
    redemptions, orders = raw["summary"]["redemptions"], raw["summary"]["orders"]
    counts = {_camel(key): value for key, value in redemptions.items() if isinstance(value, int)}
    loyalty, referrals = raw["loyalty"], raw["referrals"]
    return {
        "id": raw["id"],
        "sourceId": raw.get("source_id"),
        **{key: raw.get(key) for key in ("name", "description", "email", "phone", "birthdate")},
        "address": None if address is None else {
            "line1": address.get("line_1"), "line2": address.get("line_2"), "city": address.get("city"),
            "state": address.get("state"), "postalCode": address.get("postal_code"), "country": address.get("country"),
        },
        "metadata": raw["metadata"],
        "summary": {
            "redemptions": {
                **counts,
                "gift": {_camel(key): value for key, value in redemptions["gift"].items()},
                "loyaltyCard": {_camel(key): value for key, value in redemptions["loyalty_card"].items()},
            },
            "orders": {
                **{_camel(key): value for key, value in orders.items() if key != "last_order_date"},
                "lastOrderDate": when(orders.get("last_order_date")),
            },
        },
        "loyalty": {
            "points": loyalty["points"],
            "referredCustomers": loyalty["referred_customers"],
            "campaigns": [
                {"campaign": name, "points": value["points"], "loyaltyTier": value.get("loyalty_tier"),
                 "referredCustomers": value["referred_customers"]}
                for name, value in loyalty["campaigns"].items()
            ],
        },
        "referrals": {
            "total": referrals["total"],
            "campaigns": [
                {"campaignId": item.get("campaign_id"), "referrerId": item.get("referrer_id"),
                 "relatedObjectId": item.get("related_object_id"),
                 "relatedObjectType": item.get("related_object_type"), "date": when(item.get("date"))}
                for item in referrals["campaigns"]
            ],
        },
        "createdAt": when(raw["created_at"]),
        "updatedAt": when(raw.get("updated_at")),
    }  # fmt: skip


def normalized(node: dict[str, Any] | None) -> dict[str, Any] | None:
    """A customer as the gateway answered it (``CUSTOMER_FIELDS``), its dates parsed to compare as instants."""
    if node is None:
        return None
    copy = json.loads(json.dumps(node))
    copy["createdAt"], copy["updatedAt"] = when(copy["createdAt"]), when(copy["updatedAt"])
    orders = copy["summary"]["orders"]
    orders["lastOrderDate"] = when(orders["lastOrderDate"])
    for item in copy["referrals"]["campaigns"]:
        item["date"] = when(item["date"])
    result: dict[str, Any] = copy
    return result
