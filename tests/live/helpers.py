"""What the live tests do besides WebSockets: GraphQL over HTTP to the gateway, the sandbox's records and
controls, and the documents they subscribe with."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from gateway.sandbox.seed import DEMO_TOKEN
from tests.live.deliveries import customer_event
from tests.live.gateways import LiveGateway
from tests.live.ws_client import GraphQLSocket, NoMessage

PROBE_WAIT_S = 0.25  # how long a probe is waited for before the next is sent

EVENT = (
    "type customerId externalId occurredAt "
    "customer { id name externalId state { activeSubscriptions { id status productId } grantedBenefits { id benefitId } } }"
)
CUSTOMERS_CHANGED = f"subscription {{ customersChanged {{ {EVENT} }} }}"
CUSTOMER_CHANGED_BY_ID = f"subscription($id: ID!) {{ customerChanged(id: $id) {{ {EVENT} }} }}"
CUSTOMER_CHANGED_BY_EXTERNAL_ID = f"subscription($ext: String!) {{ customerChanged(externalId: $ext) {{ {EVENT} }} }}"
OWN_CUSTOMER_CHANGED = "subscription { customerChanged { type customerId externalId customer { id } } }"
UPDATE = (
    "mutation($id: ID!, $name: String!) { customerUpdate(id: $id, input: {name: $name}) "
    "{ customer { id name } userErrors { message } } }"
)
SESSION = (
    "mutation($id: ID!) { customerSessionCreate(customerId: $id) { customerSession { token } userErrors { message } } }"
)


async def graphql(
    http: httpx.AsyncClient, gateway: LiveGateway, query: str, variables: dict[str, Any], token: str = DEMO_TOKEN
) -> dict[str, Any]:
    """``data`` of a request over HTTP that must succeed without errors."""
    response = await http.post(
        gateway.graphql_url, json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def rename(
    http: httpx.AsyncClient, gateway: LiveGateway, customer_id: str, name: str, token: str = DEMO_TOKEN
) -> None:
    """``customerUpdate`` through the gateway (the sandbox then delivers customer.updated and state_changed)."""
    payload = (await graphql(http, gateway, UPDATE, {"id": customer_id, "name": name}, token))["customerUpdate"]
    assert payload["userErrors"] == [], payload
    assert payload["customer"]["name"] == name


async def session_token(http: httpx.AsyncClient, gateway: LiveGateway, customer_id: str) -> str:
    """A customer session token for ``customer_id`` (``customerSessionCreate``)."""
    payload = (await graphql(http, gateway, SESSION, {"id": customer_id}))["customerSessionCreate"]
    assert payload["userErrors"] == [], payload
    token: str = payload["customerSession"]["token"]
    return token


async def customers(api: httpx.AsyncClient, count: int, token: str | None = None) -> list[dict[str, Any]]:
    """The ``count`` newest customers of the token's organization (the Demo one by default), as Polar renders them."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await api.get("/v1/customers/", params={"limit": count}, headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    assert len(items) == count
    return items


async def new_customer(api: httpx.AsyncClient, name: str) -> dict[str, Any]:
    """A customer of the Demo organization with nothing bought yet."""
    response = await api.post(
        "/v1/customers/", json={"email": f"{name}@fastmail.com", "external_id": name, "name": name}
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def product(api: httpx.AsyncClient, organization_id: str, name: str) -> dict[str, Any]:
    """A product of the sandbox's seed, by name, with its price and benefit ids."""
    info = (await api.get("/__sandbox/info")).json()
    found: dict[str, Any] = next(
        p for p in info["products"] if p["organization_id"] == organization_id and p["name"] == name
    )
    return found


def change(data: dict[str, Any]) -> dict[str, Any]:
    """The event of a subscription result, whichever field was subscribed to."""
    (event,) = data.values()
    assert isinstance(event, dict)
    return event


async def post_delivery(http: httpx.AsyncClient, gateway: LiveGateway, event: dict[str, Any]) -> None:
    """``event`` signed with the gateway's secret and delivered; it must be accepted."""
    body, headers = gateway.delivery().signed(event)
    response = await http.post(gateway.webhook_url, content=body, headers=headers)
    assert (response.status_code, response.json()) == (202, {"outcome": "accepted"}), response.text


async def subscribed(
    http: httpx.AsyncClient,
    gateway: LiveGateway,
    socket: GraphQLSocket,
    operation: str,
    customer: dict[str, Any],
    within: float = 5.0,
) -> None:
    """Returns once ``operation`` is live: a subscription starts after a check with Polar, and a change published
    before it has joined is not for it (at most once, to subscribers connected when it arrives). Probes (a signed
    customer.updated of ``customer``, marked by the external id the event carries) are delivered until one comes
    back, then every probe sent is read, so the socket has nothing left over."""
    deadline = asyncio.get_running_loop().time() + within
    sent = 0
    while True:
        sent += 1
        probe = customer_event("customer.updated", customer["id"], customer["organization_id"], f"probe-{sent}")
        await post_delivery(http, gateway, probe)
        try:
            message = await socket.message(PROBE_WAIT_S)
            break
        except NoMessage:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"operation {operation} received none of {sent} probes in {within} s") from None
    while True:
        assert message.get("id") == operation, message
        marker = change(message["payload"]["data"])["externalId"]
        assert marker.startswith("probe-"), message
        if marker == f"probe-{sent}":
            return
        message = await socket.message()


async def live_subscribers(http: httpx.AsyncClient, gateway: LiveGateway) -> int:
    """The gateway's ``gateway_live_subscribers`` gauge: subscriptions that have joined its hub."""
    response = await http.get(gateway.url + "/metrics")
    assert response.status_code == 200, response.text
    for line in response.text.splitlines():
        if line.startswith("gateway_live_subscribers "):
            return int(float(line.split()[1]))
    raise AssertionError("no gateway_live_subscribers in /metrics")


async def joined(http: httpx.AsyncClient, gateway: LiveGateway, count: int, within: float = 5.0) -> None:
    """Waits until the hub holds ``count`` subscribers (for one that no probe can reach)."""
    deadline = asyncio.get_running_loop().time() + within
    while (now := await live_subscribers(http, gateway)) < count:
        assert asyncio.get_running_loop().time() < deadline, f"{now} of {count} subscribers joined in {within} s"
        await asyncio.sleep(0.02)
