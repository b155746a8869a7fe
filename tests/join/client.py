"""One customer across billing (Polar) and loyalty (Voucherify): a GraphQL client that sends both upstreams'
credentials and counts both sandboxes' requests, and the two sandboxes read directly, to compare with."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from gateway.sandbox.seed import DEMO_TOKEN
from tests.servers import NO_FAULTS, SandboxProcess
from tests.voucherify.client import SERVER_KEYS, Headers, VoucherifyGraphQL

# Routes as the sandboxes count them.
POLAR_LIST = "GET /v1/customers/"
POLAR_BY_ID = "GET /v1/customers/{id}"
POLAR_BY_EXTERNAL_ID = "GET /v1/customers/external/{external_id}"
POLAR_DELETE = "DELETE /v1/customers/{id}"
POLAR_STATE_LISTS = ("GET /v1/subscriptions/", "GET /v1/benefit-grants/", "GET /v1/customer-meters/")
VF_CUSTOMER = "GET /v1/customers/{customer_id}"
VF_LIST = "GET /v1/customers"
VF_UPSERT = "POST /v1/customers"
VF_PERMANENT_DELETION = "POST /v1/customers/{customer_id}/permanent-deletion"


@dataclass(frozen=True)
class Calls:
    """Requests each sandbox received, by route."""

    polar: dict[str, int]
    voucherify: dict[str, int]

    @property
    def none(self) -> bool:
        return not self.polar and not self.voucherify


class BothGraphQL(VoucherifyGraphQL):
    """GraphQL with the Polar token and the Voucherify server keys, on both sandboxes: ``sandbox`` is Polar's
    (so ``upstream_calls`` counts Polar's requests), ``voucherify`` Voucherify's; ``calls`` counts both."""

    def __init__(
        self, url: str, token: str | None, polar: SandboxProcess, voucherify: SandboxProcess,
        keys: Headers = SERVER_KEYS, http: httpx.Client | None = None,
    ) -> None:  # fmt: skip
        super().__init__(url, token, polar, keys, http=http)
        self.voucherify = voucherify

    def with_keys(self, keys: Headers) -> BothGraphQL:
        """The same client with other Voucherify headers (none: ``()``); it shares this one's connections."""
        return BothGraphQL(self.url, self.token, self.sandbox, self.voucherify, keys, http=self.http)

    def without_token(self) -> BothGraphQL:
        return BothGraphQL(self.url, None, self.sandbox, self.voucherify, self.keys, http=self.http)

    def calls(self) -> Calls:
        return Calls(self.sandbox.stats(), self.voucherify.stats())

    def calls_since_both(self, before: Calls) -> Calls:
        now = self.calls()
        return Calls(_difference(now.polar, before.polar), _difference(now.voucherify, before.voucherify))


def _difference(now: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {route: count - before.get(route, 0) for route, count in now.items() if count != before.get(route, 0)}


def set_faults(server: SandboxProcess, **faults: Any) -> None:
    with server.control() as control:
        control.post("/__sandbox/faults", json={**NO_FAULTS, **faults}).raise_for_status()


def polar_client(server: SandboxProcess, token: str = DEMO_TOKEN) -> httpx.Client:
    """The Polar sandbox itself, as the Demo organization."""
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def polar_customers(polar: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    """Every live customer of the Demo organization, in the order ``params`` ask for."""
    found: list[dict[str, Any]] = []
    for page in range(1, 20):
        response = polar.get("/v1/customers/", params={"limit": 100, "page": page, **params})
        assert response.status_code == 200, response.text
        body = response.json()
        found += body["items"]
        if page >= body["pagination"]["max_page"]:
            return found
    raise AssertionError("more than 1,900 customers")


def polar_page(polar: httpx.Client, limit: int, sorting: str = "-created_at") -> list[dict[str, Any]]:
    """The first page of Polar's list as the gateway asks for ``customers(first: limit)``."""
    response = polar.get("/v1/customers/", params={"sorting": sorting, "page": 1, "limit": limit})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def polar_by_external_id(polar: httpx.Client, external_id: str) -> httpx.Response:
    return polar.get(f"/v1/customers/external/{urllib.parse.quote(external_id, safe='')}")


def vf_customers(vf: httpx.Client) -> list[dict[str, Any]]:
    """Every customer of the Voucherify Demo project, newest first."""
    found: list[dict[str, Any]] = []
    for page in range(1, 20):
        response = vf.get("/v1/customers", params={"limit": 100, "page": page})
        assert response.status_code == 200, response.text
        body = response.json()
        found += body["customers"]
        if not body["has_more"]:
            return found
    raise AssertionError("more than 1,900 customers")


def vf_by_key(vf: httpx.Client, key: str) -> httpx.Response:
    """``GET /v1/customers/{id or source_id}`` (the path takes either)."""
    return vf.get(f"/v1/customers/{urllib.parse.quote(key, safe='')}")


def source_ids(vf: httpx.Client) -> dict[str, dict[str, Any]]:
    """Voucherify's customers by source id."""
    return {customer["source_id"]: customer for customer in vf_customers(vf) if customer.get("source_id")}


def distinct(values: Iterable[str | None]) -> list[str]:
    """The non-null values, each once, in order."""
    return list(dict.fromkeys(value for value in values if value is not None))


def error_paths(body: dict[str, Any]) -> dict[tuple[str | int, ...], str]:
    """Each error's path and its code."""
    return {tuple(error.get("path") or ()): error.get("extensions", {}).get("code") for error in body.get("errors", [])}


def without(value: Any, key: str) -> Any:
    """``value`` with every ``key`` taken out of its objects, at any depth (to compare the rest)."""
    if isinstance(value, dict):
        return {k: without(v, key) for k, v in value.items() if k != key}
    if isinstance(value, list):
        return [without(item, key) for item in value]
    return value
