"""The floor: each benchmark scenario's data fetched by hand with the fewest REST calls Polar allows,
through one shared httpx client, overlapping what can overlap. It is served over HTTP like the gateway,
so both are measured the same way (latency seen by a client, CPU and memory of the serving process).

``python -m tests.bench.floor --upstream-url URL [--port 0]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid
from typing import Any

import httpx
from aiohttp import web
from httpx_aiohttp import AiohttpTransport

CLIENT = web.AppKey("client", httpx.AsyncClient)


def _auth(request: web.Request) -> dict[str, str]:
    return {"Authorization": request.headers.get("Authorization", "")}


def _json(body: Any) -> web.Response:
    return web.Response(body=json.dumps(body), content_type="application/json")


async def one_customer(request: web.Request) -> web.Response:
    client = request.app[CLIENT]
    response = await client.get(f"/v1/customers/{request.query['id']}", headers=_auth(request))
    return _json(response.json())


async def page_with_state(request: web.Request) -> web.Response:
    """A list call, then the three batch lists for its 50 customers, concurrently: 4 calls, 2 round trips."""
    client, headers = request.app[CLIENT], _auth(request)
    customers = (await client.get("/v1/customers/", params={"limit": 50}, headers=headers)).json()["items"]
    ids = [("customer_id", c["id"]) for c in customers]
    subscriptions, grants, meters = await asyncio.gather(
        client.get("/v1/subscriptions/", params=[*ids, ("status", "active"), ("status", "trialing"), ("limit", 100)],
                   headers=headers),
        client.get("/v1/benefit-grants/", params=[*ids, ("is_granted", "true"), ("limit", 100)], headers=headers),
        client.get("/v1/customer-meters/", params=[*ids, ("limit", 100)], headers=headers),
    )  # fmt: skip
    return _json({
        "customers": customers, "subscriptions": subscriptions.json()["items"], "grants": grants.json()["items"],
        "meters": meters.json()["items"],
    })  # fmt: skip


async def distinct_customers(request: web.Request) -> web.Response:
    """The distinct ids only, concurrently: twenty lookups of five ids cost five calls, one round trip."""
    client, headers = request.app[CLIENT], _auth(request)
    ids = list(dict.fromkeys(request.query.getall("id")))
    answers = await asyncio.gather(*(client.get(f"/v1/customers/{i}", headers=headers) for i in ids))
    return _json([answer.json() for answer in answers])


async def create(request: web.Request) -> web.Response:
    """The first of scenario 4's two requests, as a client of the gateway sends two operations."""
    client, headers = request.app[CLIENT], _auth(request)
    tag = uuid.uuid4().hex[:12]
    created = await client.post("/v1/customers/", json={"email": f"floor-{tag}@fastmail.com"}, headers=headers)
    return _json(created.json())


async def delete(request: web.Request) -> web.Response:
    client = request.app[CLIENT]
    await client.delete(f"/v1/customers/{request.match_info['id']}", headers=_auth(request))
    return _json({"deleted": request.match_info["id"]})


def create_app(upstream_url: str, transport: str) -> web.Application:
    app = web.Application()

    async def client_context(app: web.Application) -> Any:
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        pool = AiohttpTransport(limits=limits) if transport == "aiohttp" else httpx.AsyncHTTPTransport(limits=limits)
        app[CLIENT] = httpx.AsyncClient(base_url=upstream_url, transport=pool, timeout=30)
        yield
        await app[CLIENT].aclose()

    app.cleanup_ctx.append(client_context)
    app.add_routes([
        web.get("/s1", one_customer), web.get("/s2", page_with_state), web.get("/s3", distinct_customers),
        web.post("/s4", create), web.delete("/s4/{id}", delete),
    ])  # fmt: skip
    return app


async def _serve(upstream_url: str, port: int, transport: str) -> None:
    runner = web.AppRunner(create_app(upstream_url, transport), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print(f"floor listening on http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--upstream-url", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--transport", choices=["aiohttp", "httpx"], default="aiohttp")
    args = parser.parse_args()
    asyncio.run(_serve(args.upstream_url, args.port, args.transport))


if __name__ == "__main__":
    main()
