"""A subscriber on the ``graphql-ws`` npm client, the protocol's reference implementation, as a frontend runs it
(``tests/node/live-subscriber.mjs``: ``createClient`` over ``ws``, the token in ``connectionParams``): it gets a
change that another instance took from Polar, and without ``connectionParams`` it sees the gateway's 4403."""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from typing import Any

from gateway.graphql.websocket import CLOSE_FORBIDDEN, NO_TOKEN
from gateway.sandbox.seed import DEMO_TOKEN
from tests.live_shared.harness import (
    ACTIVE_CUSTOMER,
    CUSTOMER,
    CUSTOMERS_CHANGED,
    Endpoint,
    data,
    gateways,
    live_env,
    rename,
    until_metric,
)
from tests.node_tools import NODE_DIR, require_node_for_routers
from tests.redis_server import RedisServer
from tests.servers import GatewayProcess, SandboxProcess

SCRIPT = "live-subscriber.mjs"
RUN_S = 30.0  # the script's own timeout is shorter: it reports one, rather than being killed


@dataclass
class Run:
    status: int
    events: list[dict[str, Any]]  # its standard output: one `next` payload a line
    reports: list[dict[str, Any]]  # its standard error: what happened to the connection, one JSON a line


async def _start(gateway: GatewayProcess, token: str | None, events: int) -> asyncio.subprocess.Process:
    node = require_node_for_routers()  # tests/node's engines: graphql-ws 6 and Hive Gateway 2 need Node 20
    env = {key: value for key, value in os.environ.items() if key != "LIVE_TOKEN"}
    if token is not None:
        env["LIVE_TOKEN"] = token
    url = gateway.graphql_url.replace("http://", "ws://", 1)
    return await asyncio.create_subprocess_exec(
        node, str(NODE_DIR / SCRIPT), "--url", url, "--query", CUSTOMERS_CHANGED,
        "--events", str(events), "--timeout-ms", str(int((RUN_S - 10) * 1000)),
        cwd=NODE_DIR, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def _finished(process: asyncio.subprocess.Process) -> Run:
    try:
        async with asyncio.timeout(RUN_S):
            out, err = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"{SCRIPT} still running after {RUN_S} s") from None
    assert process.returncode is not None
    try:
        return Run(process.returncode, _lines(out), _lines(err))
    except json.JSONDecodeError as error:
        raise AssertionError(f"{SCRIPT} printed something else than JSON lines:\n{out!r}\n{err!r}") from error


def _lines(output: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.decode().splitlines() if line.strip()]


async def test_a_graphql_ws_subscriber_gets_a_change_taken_by_the_other_instance(
    sandbox: SandboxProcess, endpoint: Endpoint, fresh_redis: RedisServer
) -> None:
    with gateways(2, sandbox, live_env(endpoint, fresh_redis.url)) as (a, b):
        endpoint.point_at(a)
        customer = data(a, ACTIVE_CUSTOMER)["customers"]["nodes"][0]
        subscriber = await _start(b, DEMO_TOKEN, events=2)
        try:
            await until_metric(b, "gateway_live_subscribers", lambda open_now: open_now == 1, within_s=RUN_S)
        except AssertionError:
            subscriber.kill()
            raise AssertionError(f"{SCRIPT} never subscribed: {await _finished(subscriber)}") from None
        await asyncio.to_thread(rename, a, customer["id"], "Seen by graphql-ws")
        run = await _finished(subscriber)
        assert run.status == 0, run
        now = data(a, CUSTOMER, {"id": customer["id"]})["customer"]
        assert [event["data"]["customersChanged"]["type"] for event in run.events] == ["UPDATED", "STATE_CHANGED"]
        for event in run.events:
            assert "errors" not in event, event
            change = event["data"]["customersChanged"]
            assert (change["customerId"], change["externalId"]) == (customer["id"], customer["externalId"])
            assert change["customer"] == now
        assert now["name"] == "Seen by graphql-ws"
        assert run.reports[0] == {"connected": True}
        assert run.reports[-1]["closed"]["code"] == 1000  # the client's own dispose, once it had its events


async def test_a_graphql_ws_subscriber_without_connection_params_sees_4403(
    sandbox: SandboxProcess, fresh_redis: RedisServer
) -> None:
    with gateways(1, sandbox, {"GATEWAY_REDIS_URL": fresh_redis.url}) as (gateway,):
        run = await _finished(await _start(gateway, None, events=1))
    refusal = {"code": CLOSE_FORBIDDEN, "reason": NO_TOKEN}
    assert run.status == 1, run
    assert run.events == []
    assert {"connected": True} not in run.reports  # never acknowledged
    assert {"closed": refusal} in run.reports, run.reports  # the close, as the client's `closed` listener saw it
    assert {"error": refusal} in run.reports, run.reports  # and as the subscription's error
