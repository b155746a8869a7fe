"""``customerChanged(id:)`` and ``customerChanged(externalId:)``: the events of that one customer only, which must
be one the token can read (checked with Polar when it starts: otherwise an error and no stream)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.sandbox.seed import DEMO_READ_TOKEN, DEMO_TOKEN, OTHER_TOKEN
from tests.live.gateways import LiveGateway
from tests.live.helpers import (
    CUSTOMER_CHANGED_BY_EXTERNAL_ID,
    CUSTOMER_CHANGED_BY_ID,
    CUSTOMERS_CHANGED,
    EVENT,
    change,
    customers,
    new_customer,
    rename,
    subscribed,
)
from tests.live.ws_client import LEGACY_WS, TRANSPORT_WS


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_customer_changed_by_id_gets_only_that_customers_events(
    live_gateway: LiveGateway, http: httpx.AsyncClient, api: httpx.AsyncClient, protocol: str
) -> None:
    followed, other = await customers(api, 2)
    async with live_gateway.socket(protocol) as socket:
        await socket.init(DEMO_TOKEN)
        operation = await socket.subscribe(CUSTOMER_CHANGED_BY_ID, {"id": followed["id"]})
        await subscribed(http, live_gateway, socket, operation, followed)
        await rename(http, live_gateway, other["id"], "Not Followed")  # first, so its events would come first
        await rename(http, live_gateway, followed["id"], "Followed")
        updated, state_changed = [change(await socket.event(operation)) for _ in range(2)]
        assert (updated["type"], updated["customerId"], updated["customer"]["name"]) == (
            "UPDATED",
            followed["id"],
            "Followed",
        )
        assert (state_changed["type"], state_changed["customerId"]) == ("STATE_CHANGED", followed["id"])
        await socket.silent(0.3)  # nothing of the other customer after them either


async def test_customer_changed_by_external_id_gets_only_that_customers_events(
    live_gateway: LiveGateway, http: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    followed = await new_customer(api, "live-by-external")
    other = (await customers(api, 2))[1]
    async with live_gateway.socket() as socket:
        await socket.init(DEMO_TOKEN)
        operation = await socket.subscribe(CUSTOMER_CHANGED_BY_EXTERNAL_ID, {"ext": "live-by-external"})
        await subscribed(http, live_gateway, socket, operation, followed)
        await rename(http, live_gateway, other["id"], "Not Followed")
        await rename(http, live_gateway, followed["id"], "Followed By External Id")
        updated = change(await socket.event(operation))
        assert (updated["type"], updated["customerId"], updated["externalId"]) == (
            "UPDATED",
            followed["id"],
            "live-by-external",
        )
        assert updated["customer"]["name"] == "Followed By External Id"


async def _subscribe_refused(
    gateway: LiveGateway, token: str, query: str, variables: dict[str, Any], protocol: str = TRANSPORT_WS
) -> list[dict[str, Any]]:
    """The errors a subscription that must not start gets; then its socket stays usable and the refused
    operation sends nothing more (a subscription started after it on the same socket gets the next message)."""
    async with gateway.socket(protocol) as socket:
        await socket.init(token)
        refused = await socket.subscribe(query, variables)
        errors = await socket.errors(refused)
        alive = await socket.subscribe(f"subscription {{ customersChanged {{ {EVENT} }} }}")
        await socket.silent(0.3)
        assert alive != refused
        return errors


def _codes(errors: list[dict[str, Any]]) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in errors]


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_customer_of_another_organization_is_an_error_and_no_stream(
    live_gateway: LiveGateway, http: httpx.AsyncClient, api: httpx.AsyncClient, protocol: str
) -> None:
    foreign = (await customers(api, 1, OTHER_TOKEN))[0]
    live_gateway.register(OTHER_TOKEN)  # the other organization's events reach this gateway too
    async with live_gateway.socket(protocol) as socket:
        await socket.init(DEMO_TOKEN)
        refused = await socket.subscribe(CUSTOMER_CHANGED_BY_ID, {"id": foreign["id"]})
        errors = await socket.errors(refused)
        assert _codes(errors) == ["FORBIDDEN"], errors
        assert foreign["email"] not in str(errors)
        # no stream: the foreign customer's own changes never come to the refused operation
        watching = await socket.subscribe(CUSTOMERS_CHANGED)
        demo_customer = (await customers(api, 1))[0]
        await subscribed(http, live_gateway, socket, watching, demo_customer)
        await rename(http, live_gateway, foreign["id"], "Foreign Change", token=OTHER_TOKEN)
        await rename(http, live_gateway, demo_customer["id"], "Own Change")
        own = change(await socket.event(watching))
        assert (own["customerId"], own["customer"]["name"]) == (demo_customer["id"], "Own Change")


@pytest.mark.parametrize(
    ("variables", "query", "code"),
    [
        ({"id": "00000000-0000-4000-8000-000000000000"}, CUSTOMER_CHANGED_BY_ID, "FORBIDDEN"),
        ({"ext": "nobody-has-this-external-id"}, CUSTOMER_CHANGED_BY_EXTERNAL_ID, "FORBIDDEN"),
        ({"id": "not-a-uuid"}, CUSTOMER_CHANGED_BY_ID, "FORBIDDEN"),
        ({}, f"subscription {{ customerChanged {{ {EVENT} }} }}", "BAD_USER_INPUT"),
        (
            {"id": "00000000-0000-4000-8000-000000000000"},
            f'subscription($id: ID!) {{ customerChanged(id: $id, externalId: "x") {{ {EVENT} }} }}',
            "BAD_USER_INPUT",
        ),
    ],
    ids=["unknown-id", "unknown-external-id", "malformed-id", "no-argument", "both-arguments"],
)
async def test_a_customer_the_token_cannot_name_is_an_error(
    live_gateway: LiveGateway, variables: dict[str, Any], query: str, code: str
) -> None:
    errors = await _subscribe_refused(live_gateway, DEMO_TOKEN, query, variables)
    assert _codes(errors) == [code], errors


async def test_a_read_only_token_follows_its_customers(
    live_gateway: LiveGateway, http: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    """customers:read is enough to subscribe (what a subscription reads is what a query would)."""
    followed = (await customers(api, 1))[0]
    async with live_gateway.socket() as socket:
        await socket.init(DEMO_READ_TOKEN)
        operation = await socket.subscribe(CUSTOMER_CHANGED_BY_ID, {"id": followed["id"]})
        await subscribed(http, live_gateway, socket, operation, followed)
        await rename(http, live_gateway, followed["id"], "Read Only Sees It")
        assert change(await socket.event(operation))["customer"]["name"] == "Read Only Sees It"
