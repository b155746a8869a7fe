"""Gateway processes on the session's Polar sandbox that take its webhooks, for the live tests.

Against an external sandbox the gateway does not register its webhook endpoint (``serve`` does that only on its
embedded sandbox): ``Gateways`` does, the way an operator does with Polar. The endpoint's URL needs the gateway's
port and the gateway needs the endpoint's secret, so the first time an endpoint is made with a placeholder URL,
the gateway is started with its secret, and the endpoint's URL is then changed (PATCH) to the gateway's.

A gateway takes ~1.5 s to start, so the gateways of a module are kept, one per configuration (environment), and
stopped with the module. The sandbox is reset before every test, which deletes its endpoints: for a gateway kept
from an earlier test, the endpoint is made again with the gateway's URL and the same secret (the ``secret`` field
Polar's create still takes).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager, ExitStack
from dataclasses import dataclass
from typing import Any

import httpx

from gateway.sandbox.seed import DEMO_TOKEN
from gateway.upstream.polar_webhooks import HANDLED_EVENTS
from tests.live.deliveries import Delivery
from tests.live.ws_client import TRANSPORT_WS, GraphQLSocket, connect
from tests.servers import GatewayProcess, SandboxProcess, gateway_process

PLACEHOLDER_URL = "http://127.0.0.1:9/not-yet"  # port 9 (discard): nothing answers there
WEBHOOK_ROUTE = "/webhooks/polar"
ENDPOINTS = "/v1/webhooks/endpoints"


@dataclass
class LiveGateway:
    """A gateway process on the session's sandbox, with (unless ``secret`` is None) a webhook endpoint of the
    Demo organization pointed at it."""

    sandbox: SandboxProcess
    process: GatewayProcess
    secret: str | None
    endpoint_id: str | None

    @property
    def url(self) -> str:
        return self.process.url

    @property
    def graphql_url(self) -> str:
        return self.process.graphql_url

    @property
    def webhook_url(self) -> str:
        return self.process.url + WEBHOOK_ROUTE

    def socket(
        self, protocol: str = TRANSPORT_WS, headers: Mapping[str, str] | None = None
    ) -> AbstractAsyncContextManager[GraphQLSocket]:
        return connect(self.graphql_url, protocol, headers)

    def delivery(self) -> Delivery:
        """Signs deliveries the way Polar signs this gateway's endpoint's."""
        assert self.secret is not None, "this gateway has no webhook secret"
        return Delivery(self.secret)

    def register(self, token: str = DEMO_TOKEN) -> str:
        """One more endpoint, of ``token``'s organization, at this gateway with its secret; the endpoint's id."""
        assert self.secret is not None
        endpoint_id: str = _create_endpoint(self.sandbox, token, self.webhook_url, self.secret)["id"]
        return endpoint_id

    def log(self) -> str:
        return "".join(self.process.output)


def _create_endpoint(sandbox: SandboxProcess, token: str, url: str, secret: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"url": url, "format": "raw", "events": list(HANDLED_EVENTS)}
    if secret is not None:
        body["secret"] = secret
    with httpx.Client(base_url=sandbox.url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
        response = client.post(ENDPOINTS, json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
    return created


def _point_endpoint(sandbox: SandboxProcess, endpoint_id: str, url: str) -> None:
    with httpx.Client(base_url=sandbox.url, headers={"Authorization": f"Bearer {DEMO_TOKEN}"}, timeout=10) as client:
        response = client.patch(f"{ENDPOINTS}/{endpoint_id}", json={"url": url})
        assert response.status_code == 200, response.text
        assert response.json()["url"] == url


class Gateways:
    """The gateway processes of one test module, one per environment, started when first asked for."""

    def __init__(self, sandbox: SandboxProcess, stack: ExitStack) -> None:
        self.sandbox = sandbox
        self.stack = stack
        self.started: dict[tuple[tuple[str, str], ...], tuple[GatewayProcess, str | None]] = {}

    def live(self, env: Mapping[str, str], *, with_secret: bool = True) -> LiveGateway:
        """A gateway started with ``env`` (GATEWAY_* settings), its endpoint registered on the freshly reset
        sandbox; without a secret, a gateway that was given none (and no endpoint)."""
        key = (*sorted(env.items()), ("secret", str(with_secret)))
        if key in self.started:
            process, secret = self.started[key]
            endpoint_id = None
            if secret is not None:
                endpoint_id = _create_endpoint(self.sandbox, DEMO_TOKEN, process.url + WEBHOOK_ROUTE, secret)["id"]
            return LiveGateway(self.sandbox, process, secret, endpoint_id)
        if not with_secret:
            process = self.stack.enter_context(gateway_process(self.sandbox.url, env=dict(env)))
            self.started[key] = (process, None)
            return LiveGateway(self.sandbox, process, None, None)
        placeholder = _create_endpoint(self.sandbox, DEMO_TOKEN, PLACEHOLDER_URL)
        secret = placeholder["secret"]
        process = self.stack.enter_context(
            gateway_process(self.sandbox.url, env={**env, "GATEWAY_POLAR_WEBHOOK_SECRET": secret})
        )
        _point_endpoint(self.sandbox, placeholder["id"], process.url + WEBHOOK_ROUTE)
        self.started[key] = (process, secret)
        return LiveGateway(self.sandbox, process, secret, placeholder["id"])
