"""GraphiQL from the gateway's own assets (no CDN), set up for the gateway, and seen in a real browser."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.graphiql import NPM_ASSETS, PLACEHOLDER_TOKEN
from gateway.sandbox.seed import DEMO_TOKEN
from gateway.sandbox.voucherify.seed import DEMO_APP_ID, DEMO_APP_TOKEN
from tests.node_tools import NODE_DIR, require_node_tools
from tests.servers import GatewayProcess, SandboxProcess, gateway_process

ARTIFACTS = Path(__file__).parents[2] / "artifacts" / "graphiql"
HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def demo_gateway() -> Iterator[GatewayProcess]:
    """As `make serve` runs it: on its embedded sandbox."""
    with gateway_process(None) as gateway:
        yield gateway


def _page(gateway: GatewayProcess) -> httpx.Response:
    response = httpx.get(gateway.graphql_url, headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    return response


def _settings(page: str) -> dict[str, str]:
    match = re.search(r'<script type="application/json" id="graphiql-settings">(.*?)</script>', page)
    assert match is not None
    settings: dict[str, str] = json.loads(match.group(1))
    return settings


def test_the_page_loads_every_asset_from_the_gateway_itself(demo_gateway: GatewayProcess) -> None:
    response = _page(demo_gateway)
    references = re.findall(r'(?:src|href)="([^"]*)"', response.text)
    assert len(references) == 9  # the empty icon, 2 stylesheets and 6 scripts
    assert all(ref.startswith("/graphiql/") or ref == "data:," for ref in references), references
    assert "unpkg" not in response.text
    assert "cdn" not in response.text.lower()
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "connect-src 'self'" in policy
    for name in [*NPM_ASSETS, "start.js"]:
        asset = httpx.get(f"{demo_gateway.url}/graphiql/{name}")
        assert asset.status_code == 200, name
        assert asset.headers["content-type"].startswith(("text/javascript", "text/css"))
        assert len(asset.content) > 500


def test_the_embedded_sandbox_prefills_the_demo_token_and_an_example_query(demo_gateway: GatewayProcess) -> None:
    settings = _settings(_page(demo_gateway).text)
    assert json.loads(settings["headers"]) == {
        "Authorization": f"Bearer {DEMO_TOKEN}",
        "X-Voucherify-App-Id": DEMO_APP_ID,
        "X-Voucherify-App-Token": DEMO_APP_TOKEN,
    }
    assert "customers(first: 5)" in settings["query"]
    assert settings["url"] == "/graphql"


def test_a_real_upstream_prefills_a_placeholder_not_a_token(gateway_server: GatewayProcess) -> None:
    settings = _settings(_page(gateway_server).text)
    assert json.loads(settings["headers"]) == {"Authorization": f"Bearer {PLACEHOLDER_TOKEN}"}


@pytest.mark.parametrize("name", ["package.json", "..%2Fweb%2Fpackage.json", "graphiql.min.js", "%2Fetc%2Fpasswd"])
def test_only_the_listed_assets_are_served(demo_gateway: GatewayProcess, name: str) -> None:
    assert httpx.get(f"{demo_gateway.url}/graphiql/{name}").status_code == 404


def test_missing_assets_are_a_clear_503(sandbox: SandboxProcess, tmp_path: Path) -> None:
    with gateway_process(sandbox.url, env={"GATEWAY_GRAPHIQL_ASSETS_DIR": str(tmp_path)}) as gateway:
        response = httpx.get(gateway.graphql_url, headers=HTML)
        assert response.status_code == 503
        assert "make install" in response.text
        assert "GraphiQL assets missing" in "".join(gateway.output)
        api = httpx.post(gateway.graphql_url, json={"query": "{ __typename }"})
        assert api.json() == {"data": {"__typename": "Query"}, "extensions": {"cost": {"requested": 1, "limit": 20000}}}


def test_graphiql_in_headless_chromium_runs_the_prefilled_query(demo_gateway: GatewayProcess) -> None:
    node = require_node_tools()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "graphiql.png"
    screenshot.unlink(missing_ok=True)
    env = {"GRAPHIQL_URL": demo_gateway.graphql_url, "SCREENSHOT": str(screenshot), "TIMEOUT_MS": "30000"}
    finished = subprocess.run(
        [node, "graphiql-browser.mjs"], cwd=NODE_DIR, env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    report = json.loads(finished.stdout.strip().splitlines()[-1])
    (ARTIFACTS / "browser-report.json").write_text(json.dumps(report, indent=2))
    assert "error" not in report, report["error"]
    assert report["status"] == 200
    assert DEMO_TOKEN in report["headersEditor"]
    assert "customers(first: 5)" in report["queryEditor"]
    assert '"totalCount": 250' in report["result"].replace("\xa0", " ")
    assert '"activeSubscriptions"' in report["result"]
    assert report["consoleErrors"] == []
    assert report["failedRequests"] == []
    origin = demo_gateway.url + "/"
    assert all(request.split(" ", 1)[1].startswith(origin) for request in report["requests"]), report["requests"]
    assert "POST " + demo_gateway.graphql_url in report["requests"]
    assert screenshot.stat().st_size > 20_000


def test_graphiql_in_headless_chromium_runs_a_subscription(demo_gateway: GatewayProcess) -> None:
    """customersChanged run in GraphiQL: over a WebSocket on /graphql whose connection carries the Headers
    tab's Authorization, an event shows in the result pane when a customer changes; a new connection
    carries the headers as they are then, and a refusal shows at once."""
    node = require_node_tools()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "graphiql-subscription.png"
    screenshot.unlink(missing_ok=True)
    other_token = "polar_oat_typed_in_graphiql"
    env = {
        "GRAPHIQL_URL": demo_gateway.graphql_url, "TOKEN": DEMO_TOKEN, "OTHER_TOKEN": other_token,
        "SCREENSHOT": str(screenshot), "TIMEOUT_MS": "30000",
    }  # fmt: skip
    finished = subprocess.run(
        [node, "graphiql-subscription-browser.mjs"], cwd=NODE_DIR, env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True, text=True, timeout=150, check=False,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    report = json.loads(finished.stdout.strip().splitlines()[-1])
    (ARTIFACTS / "subscription-report.json").write_text(json.dumps(report, indent=2))
    assert "error" not in report, report["error"]
    assert report["status"] == 200
    socket = report["sockets"][0]
    ws_url = "ws://" + demo_gateway.graphql_url.removeprefix("http://")
    assert socket["url"] == ws_url
    init = socket["sent"][0]
    assert init["type"] == "connection_init"
    assert init["payload"]["Authorization"] == f"Bearer {DEMO_TOKEN}"
    assert socket["received"][0]["type"] == "connection_ack"
    subscribe = socket["sent"][1]
    assert subscribe["type"] == "subscribe"
    assert "customersChanged" in subscribe["payload"]["query"]
    events = [m["payload"]["data"]["customersChanged"] for m in socket["received"] if m["type"] == "next"]
    customer = report["customer"]
    assert any(event["customerId"] == customer["id"] for event in events), events
    shown = json.loads(report["result"].replace("\xa0", " "))["data"]["customersChanged"]
    assert shown["customerId"] == customer["id"]
    assert shown["customer"] == {"id": customer["id"], "email": customer["email"]}
    assert socket["closed"]  # stopped in GraphiQL, the lazy client closed its connection
    assert {"type": "complete", "id": subscribe["id"]} in socket["sent"]
    assert report["consoleErrorsBeforeOtherToken"] == []
    assert report["failedRequests"] == []
    origin = demo_gateway.url + "/"
    assert all(request.split(" ", 1)[1].startswith(origin) for request in report["requests"]), report["requests"]
    assert screenshot.stat().st_size > 20_000

    # Typed as "AUTHORIZATION", the other token goes with the next connection as "Authorization"; the gateway
    # proves it with Polar at connection_init, Polar refuses it, and the pane shows the 4403 and its reason.
    second = report["sockets"][1]
    assert second["url"] == ws_url
    assert second["sent"][0]["type"] == "connection_init"
    assert second["sent"][0]["payload"]["Authorization"] == f"Bearer {other_token}"
    assert "AUTHORIZATION" not in second["sent"][0]["payload"]
    assert [m for m in second["received"] if m["type"] == "connection_ack"] == []
    assert "4403" in report["secondResult"]
    assert "Polar refused this token" in report["secondResult"]

    # No Authorization: closed at connection_init with 4403 and its reason, shown at once, not retried.
    third = report["sockets"][2]
    assert "Authorization" not in third["sent"][0]["payload"]
    assert "4403" in report["thirdResult"]
    assert "connectionParams" in report["thirdResult"]  # the gateway's reason says what to send
    assert report["refusedShownAfterMs"] < 5000
    assert report["connections"] == 3
