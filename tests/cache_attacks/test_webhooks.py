"""A webhook's invalidation through a real gateway on a real Redis: a change made in Polar (not through the
gateway) must end the cached customer once its delivery is taken, and a delivery answered 503 must be taken on
Polar's retry. What holds: the delivery invalidates before it is answered 202. What does not (the test fails
while it is so): during a Redis stall, deduplication marks the delivery seen after the gateway gave up on
it, the invalidation is never made, and the retry is ignored as a duplicate."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import redis

from gateway.live.dedupe import KEY_PREFIX
from gateway.sandbox.seed import DEMO_TOKEN
from tests.cache_attacks.conftest import WEBHOOK_SECRET, graphql
from tests.cache_store.helpers import BOUND_S, frozen
from tests.live.deliveries import Delivery, customer_event
from tests.redis_server import RedisServer
from tests.servers import GatewayProcess, SandboxProcess

CUSTOMER = "query One($id: ID!) { customer(id: $id) { id name } }"
LIST = "{ customers(first: 5) { nodes { id name } } }"


def _cached_customer(gateway: GatewayProcess) -> dict[str, Any]:
    customer: dict[str, Any] = graphql(gateway, DEMO_TOKEN, LIST)["data"]["customers"]["nodes"][1]
    body = graphql(gateway, DEMO_TOKEN, CUSTOMER, {"id": customer["id"]})
    assert body["extensions"]["cache"] == {"hits": 1, "misses": 0}, body
    return customer


def _renamed_in_polar(sandbox: SandboxProcess, customer_id: str, name: str) -> dict[str, Any]:
    """A change made elsewhere (Polar's dashboard, another integration): only a webhook tells the gateway."""
    response = httpx.patch(
        f"{sandbox.url}/v1/customers/{customer_id}",
        json={"name": name},
        headers={"Authorization": f"Bearer {DEMO_TOKEN}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    updated: dict[str, Any] = response.json()
    return updated


def _deliver(gateway: GatewayProcess, updated: dict[str, Any], webhook_id: str) -> httpx.Response:
    event = customer_event("customer.updated", updated["id"], updated["organization_id"], updated["external_id"])
    body, headers = Delivery(WEBHOOK_SECRET).signed(event, webhook_id)  # signed now: a retry is signed anew
    return httpx.post(f"{gateway.url}/webhooks/polar", content=body, headers=headers, timeout=10)


def _name(gateway: GatewayProcess, customer_id: str) -> str:
    name: str = graphql(gateway, DEMO_TOKEN, CUSTOMER, {"id": customer_id})["data"]["customer"]["name"]
    return name


def test_a_delivery_ends_the_cached_customer(redis_gateway: GatewayProcess, sandbox: SandboxProcess) -> None:
    customer = _cached_customer(redis_gateway)
    updated = _renamed_in_polar(sandbox, customer["id"], "Renamed in Polar")
    assert _name(redis_gateway, customer["id"]) == customer["name"]  # cached: the gateway cannot know yet
    answer = _deliver(redis_gateway, updated, f"msg_{uuid.uuid4().hex}")
    assert answer.status_code == 202, answer.text
    assert _name(redis_gateway, customer["id"]) == "Renamed in Polar"


def test_a_delivery_refused_during_a_redis_stall_is_taken_on_its_retry(
    redis_gateway: GatewayProcess, sandbox: SandboxProcess, fresh_redis: RedisServer
) -> None:
    """Redis stalls for a second (a fork for a snapshot, a neighbour's slow command): the receiver's 0.8 s
    runs out while deduplication's SET NX waits, and it answers 503 without invalidating. The SET NX was sent
    and lands when Redis resumes; the receiver keeps trying to forget its own mark for a while, so the id
    does not stay seen: Polar's retry is taken, and the customer's cached read ends."""
    customer = _cached_customer(redis_gateway)
    earlier = _renamed_in_polar(sandbox, customer["id"], customer["name"])  # a delivery before, as in production:
    assert _deliver(redis_gateway, earlier, f"msg_{uuid.uuid4().hex}").status_code == 202  # connections are open
    _cached_customer(redis_gateway)
    updated = _renamed_in_polar(sandbox, customer["id"], "Renamed during a stall")
    webhook_id = f"msg_{uuid.uuid4().hex}"
    with frozen(fresh_redis):
        first = _deliver(redis_gateway, updated, webhook_id)
    assert first.status_code == 503, first.text  # Polar will retry
    deadline = time.monotonic() + BOUND_S
    with redis.Redis.from_url(fresh_redis.url, socket_timeout=5) as neighbour:
        # Redis applies the stalled SET NX first when it resumes (it was sent before this connection was made);
        while neighbour.exists(KEY_PREFIX + webhook_id):  # the receiver forgets it once Redis answers again
            assert time.monotonic() < deadline, "the id stayed seen: Polar's retry would be a duplicate"
            time.sleep(0.02)
    retry = _deliver(redis_gateway, updated, webhook_id)  # Polar retries seconds later, at the earliest
    assert _name(redis_gateway, customer["id"]) == "Renamed during a stall", f"retry answered {retry.text}"
