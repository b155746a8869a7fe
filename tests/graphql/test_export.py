"""``GET /export/customers.csv``: the upstream's CSV streamed through, clear errors, flat memory."""

from __future__ import annotations

import httpx
import pytest

from gateway.sandbox.seed import DEMO_READ_TOKEN, DEMO_TOKEN
from tests.graphql_client import GraphQL
from tests.servers import GatewayProcess, SandboxProcess, gateway_process, sandbox_process


def _export(gateway: GatewayProcess, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"{gateway.url}/export/customers.csv", headers=headers, timeout=60)


def test_the_export_is_polars_csv(gateway_server: GatewayProcess, gql: GraphQL, demo: httpx.Client) -> None:
    response = _export(gateway_server, DEMO_TOKEN)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="polar-customers.csv"'
    assert response.content == demo.get("/v1/customers/export").content
    assert response.text.count("\r\n") == 251
    assert _export(gateway_server, DEMO_READ_TOKEN).status_code == 200  # customers:read is enough


@pytest.mark.parametrize(
    ("token", "status", "code"),
    [(None, 401, "UNAUTHENTICATED"), ("polar_oat_not_a_token", 401, "UNAUTHENTICATED"),
     ("polar_cst_some_session", 403, "FORBIDDEN")],
)  # fmt: skip
def test_refusals_are_clear(
    gateway_server: GatewayProcess, gql: GraphQL, token: str | None, status: int, code: str
) -> None:
    response = _export(gateway_server, token)
    assert response.status_code == status
    assert response.json()["errors"][0]["extensions"]["code"] == code
    if token is None or token.startswith("polar_cst_"):
        assert gql.upstream_calls() == {}  # refused before any upstream call


def test_an_unavailable_upstream_is_a_502(
    gateway_server: GatewayProcess, gql: GraphQL, sandbox: SandboxProcess
) -> None:
    with sandbox.control() as control:
        control.post("/__sandbox/faults", json={"error_rate": 1.0, "error_status": 503}).raise_for_status()
    response = _export(gateway_server, DEMO_TOKEN)
    assert response.status_code == 502
    assert response.json()["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"


def test_memory_stays_flat_exporting_100000_customers() -> None:
    """The gateway's resident memory, sampled while the CSV streams through it, grows far less than the
    CSV's size: it never holds the export."""
    with sandbox_process(customers=100_000, timeout=120) as big, gateway_process(big.url) as gateway:
        baseline = gateway.rss_bytes()
        peak = baseline
        size = 0
        rows = 0
        with httpx.stream("GET", f"{gateway.url}/export/customers.csv", timeout=120,
                          headers={"Authorization": f"Bearer {DEMO_TOKEN}"}) as response:  # fmt: skip
            assert response.status_code == 200
            for index, chunk in enumerate(response.iter_bytes()):
                size += len(chunk)
                rows += chunk.count(b"\n")  # a CRLF may straddle two chunks; the LF is in one
                if index % 20 == 0:
                    peak = max(peak, gateway.rss_bytes())
        peak = max(peak, gateway.rss_bytes())
    assert rows == 100_001
    assert size > 15 * 2**20
    growth = peak - baseline
    print(f"export of {size / 2**20:.1f} MB: gateway RSS {baseline / 2**20:.1f} MB -> peak {peak / 2**20:.1f} MB")
    assert growth < 10 * 2**20, f"grew {growth / 2**20:.1f} MB for a {size / 2**20:.1f} MB export"


@pytest.mark.parametrize("public_url", ["https://api.example.com", "https://example.com/gateway/"])
def test_the_export_url_uses_public_url_not_the_host_header(
    sandbox_server: SandboxProcess, sandbox: SandboxProcess, public_url: str
) -> None:
    with gateway_process(sandbox_server.url, env={"GATEWAY_PUBLIC_URL": public_url}) as gateway:
        for host in (None, "evil.example.com"):
            headers = {"Authorization": f"Bearer {DEMO_TOKEN}", **({"Host": host} if host else {})}
            body = httpx.post(gateway.graphql_url, json={"query": "{ customersExportUrl }"}, headers=headers).json()
            url = public_url.rstrip("/") + "/export/customers.csv"
            assert body == {"data": {"customersExportUrl": url}, "extensions": {"cost": {"requested": 1, "limit": 20000}}}


@pytest.mark.parametrize("public_url", ["api.example.com", "ftp://example.com", "https://", "https://x.example?a=1"])
def test_a_public_url_that_is_not_an_absolute_http_url_is_refused_at_start(public_url: str) -> None:
    starting = gateway_process("http://127.0.0.1:9", env={"GATEWAY_PUBLIC_URL": public_url}, timeout=20)
    with pytest.raises(RuntimeError, match="public_url: Value error, must be an absolute http"), starting:
        pass
