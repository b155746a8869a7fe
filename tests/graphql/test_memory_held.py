"""What a page's state holds while it waits: Polar's list items embed whole customers, products and
benefits, so each page is cut down to what the state answers as soon as it arrives, not when the
last of the three lists is in. Real sandbox, real sockets; the meters call is held back by the test."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import httpx

from gateway.graphql.loaders import Loaders
from gateway.graphql.scopes import ScopeMemory
from gateway.sandbox.seed import DEMO_TOKEN
from gateway.settings import Settings
from gateway.upstream.polar import PolarClient
from gateway.upstream.polar_requests import CustomerQuery
from gateway.upstream.transport import Transport, create_client
from tests.servers import SandboxProcess


class MetersHeldBack(Transport):
    """Polar's transport, except that the meters list waits until the test releases it."""

    def __init__(self, client: httpx.AsyncClient, settings: Settings) -> None:
        super().__init__(client, settings)
        self.lists_answered = 0
        self.others_in = asyncio.Event()
        self.release = asyncio.Event()

    async def request(self, method: str, path: str, token: str, **options: Any) -> Any:
        if path == "/v1/customer-meters/":
            await self.release.wait()
            return await super().request(method, path, token, **options)
        answer = await super().request(method, path, token, **options)
        if path in {"/v1/subscriptions/", "/v1/benefit-grants/"}:
            self.lists_answered += 1
            if self.lists_answered == 3:  # subscriptions and both pages of benefit grants
                self.others_in.set()
        return answer


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
    transport = MetersHeldBack(client, settings)
    polar = PolarClient(transport)
    earlier = {id(item) for item in _polar_list_items()}  # whatever other tests of this process keep
    try:
        ids = [c.id for c in (await polar.customers_page(DEMO_TOKEN, CustomerQuery(), 1, 100)).items]
        loaders = Loaders(polar, DEMO_TOKEN, settings, ScopeMemory(settings.scope_memory_s))
        states = asyncio.gather(*(loaders.state.load(i) for i in ids))
        await asyncio.wait_for(transport.others_in.wait(), 10)
        await asyncio.sleep(0)  # let the loader take in the last answer
        gc.collect()
        left = [item for item in _polar_list_items() if id(item) not in earlier]
        assert left == []  # the meters call is still out, and no raw item of the other lists is left

        transport.release.set()
        answered = await asyncio.wait_for(states, 10)
    finally:
        await client.aclose()
    assert sum(len(s.active_subscriptions) for s in answered) > 30
    assert sum(len(s.granted_benefits) for s in answered) > 100
    assert sum(len(s.active_meters) for s in answered) > 10
