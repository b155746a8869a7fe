"""A subscriber sees its own organization's events only, and a customer session token its own customer's only.

Both organizations' endpoints deliver to the same gateway here (the Other organization's is registered with the
same secret), so that each test shows the subscriber that must see nothing of a change is live and sees its own:
its next event after the foreign change is its own one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from gateway.sandbox.seed import DEMO_TOKEN, OTHER_TOKEN
from tests.live.deliveries import customer_event
from tests.live.gateways import LiveGateway
from tests.live.helpers import (
    CUSTOMER_CHANGED_BY_EXTERNAL_ID,
    CUSTOMER_CHANGED_BY_ID,
    CUSTOMERS_CHANGED,
    OWN_CUSTOMER_CHANGED,
    change,
    customers,
    joined,
    live_subscribers,
    post_delivery,
    rename,
    session_token,
    subscribed,
)
from tests.live.ws_client import LEGACY_WS, TRANSPORT_WS


async def test_the_other_organization_sees_nothing_of_the_demo_organizations_changes(
    live_gateway: LiveGateway, http: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    live_gateway.register(OTHER_TOKEN)
    demo_customer = (await customers(api, 1))[0]
    other_customer = (await customers(api, 1, OTHER_TOKEN))[0]
    async with live_gateway.socket() as demo, live_gateway.socket(LEGACY_WS) as other:
        await demo.init(DEMO_TOKEN)
        await other.init(OTHER_TOKEN)
        demo_op = await demo.subscribe(CUSTOMERS_CHANGED)
        other_op = await other.subscribe(CUSTOMERS_CHANGED)
        await subscribed(http, live_gateway, demo, demo_op, demo_customer)
        await subscribed(http, live_gateway, other, other_op, other_customer)

        await rename(http, live_gateway, demo_customer["id"], "Demo Change")
        seen = [change(await demo.event(demo_op)) for _ in range(2)]  # the Demo subscriber does see it
        assert {(e["customerId"], e["customer"]["name"]) for e in seen} == {(demo_customer["id"], "Demo Change")}

        await rename(http, live_gateway, other_customer["id"], "Other Change", token=OTHER_TOKEN)
        first = change(await other.event(other_op))  # its own change comes first: the Demo one never came
        assert (first["type"], first["customerId"], first["customer"]["name"]) == (
            "UPDATED",
            other_customer["id"],
            "Other Change",
        )
        assert change(await other.event(other_op))["customerId"] == other_customer["id"]
        await demo.silent(0.3)  # nor does the Demo subscriber see the Other organization's change
        await other.silent(0.3)


async def test_an_organization_without_customers_learns_its_own_and_sees_nothing_else(
    live_gateway: LiveGateway, http: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    """Polar's customer API cannot tell a token's organization before it has a customer: such a subscriber
    learns it from the first new customer its token can read. It must see nothing of the Demo one meanwhile."""
    for customer in await customers(api, 12, OTHER_TOKEN):
        response = await api.delete(
            f"/v1/customers/{customer['id']}", headers={"Authorization": f"Bearer {OTHER_TOKEN}"}
        )
        assert response.status_code == 204, response.text
    assert (await api.get("/v1/customers/", headers={"Authorization": f"Bearer {OTHER_TOKEN}"})).json()["items"] == []
    live_gateway.register(OTHER_TOKEN)
    demo_customer = (await customers(api, 1))[0]
    before = await live_subscribers(http, live_gateway)
    async with live_gateway.socket() as demo, live_gateway.socket() as other:
        await demo.init(DEMO_TOKEN)
        await other.init(OTHER_TOKEN)
        demo_op = await demo.subscribe(CUSTOMERS_CHANGED)
        other_op = await other.subscribe(CUSTOMERS_CHANGED)
        await joined(http, live_gateway, before + 2)
        await subscribed(http, live_gateway, demo, demo_op, demo_customer)
        await other.silent(0.2)  # the Demo probes were not for it: its token cannot read their customer

        for name in ("Demo Change One", "Demo Change Two"):
            await rename(http, live_gateway, demo_customer["id"], name)
            assert {change(await demo.event(demo_op))["customer"]["name"] for _ in range(2)} == {name}

        response = await api.post(
            "/v1/customers/",
            json={"email": "first.of.other@fastmail.com", "external_id": "first-of-other"},
            headers={"Authorization": f"Bearer {OTHER_TOKEN}"},
        )
        assert response.status_code == 201, response.text
        created = change(await other.event(other_op))  # the first thing it sees is its own customer
        assert (created["type"], created["customerId"]) == ("CREATED", response.json()["id"])
        assert created["customer"]["externalId"] == "first-of-other"
        assert change(await other.event(other_op))["type"] == "STATE_CHANGED"
        await rename(http, live_gateway, demo_customer["id"], "Demo Change Three")
        assert change(await demo.event(demo_op))["customer"]["name"] == "Demo Change Three"
        await other.silent(0.3)


async def test_a_deleted_customer_does_not_hide_an_organization_from_its_own_subscriber(
    live_gateway: LiveGateway, http: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    """While its organization has no customer, a subscriber cannot tell a customer it cannot read from another
    organization's: Polar's news of a deleted customer of its own must not make it deaf to its organization."""
    other_token = {"Authorization": f"Bearer {OTHER_TOKEN}"}
    former = await customers(api, 12, OTHER_TOKEN)
    for customer in former:
        assert (await api.delete(f"/v1/customers/{customer['id']}", headers=other_token)).status_code == 204
    live_gateway.register(OTHER_TOKEN)
    before = await live_subscribers(http, live_gateway)
    async with live_gateway.socket() as other:
        await other.init(OTHER_TOKEN)
        operation = await other.subscribe(CUSTOMERS_CHANGED)
        await joined(http, live_gateway, before + 1)
        gone = former[0]
        for event_type in ("customer.deleted", "customer.state_changed"):  # what Polar sends for a deletion
            await post_delivery(http, live_gateway, customer_event(event_type, gone["id"], gone["organization_id"]))
        response = await api.post("/v1/customers/", json={"email": "after.deletion@fastmail.com"}, headers=other_token)
        assert response.status_code == 201, response.text
        new_id = response.json()["id"]
        seen = [change(await other.event(operation))]
        while (seen[-1]["type"], seen[-1]["customerId"]) != ("CREATED", new_id):  # the deletion's may come first
            assert len(seen) < 10, seen
            seen.append(change(await other.event(operation)))
        assert {event["customerId"] for event in seen} <= {gone["id"], new_id}  # its organization's only


async def test_a_customer_created_and_deleted_at_once_does_not_hide_an_organization_from_its_subscriber(
    live_gateway_with: Callable[..., LiveGateway], http: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    """The organization has no customer; one is created and deleted before the gateway reads the creation (the
    deliveries come after both writes), then another is created. Its subscriber must see the latter."""
    gateway = live_gateway_with(GATEWAY_MAX_SUBSCRIPTIONS_PER_CONNECTION="9")  # its own: nothing remembered
    other_token = {"Authorization": f"Bearer {OTHER_TOKEN}"}
    for customer in await customers(api, 12, OTHER_TOKEN):
        assert (await api.delete(f"/v1/customers/{customer['id']}", headers=other_token)).status_code == 204
    gateway.register(OTHER_TOKEN)
    before = await live_subscribers(http, gateway)
    async with gateway.socket() as other:
        await other.init(OTHER_TOKEN)
        operation = await other.subscribe(CUSTOMERS_CHANGED)
        await joined(http, gateway, before + 1)
        brief = await api.post("/v1/customers/", json={"email": "brief.stay@fastmail.com"}, headers=other_token)
        assert brief.status_code == 201, brief.text
        deleted = await api.delete(f"/v1/customers/{brief.json()['id']}", headers=other_token)
        assert deleted.status_code == 204, deleted.text
        stays = await api.post("/v1/customers/", json={"email": "long.stay@fastmail.com"}, headers=other_token)
        assert stays.status_code == 201, stays.text
        seen = [change(await other.event(operation))]
        while (seen[-1]["type"], seen[-1]["customerId"]) != ("CREATED", stays.json()["id"]):
            assert len(seen) < 10, seen
            seen.append(change(await other.event(operation)))
        assert {event["customerId"] for event in seen} <= {brief.json()["id"], stays.json()["id"]}


@pytest.fixture
async def pair(api: httpx.AsyncClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two customers of the Demo organization: the session's own, and another."""
    own, another = await customers(api, 2)
    return own, another


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
@pytest.mark.parametrize("by_id", [False, True], ids=["no-argument", "own-id"])
async def test_a_customer_session_token_follows_its_own_customer(
    live_gateway: LiveGateway,
    http: httpx.AsyncClient,
    pair: tuple[dict[str, Any], dict[str, Any]],
    protocol: str,
    by_id: bool,
) -> None:
    own, another = pair
    token = await session_token(http, live_gateway, own["id"])
    query = "subscription($id: ID) { customerChanged(id: $id) { type customerId externalId customer { id } } }"
    async with live_gateway.socket(protocol) as socket:
        await socket.init(token)
        operation = await socket.subscribe(query if by_id else OWN_CUSTOMER_CHANGED, {"id": own["id"]} if by_id else {})
        await subscribed(http, live_gateway, socket, operation, own)
        await rename(http, live_gateway, another["id"], "Someone Else")
        await rename(http, live_gateway, own["id"], "Myself")
        updated = change(await socket.event(operation))
        # the customer is read through customerPortal with such a token, never as an organization would
        assert (updated["type"], updated["customerId"], updated["customer"]) == ("UPDATED", own["id"], None)
        assert change(await socket.event(operation))["customerId"] == own["id"]
        await socket.silent(0.3)


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (CUSTOMER_CHANGED_BY_ID, "another"),
        (CUSTOMER_CHANGED_BY_EXTERNAL_ID, "external"),
        (CUSTOMERS_CHANGED, None),
    ],
    ids=["another-customer-id", "external-id", "customersChanged"],
)
async def test_a_customer_session_token_gets_forbidden_beyond_its_customer(
    live_gateway: LiveGateway,
    http: httpx.AsyncClient,
    pair: tuple[dict[str, Any], dict[str, Any]],
    query: str,
    variables: str | None,
) -> None:
    own, another = pair
    token = await session_token(http, live_gateway, own["id"])
    arguments = {"another": {"id": another["id"]}, "external": {"ext": "anything"}, None: {}}[variables]
    async with live_gateway.socket() as socket:
        await socket.init(token)
        refused = await socket.subscribe(query, arguments)
        errors = await socket.errors(refused)
        assert [e.get("extensions", {}).get("code") for e in errors] == ["FORBIDDEN"], errors
        await rename(http, live_gateway, another["id"], "Not For The Session")
        await socket.silent(0.3)  # and no stream
