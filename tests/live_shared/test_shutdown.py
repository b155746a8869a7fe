"""SIGTERM to a gateway with open subscribers: every socket is closed with 1001 (going away, with the reason to
reconnect and refetch) before the drain, so sockets that never end on their own do not hold the process for
its grace period; it exits 0 well within ``shutdown_grace_s``. With live events in the process and through
Redis (whose listener and client are closed too), over both protocols, and a connection with no subscription
yet."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time

import pytest

from gateway.graphql.live import SHUTDOWN_REASON
from tests.live_shared.harness import (
    ACTIVE_CUSTOMER,
    CUSTOMER_CHANGED,
    CUSTOMERS_CHANGED,
    LEGACY_WS,
    Subscriber,
    data,
    gateways,
    until_metric,
)
from tests.redis_server import RedisServer
from tests.servers import SandboxProcess

GRACE_S = 20  # what the gateway is given ...
EXIT_WITHIN_S = 10.0  # ... and the bound on its exit: a hang on an open socket would take the whole grace period
GOING_AWAY = 1001


@pytest.mark.parametrize("shared", [False, True], ids=["in-process", "redis"])
async def test_sigterm_closes_every_subscriber_with_1001_and_exits_0(
    sandbox: SandboxProcess, redis_server: RedisServer, shared: bool
) -> None:
    env = {"GATEWAY_SHUTDOWN_GRACE_S": str(GRACE_S)}
    if shared:
        if not redis_server.running:
            redis_server.start()
        env["GATEWAY_REDIS_URL"] = redis_server.url
    with gateways(1, sandbox, env) as (gateway,):
        customer = data(gateway, ACTIVE_CUSTOMER)["customers"]["nodes"][0]["id"]
        two_operations = await Subscriber.connect(gateway)
        one_operation = await Subscriber.connect(gateway)
        legacy = await Subscriber.connect(gateway, protocol=LEGACY_WS)
        idle = await Subscriber.connect(gateway)  # acknowledged, nothing subscribed
        sockets = [two_operations, one_operation, legacy, idle]
        try:
            await two_operations.subscribe(CUSTOMERS_CHANGED)
            await two_operations.subscribe(CUSTOMER_CHANGED, {"id": customer})
            await one_operation.subscribe(CUSTOMERS_CHANGED)
            await legacy.subscribe(CUSTOMERS_CHANGED)
            await until_metric(gateway, "gateway_live_subscribers", lambda open_now: open_now == 4)

            signalled = time.monotonic()
            gateway.process.send_signal(signal.SIGTERM)
            endings = await asyncio.gather(*(each.closed(EXIT_WITHIN_S) for each in sockets))
            for closed, before in endings:
                assert (closed.code, closed.reason) == (GOING_AWAY, SHUTDOWN_REASON), (closed, before)
                assert all(message["type"] not in {"next", "data"} for message in before), before
            try:
                code = await asyncio.to_thread(gateway.process.wait, EXIT_WITHIN_S - (time.monotonic() - signalled))
            except subprocess.TimeoutExpired:
                pytest.fail(f"still running {EXIT_WITHIN_S} s after SIGTERM:\n{''.join(gateway.output[-20:])}")
            took = time.monotonic() - signalled
        finally:
            for each in sockets:
                await each.close()
        assert code == 0, "".join(gateway.output[-20:])
        assert took < EXIT_WITHIN_S
        print(f"closed 4 sockets and exited in {took:.2f} s (grace {GRACE_S} s)")
