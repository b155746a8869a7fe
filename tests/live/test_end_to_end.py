"""From a write in Polar (the sandbox) to a ``customersChanged`` subscriber, through the sandbox's signed
deliveries to the gateway's endpoint: a customer update (the gateway's own mutation), a subscription started
(a checkout) and a benefit revoked each reach the subscriber within 1 s of the write's answer, with the customer's
state read fresh when the event is sent."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import WSMsgType

from gateway.sandbox.seed import DEMO_TOKEN
from tests.live.gateways import LiveGateway
from tests.live.helpers import CUSTOMERS_CHANGED, change, customers, new_customer, product, rename, subscribed
from tests.live.ws_client import LEGACY_WS, TRANSPORT_WS, GraphQLSocket

WITHIN_S = 1.0  # the promise, from the write's answer to the subscriber's frame


@pytest.fixture(params=[TRANSPORT_WS, LEGACY_WS])
async def subscriber(
    request: pytest.FixtureRequest, live_gateway: LiveGateway, http: httpx.AsyncClient, api: httpx.AsyncClient
) -> AsyncIterator[tuple[GraphQLSocket, str]]:
    """A live ``customersChanged`` subscriber of the Demo organization (over both protocols), and its operation."""
    async with live_gateway.socket(request.param) as socket:
        await socket.init(DEMO_TOKEN)
        operation = await socket.subscribe(CUSTOMERS_CHANGED)
        await subscribed(http, live_gateway, socket, operation, (await customers(api, 1))[0])
        yield socket, operation
        assert set(socket.frames) <= {WSMsgType.TEXT}, socket.frames  # never a binary frame


async def _events(socket: GraphQLSocket, operation: str, count: int, answered_at: float) -> list[dict[str, Any]]:
    """The next ``count`` events; the first must come within 1 s of ``answered_at``."""
    first = change(await socket.event(operation, within=WITHIN_S))
    assert time.monotonic() - answered_at < WITHIN_S
    return [first] + [change(await socket.event(operation)) for _ in range(count - 1)]


async def test_a_customer_update_reaches_the_subscriber_within_a_second(
    live_gateway: LiveGateway,
    http: httpx.AsyncClient,
    api: httpx.AsyncClient,
    subscriber: tuple[GraphQLSocket, str],
) -> None:
    socket, operation = subscriber
    customer = (await customers(api, 2))[1]
    await rename(http, live_gateway, customer["id"], "Renamed Live")
    answered = time.monotonic()
    updated, state_changed = await _events(socket, operation, 2, answered)  # Polar sends both for a write
    assert updated["type"] == "UPDATED"
    assert updated["customerId"] == customer["id"]
    assert updated["customer"]["name"] == "Renamed Live"
    assert state_changed["type"] == "STATE_CHANGED"
    assert state_changed["customer"]["name"] == "Renamed Live"


async def test_a_checkout_then_a_revoked_benefit_reach_the_subscriber_with_fresh_state(
    live_gateway: LiveGateway,
    http: httpx.AsyncClient,
    api: httpx.AsyncClient,
    subscriber: tuple[GraphQLSocket, str],
) -> None:
    socket, operation = subscriber
    customer = await new_customer(api, "live-checkout")
    created, _state = [change(await socket.event(operation)) for _ in range(2)]
    assert (created["type"], created["customerId"]) == ("CREATED", customer["id"])
    assert created["customer"]["state"] == {"activeSubscriptions": [], "grantedBenefits": []}

    starter = await product(api, customer["organization_id"], "Starter")
    response = await api.post("/__sandbox/checkout", json={"customer_id": customer["id"], "product_id": starter["id"]})
    assert response.status_code == 201, response.text
    answered = time.monotonic()
    checkout = response.json()
    subscription_id = checkout["subscription"]["id"]
    (benefit_id,) = starter["benefit_ids"]
    # subscription.created, subscription.active, benefit_grant.created, customer.state_changed
    events = await _events(socket, operation, len(checkout["events"]), answered)
    for event in events:
        assert (event["type"], event["customerId"], event["externalId"]) == (
            "STATE_CHANGED",
            customer["id"],
            "live-checkout",
        )
        state = event["customer"]["state"]
        assert state["activeSubscriptions"] == [{"id": subscription_id, "status": "ACTIVE", "productId": starter["id"]}]
        assert [grant["benefitId"] for grant in state["grantedBenefits"]] == [benefit_id]

    response = await api.post(
        "/__sandbox/grants", json={"customer_id": customer["id"], "benefit_id": benefit_id, "granted": False}
    )
    assert response.status_code == 200, response.text
    answered = time.monotonic()
    assert response.json()["events"] == ["benefit_grant.revoked", "customer.state_changed"]
    for event in await _events(socket, operation, 2, answered):
        assert (event["type"], event["customerId"]) == ("STATE_CHANGED", customer["id"])
        state = event["customer"]["state"]
        assert state["grantedBenefits"] == []  # read after the revocation, not before
        assert [s["id"] for s in state["activeSubscriptions"]] == [subscription_id]


async def test_a_canceled_subscription_reaches_the_subscriber_with_fresh_state(
    live_gateway: LiveGateway,
    http: httpx.AsyncClient,
    api: httpx.AsyncClient,
    subscriber: tuple[GraphQLSocket, str],
) -> None:
    socket, operation = subscriber
    customer = await new_customer(api, "live-cancel")
    [await socket.event(operation) for _ in range(2)]  # created, state_changed
    pro = await product(api, customer["organization_id"], "Pro")
    checkout = await api.post("/__sandbox/checkout", json={"customer_id": customer["id"], "product_id": pro["id"]})
    assert checkout.status_code == 201, checkout.text
    [await socket.event(operation) for _ in checkout.json()["events"]]

    response = await api.post(
        "/__sandbox/cancel", json={"subscription_id": checkout.json()["subscription"]["id"], "immediately": True}
    )
    assert response.status_code == 200, response.text
    answered = time.monotonic()
    for event in await _events(socket, operation, len(response.json()["events"]), answered):
        assert event["customer"]["state"] == {"activeSubscriptions": [], "grantedBenefits": []}


async def test_a_deleted_customer_reaches_the_subscriber_without_a_customer(
    live_gateway: LiveGateway,
    http: httpx.AsyncClient,
    api: httpx.AsyncClient,
    subscriber: tuple[GraphQLSocket, str],
) -> None:
    socket, operation = subscriber
    customer = await new_customer(api, "live-deleted")
    [await socket.event(operation) for _ in range(2)]
    assert (await api.delete(f"/v1/customers/{customer['id']}")).status_code == 204
    answered = time.monotonic()
    deleted, state_changed = await _events(socket, operation, 2, answered)
    assert (deleted["type"], deleted["customerId"], deleted["customer"]) == ("DELETED", customer["id"], None)
    assert state_changed["type"] == "STATE_CHANGED"
