"""The floor: each benchmark scenario's data fetched by hand with the fewest REST calls Polar (or, for
scenario 5, Voucherify; for 6, both) allows, through one shared httpx client per upstream, overlapping what
can overlap.
It is served over HTTP like the gateway, so both are measured the same way (latency seen by a client, CPU
and memory of the serving process).

``python -m tests.bench.floor --upstream-url URL [--voucherify-url URL] [--port 0]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import urllib.parse
import uuid
from typing import Any

import httpx
from aiohttp import web
from httpx_aiohttp import AiohttpTransport

CLIENT = web.AppKey("client", httpx.AsyncClient)
VOUCHERIFY = web.AppKey("voucherify", httpx.AsyncClient)
# Scenario 5's call, exactly as the gateway makes it for voucherifyCustomers(first: 50).
VOUCHERIFY_PAGE = httpx.QueryParams([("order", "-created_at"), ("page", "1"), ("limit", "50")])
# Scenario 6's Polar call, exactly as the gateway makes it for customers(first: 50, sortKey: CREATED_AT).
JOINED_PAGE = httpx.QueryParams([("sorting", "created_at"), ("page", "1"), ("limit", "50")])


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


def _keys(request: web.Request) -> dict[str, str]:
    return {"X-App-Id": request.headers.get("X-Voucherify-App-Id", ""),
            "X-App-Token": request.headers.get("X-Voucherify-App-Token", "")}  # fmt: skip


async def voucherify_page(request: web.Request) -> web.Response:
    """One list call with the caller's keys, answered as the gateway answers
    ``{ voucherifyCustomers(first: 50) { nodes { id sourceId loyalty { points } } } }``."""
    response = await request.app[VOUCHERIFY].get("/v1/customers", params=VOUCHERIFY_PAGE, headers=_keys(request))
    if response.status_code != 200:
        return web.Response(status=502, text=f"Voucherify answered {response.status_code}")
    nodes = [
        {"id": c["id"], "sourceId": c.get("source_id"), "loyalty": {"points": (c.get("loyalty") or {}).get("points", 0)}}
        for c in response.json()["customers"]
    ]
    return _json({"data": {"voucherifyCustomers": {"nodes": nodes}}})


async def joined_page(request: web.Request) -> web.Response:
    """One Polar list call, then every distinct external id's Voucherify lookup at once: 2 round trips,
    answered as the gateway answers ``JOINED_DOCUMENT`` (tests/bench/run.py). A lookup's answer counts only
    when its source id is the external id exactly (Voucherify's path also takes a customer's own id)."""
    client, headers, keys = request.app[CLIENT], _auth(request), _keys(request)
    customers = (await client.get("/v1/customers/", params=JOINED_PAGE, headers=headers)).json()["items"]
    external_ids = list(dict.fromkeys(c["external_id"] for c in customers if c["external_id"] is not None))
    answers = await asyncio.gather(*(
        request.app[VOUCHERIFY].get(f"/v1/customers/{urllib.parse.quote(key, safe='')}", headers=keys)
        for key in external_ids
    ))  # fmt: skip
    loyalty: dict[str, Any] = {}
    for key, answer in zip(external_ids, answers, strict=True):
        if answer.status_code == 200 and (found := answer.json()).get("source_id") == key:
            loyalty[key] = {"loyalty": {"points": (found.get("loyalty") or {}).get("points", 0)}}
        elif answer.status_code not in (200, 404):
            return web.Response(status=502, text=f"Voucherify answered {answer.status_code}")
    nodes = [{"id": c["id"], "externalId": c["external_id"], "voucherify": loyalty.get(c["external_id"] or "")}
             for c in customers]  # fmt: skip
    return _json({"data": {"customers": {"nodes": nodes}}})


def _client(url: str, transport: str) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    pool = AiohttpTransport(limits=limits) if transport == "aiohttp" else httpx.AsyncHTTPTransport(limits=limits)
    return httpx.AsyncClient(base_url=url, transport=pool, timeout=30)


def create_app(upstream_url: str, transport: str, voucherify_url: str | None = None) -> web.Application:
    app = web.Application()

    async def client_context(app: web.Application) -> Any:
        app[CLIENT] = _client(upstream_url, transport)
        if voucherify_url is not None:
            app[VOUCHERIFY] = _client(voucherify_url, transport)
        yield
        await app[CLIENT].aclose()
        if voucherify_url is not None:
            await app[VOUCHERIFY].aclose()

    app.cleanup_ctx.append(client_context)
    app.add_routes([
        web.get("/s1", one_customer), web.get("/s2", page_with_state), web.get("/s3", distinct_customers),
        web.post("/s4", create), web.delete("/s4/{id}", delete),
    ])  # fmt: skip
    if voucherify_url is not None:
        app.router.add_get("/s5", voucherify_page)
        app.router.add_get("/s6", joined_page)
    return app


async def _serve(upstream_url: str, port: int, transport: str, voucherify_url: str | None) -> None:
    runner = web.AppRunner(create_app(upstream_url, transport, voucherify_url), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print(f"floor listening on http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--upstream-url", required=True)
    parser.add_argument("--voucherify-url", help="the Voucherify sandbox, for scenarios 5 and 6 (/s5, /s6)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--transport", choices=["aiohttp", "httpx"], default="aiohttp")
    args = parser.parse_args()
    asyncio.run(_serve(args.upstream_url, args.port, args.transport, args.voucherify_url))


if __name__ == "__main__":
    main()
