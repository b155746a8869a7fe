"""What the cache tests drive: gateway processes with the cache on (two sharing one Redis, or one alone), the
upstream requests each GraphQL request cost (both sandboxes' own counts, read before and after it), the
sandbox's Polar changed directly (so that only its webhook can tell the gateway), Redis frozen, and metrics.

Every wait is bounded (``until``); the only sleeps are the ones that let a lifetime (a TTL, a token's trust,
Redis's retry window) pass, and nothing is asserted about how long anything took."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from gateway.http.voucherify_keys import APP_ID, APP_TOKEN
from gateway.sandbox.seed import DEMO_TOKEN
from gateway.sandbox.voucherify.seed import DEMO_APP_ID, DEMO_APP_TOKEN
from gateway.upstream.polar_webhooks import HANDLED_EVENTS
from tests.redis_server import RedisServer
from tests.servers import GatewayProcess, SandboxProcess

T = TypeVar("T")

# Cache names are digests keyed by the cursor secret: instances that share a Redis must share it.
CURSOR_SECRET = "cache-tests-shared-cursor-secret-0123456789"
WEBHOOK_ROUTE = "/webhooks/polar"

# The budget query, and the same with the name (what the tests change).
CUSTOMER = "query One($id: ID!) { customer(id: $id) { id email state { activeSubscriptions { id } } } }"
NAMED = "query Named($id: ID!) { customer(id: $id) { id email name state { activeSubscriptions { id } } } }"
BY_EXTERNAL_ID = "query ByExternal($externalId: String!) { customer(externalId: $externalId) { id externalId name } }"
LISTED = "{ customers(first: 50) { nodes { id state { grantedBenefits { id } } } } }"
VOUCHERIFY_BY_SOURCE = (
    "query Loyal($sourceId: String!) { voucherifyCustomer(sourceId: $sourceId) { id sourceId name } }"
)
VOUCHERIFY_BY_ID = "query LoyalById($id: ID!) { voucherifyCustomer(id: $id) { id sourceId name } }"
RENAME = """mutation Rename($id: ID!, $name: String!) {
  customerUpdate(id: $id, input: {name: $name}) { customer { id name } userErrors { field message code } }
}"""

# Polar's routes as the sandbox counts them. A cold read of CUSTOMER: the customer, then its state rebuilt from
# three lists (one batch); of LISTED: the page, then the same three lists for the page's states.
BY_ID = "GET /v1/customers/{id}"
LIST = "GET /v1/customers/"
STATE_LISTS = {"GET /v1/subscriptions/": 1, "GET /v1/benefit-grants/": 1, "GET /v1/customer-meters/": 1}
COLD_CUSTOMER = {BY_ID: 1, **STATE_LISTS}
COLD_LIST = {LIST: 1, **STATE_LISTS}
VF_CUSTOMER = "GET /v1/customers/{customer_id}"

SERVER_KEYS = ((APP_ID, DEMO_APP_ID), (APP_TOKEN, DEMO_APP_TOKEN))
PERSON = "usr_demo_00008"  # in both systems' seeds; two active subscriptions in Polar


def until(probe: Callable[[], T | None], within_s: float, what: str, every_s: float = 0.05) -> T:
    """``probe()``'s first answer other than None, asked every ``every_s`` for at most ``within_s`` seconds."""
    deadline = time.monotonic() + within_s
    while True:
        found = probe()
        if found is not None:
            return found
        assert time.monotonic() < deadline, f"{what}: not within {within_s} s"
        time.sleep(every_s)


_CONTROLS: dict[str, httpx.Client] = {}


def stats(sandbox: SandboxProcess) -> dict[str, int]:
    """The sandbox's requests since its last reset, by route (over one kept connection: asked twice a request)."""
    control = _CONTROLS.get(sandbox.url)
    if control is None:
        control = _CONTROLS[sandbox.url] = httpx.Client(base_url=sandbox.url, timeout=10)
    response = control.get("/__sandbox/stats")
    response.raise_for_status()
    by_route: dict[str, int] = response.json()["by_route"]
    return by_route


def close_controls() -> None:
    for control in _CONTROLS.values():
        control.close()
    _CONTROLS.clear()


def _since(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {route: count - before.get(route, 0) for route, count in after.items() if count != before.get(route, 0)}


@dataclass(frozen=True)
class Answer:
    """One GraphQL response, and the upstream requests made while it was being answered, by route."""

    body: dict[str, Any]
    polar: dict[str, int]
    voucherify: dict[str, int]

    @property
    def data(self) -> dict[str, Any]:
        """``data`` of a response that must have no error."""
        assert "errors" not in self.body, self.body["errors"]
        found: dict[str, Any] = self.body["data"]
        return found

    @property
    def cost(self) -> int:
        """Polar requests."""
        return sum(self.polar.values())

    @property
    def voucherify_cost(self) -> int:
        return sum(self.voucherify.values())

    @property
    def error_codes(self) -> list[str | None]:
        return [error.get("extensions", {}).get("code") for error in self.body.get("errors", [])]


@dataclass
class Gateway:
    """A gateway process on the session's sandboxes, asked over HTTP with the Demo token (and Voucherify's demo
    server keys), each answer with what it cost upstream."""

    process: GatewayProcess
    polar: SandboxProcess
    voucherify: SandboxProcess | None = None
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))

    @property
    def url(self) -> str:
        return self.process.url

    @property
    def webhook_url(self) -> str:
        return self.process.url + WEBHOOK_ROUTE

    def ask(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str = DEMO_TOKEN,
        keys: tuple[tuple[str, str], ...] = SERVER_KEYS,
    ) -> Answer:  # fmt: skip
        polar_before = stats(self.polar)
        voucherify_before = stats(self.voucherify) if self.voucherify is not None else {}
        headers = [("Authorization", f"Bearer {token}"), ("Content-Type", "application/json"), *keys]
        response = self.http.post(
            self.process.graphql_url, json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        polar = _since(polar_before, stats(self.polar))
        voucherify = _since(voucherify_before, stats(self.voucherify)) if self.voucherify is not None else {}
        return Answer(body, polar, voucherify)

    def customer(self, customer_id: str, *, token: str = DEMO_TOKEN, query: str = NAMED) -> Answer:
        return self.ask(query, {"id": customer_id}, token=token)

    def rename(self, customer_id: str, name: str) -> Answer:
        """``customerUpdate`` of the name, which must succeed."""
        answer = self.ask(RENAME, {"id": customer_id, "name": name})
        payload = answer.data["customerUpdate"]
        assert payload["userErrors"] == [], payload
        assert payload["customer"]["name"] == name
        return answer

    def metrics(self) -> str:
        response = self.http.get(f"{self.url}/metrics")
        response.raise_for_status()
        return response.text

    def metric(self, name: str, labels: str = "") -> float:
        """One sample of ``/metrics`` (0 when absent), such as ``gateway_cache_hits_total`` with ``kind="..."``."""
        selector = re.escape(name + (f"{{{labels}}}" if labels else ""))
        found = re.search(rf"^{selector} (\S+)$", self.metrics(), re.MULTILINE)
        return float(found.group(1)) if found else 0.0

    def log(self) -> str:
        return "".join(self.process.output)

    def close(self) -> None:
        self.http.close()


class Polar:
    """The sandbox's Polar API itself, as the Demo organization: a change made here reaches a gateway only as
    the webhook the sandbox sends (to the endpoints registered)."""

    def __init__(self, sandbox: SandboxProcess, token: str = DEMO_TOKEN) -> None:
        self.sandbox = sandbox
        self.http = httpx.Client(base_url=sandbox.url, headers={"Authorization": f"Bearer {token}"}, timeout=10)

    def customers(self, limit: int = 100) -> list[dict[str, Any]]:
        response = self.http.get("/v1/customers/", params={"limit": limit})
        response.raise_for_status()
        found: list[dict[str, Any]] = response.json()["items"]
        return found

    def customer_ids(self) -> list[str]:
        return [customer["id"] for customer in self.customers()]

    def by_external_id(self, external_id: str) -> dict[str, Any]:
        response = self.http.get(f"/v1/customers/external/{external_id}")
        response.raise_for_status()
        found: dict[str, Any] = response.json()
        return found

    def rename(self, customer_id: str, name: str) -> None:
        response = self.http.patch(f"/v1/customers/{customer_id}", json={"name": name})
        assert response.status_code == 200, response.text

    def active_subscriptions(self, customer_id: str) -> list[str]:
        params = httpx.QueryParams([("customer_id", customer_id), ("status", "active"), ("status", "trialing")])
        response = self.http.get("/v1/subscriptions/", params=params)
        response.raise_for_status()
        return [subscription["id"] for subscription in response.json()["items"]]

    def revoke_subscription(self, subscription_id: str) -> None:
        """Ends it now, as Polar's revoke does (the sandbox's control): state-changing webhooks follow."""
        with self.sandbox.control() as control:
            response = control.post("/__sandbox/cancel", json={"subscription_id": subscription_id, "immediately": True})
        assert response.status_code == 200, response.text

    def register_endpoint(self, url: str, secret: str) -> str:
        """A webhook endpoint of the Demo organization at ``url``, for every event the gateway handles."""
        body = {"url": url, "format": "raw", "events": list(HANDLED_EVENTS), "secret": secret}
        response = self.http.post("/v1/webhooks/endpoints", json=body)
        assert response.status_code == 201, response.text
        endpoint_id: str = response.json()["id"]
        return endpoint_id

    def deliveries(self, endpoint_id: str) -> list[dict[str, Any]]:
        """The sandbox's delivery log of the endpoint, oldest first, each event with its attempts."""
        with self.sandbox.control() as control:
            response = control.get("/__sandbox/deliveries", params={"endpoint_id": endpoint_id})
        response.raise_for_status()
        events: list[dict[str, Any]] = response.json()["events"]
        return events

    def set_faults(self, **faults: Any) -> None:
        with self.sandbox.control() as control:
            control.post("/__sandbox/faults", json=faults).raise_for_status()

    def close(self) -> None:
        self.http.close()


@contextmanager
def frozen(redis: RedisServer) -> Iterator[None]:
    """Redis stopped (SIGSTOP) and continued (SIGCONT) when the block ends: its data stays, connections stay
    open, and every command waits; a crash loses the data, a freeze shows what an instance does with entries that
    outlived an invalidation it could not write."""
    assert redis.pid is not None
    assert redis.running
    os.kill(redis.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(redis.pid, signal.SIGCONT)
