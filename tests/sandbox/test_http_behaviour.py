"""What the schema cannot express: slashes, versions, unknown routes, auth answers, scopes,
organizations, rate limits and the test controls."""

from __future__ import annotations

import time

import httpx
import pytest

from gateway.sandbox.seed import DEMO_TOKEN
from tests.servers import SandboxProcess

INVALID_TOKEN_BODY = {
    "error": "invalid_token",
    "error_description": "The access token provided is expired, revoked, malformed, or invalid for other reasons.",
}
INSUFFICIENT_SCOPE_BODY = {
    "error": "insufficient_scope",
    "error_description": "The request requires higher privileges than provided by the access token.",
}
UNAUTHORIZED_BODY = {"error": "Unauthorized", "detail": "Unauthorized"}


def test_collection_without_slash_is_a_307_keeping_the_query(demo: httpx.Client) -> None:
    response = demo.get("/v1/customers", params={"limit": 3})
    assert response.status_code == 307
    assert response.headers["location"] == str(demo.base_url).rstrip("/") + "/v1/customers/?limit=3"
    followed = demo.get("/v1/customers", params={"limit": 3}, follow_redirects=True)
    assert len(followed.json()["items"]) == 3


def test_unknown_route_and_wrong_method_have_fastapi_bodies(demo: httpx.Client) -> None:
    missing = demo.get("/v1/nothing-here/")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})
    wrong = demo.put("/v1/customers/")
    assert (wrong.status_code, wrong.json()) == (405, {"detail": "Method Not Allowed"})


@pytest.mark.parametrize(
    ("sent", "echoed"), [(None, "2026-04"), ("", "2026-04"), ("2026-04", "2026-04"), ("2026-10", "2026-10")]
)
def test_known_versions_are_echoed(demo: httpx.Client, sent: str | None, echoed: str) -> None:
    headers = {"Polar-Version": sent} if sent is not None else {}
    response = demo.get("/v1/customers/", headers=headers)
    assert response.status_code == 200
    assert response.headers["polar-version"] == echoed
    assert response.headers["cache-control"] == "private, no-store"
    assert response.headers["x-polar-sandbox"] == "1"


@pytest.mark.parametrize("version", ["1999-01", "latest", "2026-4"])
def test_unknown_version_is_404(demo: httpx.Client, version: str) -> None:
    response = demo.get("/v1/customers/", headers={"Polar-Version": version})
    assert (response.status_code, response.json()) == (404, {"detail": "Not Found"})


def test_the_version_is_checked_before_the_token(sandbox: SandboxProcess) -> None:
    """Polar's ``APIVersionMiddleware`` is added last (``add_versioned_routers``), so it is the outermost: an
    unknown version is a 404 whatever the token, and a bad token with a known version is the usual 401."""
    url = f"{sandbox.url}/v1/customers/"
    unknown = httpx.get(url, headers={"Authorization": "Bearer polar_oat_unknown", "Polar-Version": "1999-01"})
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "Not Found"})
    known = httpx.get(url, headers={"Authorization": "Bearer polar_oat_unknown", "Polar-Version": "2026-10"})
    assert (known.status_code, known.headers["polar-version"]) == (401, "2026-10")


def test_no_token_is_401_unauthorized(anonymous: httpx.Client) -> None:
    response = anonymous.get("/v1/customers/")
    assert (response.status_code, response.json()) == (401, UNAUTHORIZED_BODY)
    assert response.headers["www-authenticate"] == 'Bearer realm="polar"'


@pytest.mark.parametrize("token", ["nonsense", "polar_oat_unknown", "polar_cst_unknown"])
def test_bad_tokens_are_401_invalid_token(sandbox: SandboxProcess, token: str) -> None:
    response = httpx.get(f"{sandbox.url}/v1/customers/", headers={"Authorization": f"Bearer {token}"})
    assert (response.status_code, response.json()) == (401, INVALID_TOKEN_BODY)
    assert response.headers["www-authenticate"].startswith('Bearer realm="polar", error="invalid_token"')
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"


def test_missing_scope_is_403_and_changes_nothing(demo_read: httpx.Client, demo: httpx.Client) -> None:
    before = demo.get("/v1/customers/", params={"limit": 1}).json()["pagination"]["total_count"]
    attempts = [
        demo_read.post("/v1/customers/", json={"email": "scope@fastmail.com"}),
        demo_read.get("/v1/subscriptions/"),
        demo_read.get("/v1/benefit-grants/"),
        demo_read.get("/v1/customer-meters/"),
        demo_read.post("/v1/customer-sessions/", json={"external_customer_id": "x"}),
    ]
    for response in attempts:
        assert (response.status_code, response.json()) == (403, INSUFFICIENT_SCOPE_BODY), response.request.url
        assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    first = demo.get("/v1/customers/", params={"limit": 1}).json()["items"][0]
    denied = demo_read.patch(f"/v1/customers/{first['id']}", json={"name": "Nope"})
    assert denied.status_code == 403
    assert 'scope="customers:write"' in denied.headers["www-authenticate"]
    assert demo.get(f"/v1/customers/{first['id']}").json() == first
    assert demo.get("/v1/customers/", params={"limit": 1}).json()["pagination"]["total_count"] == before
    assert demo_read.get("/v1/customers/").status_code == 200


def test_organizations_are_isolated(demo: httpx.Client, other: httpx.Client) -> None:
    demo_customer = demo.get("/v1/customers/", params={"limit": 1}).json()["items"][0]
    other_list = other.get("/v1/customers/", params={"limit": 100}).json()
    assert other_list["pagination"]["total_count"] == 12
    assert demo_customer["id"] not in {c["id"] for c in other_list["items"]}
    for method in ("GET", "PATCH", "DELETE"):
        response = other.request(
            method, f"/v1/customers/{demo_customer['id']}", json={"name": "x"} if method == "PATCH" else None
        )
        assert (response.status_code, response.json()["error"]) == (404, "ResourceNotFound")
    assert other.get(f"/v1/customers/{demo_customer['id']}/state").status_code == 404
    if demo_customer["external_id"]:
        assert other.get(f"/v1/customers/external/{demo_customer['external_id']}").status_code == 404
    assert other.get("/v1/subscriptions/", params={"customer_id": demo_customer["id"]}).json()["items"] == []
    assert demo.get(f"/v1/customers/{demo_customer['id']}").json() == demo_customer
    filtered = demo.get("/v1/customers/", params={"organization_id": other_list["items"][0]["organization_id"]})
    assert filtered.json() == {"items": [], "pagination": {"total_count": 0, "max_page": 0}}


def test_session_token_is_refused_on_customer_endpoints_and_oat_on_portal(demo: httpx.Client) -> None:
    customer = demo.get("/v1/customers/", params={"limit": 1}).json()["items"][0]
    token = demo.post("/v1/customer-sessions/", json={"customer_id": customer["id"]}).json()["token"]
    as_customer = demo.get("/v1/customers/", headers={"Authorization": f"Bearer {token}"})
    assert (as_customer.status_code, as_customer.json()) == (401, UNAUTHORIZED_BODY)
    oat_on_portal = demo.get("/v1/customer-portal/orders/")
    assert (oat_on_portal.status_code, oat_on_portal.json()) == (401, UNAUTHORIZED_BODY)


def test_expired_session_is_invalid_token(demo: httpx.Client, sandbox: SandboxProcess) -> None:
    customer = demo.get("/v1/customers/", params={"limit": 1}).json()["items"][0]
    session = demo.post("/v1/customer-sessions/", json={"customer_id": customer["id"]}).json()
    portal = {"Authorization": f"Bearer {session['token']}"}
    assert demo.get("/v1/customer-portal/orders/", headers=portal).status_code == 200
    with sandbox.control() as control:
        control.post("/__sandbox/clock", json={"advance_seconds": 3601}).raise_for_status()
    expired = demo.get("/v1/customer-portal/orders/", headers=portal)
    assert (expired.status_code, expired.json()) == (401, INVALID_TOKEN_BODY)


def test_rate_limit_is_per_organization_with_empty_429(
    demo: httpx.Client, other: httpx.Client, sandbox: SandboxProcess
) -> None:
    with sandbox.control() as control:
        control.post("/__sandbox/faults", json={"rate_limit_per_minute": 3}).raise_for_status()
    answers = [demo.get("/v1/customers/").status_code for _ in range(3)]
    limited = demo.get("/v1/customers/")
    assert answers == [200, 200, 200]
    assert limited.status_code == 429
    assert limited.content == b""
    assert limited.headers["retry-after"] == "60"
    assert "content-type" not in limited.headers
    assert other.get("/v1/customers/").status_code == 200


def test_injected_faults_are_counted_by_route(demo: httpx.Client, sandbox: SandboxProcess) -> None:
    with sandbox.control() as control:
        control.post("/__sandbox/faults", json={"error_rate": 1.0}).raise_for_status()
        demo.get("/v1/customers/")
        demo.post("/v1/customers/", json={"email": "x@fastmail.com"})
        control.post("/__sandbox/faults", json={"error_rate": 0.0}).raise_for_status()
        demo.get("/v1/customers/")
        faults = control.get("/__sandbox/stats").json()["faults"]
    assert faults == {"total": 2, "by_route": {"GET /v1/customers/": 1, "POST /v1/customers/": 1}}


def test_injected_errors_drops_and_latency(demo: httpx.Client, sandbox: SandboxProcess) -> None:
    with sandbox.control() as control:
        control.post("/__sandbox/faults", json={"error_rate": 1.0, "error_status": 502}).raise_for_status()
        assert demo.get("/v1/customers/").status_code == 502
        control.post("/__sandbox/faults", json={"error_rate": 0.0, "drop_rate": 1.0}).raise_for_status()
        with pytest.raises(httpx.TransportError):
            demo.get("/v1/customers/")
        control.post("/__sandbox/faults", json={"drop_rate": 0.0, "latency_ms": 150}).raise_for_status()
        started = time.monotonic()
        assert demo.get("/v1/customers/").status_code == 200
        assert time.monotonic() - started >= 0.15  # a lower bound: the sandbox slept at least that long
        assert control.get("/__sandbox/faults").json()["latency_ms"] == 150


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"latency": 5}, "unknown fault 'latency'"),
        ({"error_rate": 2}, "error_rate must be a number between 0 and 1"),
        ({"error_status": 200}, "error_status must be an HTTP status between 400 and 599"),
        ({"rate_limit_per_minute": 0}, "rate_limit_per_minute must be a positive integer or null"),
        ([], "body must be a JSON object"),
    ],
)
def test_bad_fault_settings_are_refused_and_change_nothing(sandbox: SandboxProcess, body: object, message: str) -> None:
    with sandbox.control() as control:
        before = control.get("/__sandbox/faults").json()
        response = control.post("/__sandbox/faults", json=body)
        assert response.status_code == 400
        assert message in response.json()["detail"]
        assert control.get("/__sandbox/faults").json() == before


def test_stats_count_by_route_template_and_reset_zeroes_them(demo: httpx.Client, sandbox: SandboxProcess) -> None:
    first = demo.get("/v1/customers/", params={"limit": 2}).json()["items"]
    for customer in first:
        demo.get(f"/v1/customers/{customer['id']}")
        demo.get(f"/v1/customers/{customer['id']}/state")
    demo.get("/v1/subscriptions/", params=[("customer_id", c["id"]) for c in first])
    with sandbox.control() as control:
        stats = control.get("/__sandbox/stats").json()
        assert stats == {
            "total": 6,
            "by_route": {
                "GET /v1/customers/": 1,
                "GET /v1/customers/{id}": 2,
                "GET /v1/customers/{id}/state": 2,
                "GET /v1/subscriptions/": 1,
            },
            "faults": {"total": 0, "by_route": {}},
        }
        control.post("/__sandbox/reset").raise_for_status()
        assert control.get("/__sandbox/stats").json() == {
            "total": 0,
            "by_route": {},
            "faults": {"total": 0, "by_route": {}},
        }


def test_reset_restores_the_seed(demo: httpx.Client, sandbox: SandboxProcess) -> None:
    before = demo.get("/v1/customers/", params={"limit": 5}).json()
    demo.delete(f"/v1/customers/{before['items'][0]['id']}")
    demo.post("/v1/customers/", json={"email": "reset@fastmail.com"})
    with sandbox.control() as control:
        control.post("/__sandbox/reset").raise_for_status()
    assert demo.get("/v1/customers/", params={"limit": 5}).json() == before


def test_info_names_the_seed_tokens(sandbox: SandboxProcess) -> None:
    with sandbox.control() as control:
        info = control.get("/__sandbox/info").json()
    assert {o["name"] for o in info["organizations"]} == {"Demo", "Other"}
    assert info["tokens"][DEMO_TOKEN]["scopes"] == sorted(set(info["tokens"][DEMO_TOKEN]["scopes"]))
    assert info["tokens"]["polar_oat_sandbox_demo_read"]["scopes"] == ["customers:read"]


def test_the_timeline_shows_concurrent_and_sequential_requests(demo: httpx.Client, sandbox: SandboxProcess) -> None:
    with sandbox.control() as control:
        control.post("/__sandbox/faults", json={"latency_ms": 50}).raise_for_status()
        demo.get("/v1/customers/", headers={"X-Request-Id": "first"})
        demo.get("/v1/customers/")
        entries = control.get("/__sandbox/timeline").json()["requests"]
    assert [entry["route"] for entry in entries] == ["GET /v1/customers/", "GET /v1/customers/"]
    assert [entry["request_id"] for entry in entries] == ["first", None]
    first, second = entries
    assert first["end"] - first["start"] >= 0.05
    assert second["start"] >= first["end"]  # one after the other: two round trips
