"""What a page's state holds while it waits: Polar's list items embed whole customers, products and
benefits, so each page is cut down to what the state answers as soon as it arrives, not when the
last of the three lists is in. Real sandbox, real sockets; the meters call is held back by the test."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from gateway.graphql.loaders import Loaders
from gateway.graphql.scopes import ScopeMemory
from gateway.sandbox.seed import DEMO_TOKEN
from gateway.settings import Settings
from gateway.upstream.polar import Page, PolarClient
from gateway.upstream.transport import QueryParams, Transport, create_client
from tests.servers import SandboxProcess


class MetersHeldBack(PolarClient):
    """Polar's client, except that the meters list waits until the test releases it."""

    def __init__(self, transport: Transport) -> None:
        super().__init__(transport)
        self.lists_answered = 0
        self.others_in = asyncio.Event()
        self.release = asyncio.Event()

    async def _counted(self, page: Page) -> Page:
        self.lists_answered += 1
        if self.lists_answered == 3:  # subscriptions and both pages of benefit grants
            self.others_in.set()
        return page

    async def list_subscriptions(self, token: str, params: QueryParams) -> Page:
        return await self._counted(await super().list_subscriptions(token, params))

    async def list_benefit_grants(self, token: str, params: QueryParams) -> Page:
        return await self._counted(await super().list_benefit_grants(token, params))

    async def list_customer_meters(self, token: str, params: QueryParams) -> Page:
        await self.release.wait()
        return await super().list_customer_meters(token, params)


def _polar_list_items() -> list[dict[str, Any]]:
    """Live dicts shaped like an item of Polar's subscription or benefit-grant lists: a customer id
    beside the embedded customer, and the embedded product or benefit."""
    return [
        item
        for item in gc.get_objects()
        if isinstance(item, dict)
        and "customer_id" in item
        and isinstance(item.get("customer"), dict)
        and (isinstance(item.get("product"), dict) or isinstance(item.get("benefit"), dict))
    ]


async def test_list_pages_are_cut_to_the_state_as_they_arrive(sandbox: SandboxProcess) -> None:
    settings = Settings(upstream_url=sandbox.url)
    client = create_client(sandbox.url, settings)
    polar = MetersHeldBack(Transport(client, settings))
    earlier = {id(item) for item in _polar_list_items()}  # whatever other tests of this process keep
    try:
        ids = [c["id"] for c in (await polar.list_customers(DEMO_TOKEN, [("limit", 100)]))["items"]]
        loaders = Loaders(polar, DEMO_TOKEN, settings, ScopeMemory(settings.scope_memory_s))
        states = asyncio.gather(*(loaders.state.load(i) for i in ids))
        await asyncio.wait_for(polar.others_in.wait(), 10)
        await asyncio.sleep(0)  # let the loader take in the last answer
        gc.collect()
        left = [item for item in _polar_list_items() if id(item) not in earlier]
        assert left == []  # the meters call is still out, and no raw item of the other lists is left

        polar.release.set()
        answered = await asyncio.wait_for(states, 10)
    finally:
        await client.aclose()
    assert sum(len(s.active_subscriptions) for s in answered) > 30
    assert sum(len(s.granted_benefits) for s in answered) > 100
    assert sum(len(s.active_meters) for s in answered) > 10
