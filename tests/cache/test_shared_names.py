"""Two instances sharing one Redis as a deployment is usually configured: a webhook secret and a Redis URL, and no
cursor secret of their own (it is optional; each instance then makes a random one at start-up, and warns only that
cursors will not survive a restart). The cache names its entries and its invalidations with digests keyed by that
secret: unless the instances agree on it, an invalidation written by A names subjects that no entry of B's has, and
B goes on serving what a webhook said had changed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from gateway.sandbox.deliveries import generate_secret
from tests.cache.harness import COLD_CUSTOMER, PERSON, Gateway, Polar, until
from tests.redis_server import RedisServer
from tests.servers import SandboxProcess, gateway_process

WITHIN_S = 1.5


@pytest.fixture
def unkeyed(sandbox: SandboxProcess, fresh_redis: RedisServer, polar: Polar) -> Iterator[tuple[Gateway, Gateway]]:
    """A and B on one Redis with one webhook secret, no cursor secret; the webhooks delivered to A."""
    secret = generate_secret()
    env = {"GATEWAY_POLAR_WEBHOOK_SECRET": secret, "GATEWAY_REDIS_URL": fresh_redis.url}
    with ExitStack() as stack:
        a, b = (Gateway(stack.enter_context(gateway_process(sandbox.url, env=env)), sandbox) for _ in range(2))
        stack.callback(a.close)
        stack.callback(b.close)
        polar.register_endpoint(a.webhook_url, secret)
        yield a, b


def test_instances_without_a_shared_cursor_secret_still_invalidate_each_others_entries(
    unkeyed: tuple[Gateway, Gateway], polar: Polar
) -> None:
    a, b = unkeyed
    customer_id = polar.by_external_id(PERSON)["id"]
    assert b.customer(customer_id).polar == COLD_CUSTOMER
    before = b.customer(customer_id)
    assert before.polar == {}

    polar.rename(customer_id, "Renamed in Polar")
    wanted = {**before.data["customer"], "name": "Renamed in Polar"}
    until(lambda: a.customer(customer_id).data["customer"] == wanted or None, WITHIN_S, "A read the change")
    until(lambda: b.customer(customer_id).data["customer"] == wanted or None, WITHIN_S, "B read the change")
