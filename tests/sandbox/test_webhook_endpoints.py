"""Polar's webhook endpoints API in the sandbox: create, list, get, update, reset the secret, delete; the
422s of a bad body, the scopes, and one organization never seeing another's endpoints."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from polar.v2026_10 import Polar
from polar.v2026_10.errors import ResourceNotFound

from gateway.sandbox.seed import DEMO_TOKEN, DEMO_WEBHOOKS_READ_TOKEN
from tests.servers import SandboxProcess

PATH = "/v1/webhooks/endpoints"
UNKNOWN_ID = "6f1c2a4e-8b7d-4c3e-9f2a-1b2c3d4e5f60"
KEYS = [
    "created_at", "modified_at", "id", "url", "name", "api_version", "format", "secret", "organization_id",
    "events", "enabled", "uses_standard_webhook_signature",
]  # fmt: skip


def _create(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {"url": "https://hooks.example.com/polar", "format": "raw", "events": ["customer.created"], **fields}
    response = client.post(PATH, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _problems(response: httpx.Response) -> list[tuple[str, tuple[Any, ...]]]:
    assert response.status_code == 422, response.text
    return [(d["type"], tuple(d["loc"])) for d in response.json()["detail"]]


def test_create_get_update_reset_delete(demo: httpx.Client) -> None:
    created = _create(
        demo, url=" HTTP://127.0.0.1:8787 ", name="local", events=["customer.created", "customer.updated"]
    )
    assert list(created) == KEYS
    organization_id = demo.get("/v1/customers/", params={"limit": 1}).json()["items"][0]["organization_id"]
    assert created["url"] == "http://127.0.0.1:8787/"  # stripped, lowercased, an empty path made "/"
    assert (created["name"], created["format"], created["events"]) == (
        "local",
        "raw",
        ["customer.created", "customer.updated"],
    )
    assert (created["enabled"], created["api_version"], created["organization_id"]) == (
        True,
        "2026-04",
        organization_id,
    )
    assert created["modified_at"] is None
    # Polar's current secrets: whsec_ and the base64 of 32 random bytes, signed per the Standard Webhooks spec
    assert created["secret"].startswith("whsec_")
    assert len(base64.b64decode(created["secret"][6:], validate=True)) == 32
    assert created["uses_standard_webhook_signature"] is True
    assert demo.get(f"{PATH}/{created['id']}").json() == created

    updated = demo.patch(f"{PATH}/{created['id']}", json={"events": ["customer.state_changed"], "enabled": False,
                                                          "name": None, "url": None})  # fmt: skip
    assert updated.status_code == 200, updated.text
    changed = updated.json()
    assert (changed["events"], changed["enabled"]) == (["customer.state_changed"], False)
    assert (changed["name"], changed["url"]) == ("local", created["url"])  # null changes nothing (exclude_none)
    assert changed["modified_at"] is not None

    reset = demo.patch(f"{PATH}/{created['id']}/secret")
    assert reset.status_code == 200
    assert reset.json()["secret"] != created["secret"]
    assert reset.json()["uses_standard_webhook_signature"] is True

    deleted = demo.delete(f"{PATH}/{created['id']}")
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert demo.get(f"{PATH}/{created['id']}").json() == {"error": "ResourceNotFound", "detail": "Not found"}
    assert demo.delete(f"{PATH}/{created['id']}").status_code == 404
    assert demo.get(PATH).json()["items"] == []


def test_list_is_newest_first_and_paged(demo: httpx.Client) -> None:
    ids = [_create(demo, name=f"hook {n}")["id"] for n in range(12)]
    first = demo.get(PATH, params={"limit": 5}).json()
    assert first["pagination"] == {"total_count": 12, "max_page": 3}
    pages = [demo.get(PATH, params={"limit": 5, "page": page}).json()["items"] for page in (1, 2, 3)]
    assert [item["id"] for items in pages for item in items] == ids[::-1]
    assert demo.get(PATH, params={"page": 0}).status_code == 422


def test_a_secret_given_is_kept_and_api_versions_follow_the_request(demo: httpx.Client) -> None:
    """The deprecated ``secret`` field (32 characters at least) is kept as given; one not in the Standard Webhooks
    form is signed with its own UTF-8 bytes, as Polar signs its older secrets."""
    given = _create(demo, secret="s" * 32)
    assert (given["secret"], given["uses_standard_webhook_signature"]) == ("s" * 32, False)
    spec = "whsec_" + base64.b64encode(b"k" * 32).decode()
    assert _create(demo, secret=spec)["uses_standard_webhook_signature"] is True
    assert _create(demo, api_version="2026-04")["api_version"] == "2026-04"
    later = demo.post(
        PATH, json={"url": "https://a.example.com", "format": "raw", "events": [], "api_version": "2027-01"}
    )
    assert _problems(later) == [("value_error", ("body", "api_version"))]
    newer = demo.post(PATH, headers={"Polar-Version": "2027-01"},
                      json={"url": "https://a.example.com", "format": "raw", "events": [], "api_version": "2027-01"})  # fmt: skip
    assert (newer.status_code, newer.json()["api_version"]) == (201, "2027-01")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, [("missing", ("body", "url")), ("missing", ("body", "format")), ("missing", ("body", "events"))]),
        ({"url": "ftp://example.com", "format": "raw", "events": []}, [("url_scheme", ("body", "url"))]),
        ({"url": "/relative", "format": "raw", "events": []}, [("url_parsing", ("body", "url"))]),
        ({"url": "", "format": "raw", "events": []}, [("url_parsing", ("body", "url"))]),
        ({"url": 7, "format": "raw", "events": []}, [("url_type", ("body", "url"))]),
        ({"url": "https://" + "a" * 2100, "format": "raw", "events": []}, [("url_too_long", ("body", "url"))]),
        ({"url": "https://a.example.com", "format": "xml", "events": []}, [("enum", ("body", "format"))]),
        ({"url": "https://a.example.com", "format": "raw", "events": "customer.created"}, [("list_type", ("body", "events"))]),
        ({"url": "https://a.example.com", "format": "raw", "events": ["customer.created", "customer.exploded"]},
         [("enum", ("body", "events", 1))]),
        ({"url": "https://a.example.com", "format": "raw", "events": [], "secret": "short"},
         [("string_too_short", ("body", "secret"))]),
    ],
)  # fmt: skip
def test_a_bad_body_is_refused_with_every_problem(
    demo: httpx.Client, body: dict[str, Any], expected: list[Any]
) -> None:
    assert _problems(demo.post(PATH, json=body)) == expected


def test_organization_id_is_refused_with_an_organization_token(demo: httpx.Client) -> None:
    response = demo.post(PATH, json={"url": "https://a.example.com", "format": "raw", "events": [],
                                     "organization_id": UNKNOWN_ID})  # fmt: skip
    assert response.status_code == 422
    assert response.json()["error"] == "PolarRequestValidationError"
    assert response.json()["detail"][0]["type"] == "organization_token"


def test_paths_ids_and_slashes(demo: httpx.Client) -> None:
    assert demo.get(f"{PATH}/{UNKNOWN_ID}").status_code == 404
    assert _problems(demo.get(f"{PATH}/not-a-uuid")) == [("uuid_parsing", ("path", "id"))]
    assert _problems(demo.patch(f"{PATH}/{UNKNOWN_ID}".replace("-4c3e-", "-1c3e-"), json={})) == [
        ("uuid_version", ("path", "id"))
    ]
    redirected = demo.get(PATH + "/")
    assert (redirected.status_code, redirected.headers["location"].endswith(PATH)) == (307, True)
    created = _create(demo)
    assert _problems(demo.patch(f"{PATH}/{created['id']}", json={"enabled": "yes", "format": "xml"})) == [
        ("enum", ("body", "format")), ("bool_type", ("body", "enabled"))]  # fmt: skip


def test_scopes(sandbox: SandboxProcess, demo_read: httpx.Client, anonymous: httpx.Client) -> None:
    """``webhooks:read`` or ``webhooks:write`` to read, ``webhooks:write`` to change; customer sessions never."""
    read = demo_read.get(PATH)
    assert (read.status_code, read.json()["error"]) == (403, "insufficient_scope")
    assert 'scope="webhooks:read webhooks:write"' in read.headers["www-authenticate"]
    assert anonymous.get(PATH).status_code == 401
    with httpx.Client(base_url=sandbox.url, headers={"Authorization": f"Bearer {DEMO_WEBHOOKS_READ_TOKEN}"}) as reader:
        assert reader.get(PATH).status_code == 200
        write = reader.post(PATH, json={"url": "https://a.example.com", "format": "raw", "events": []})
        assert write.status_code == 403
        assert 'scope="webhooks:write"' in write.headers["www-authenticate"]
    with httpx.Client(base_url=sandbox.url, headers={"Authorization": f"Bearer {DEMO_TOKEN}"}) as demo:
        customer_id = demo.get("/v1/customers/", params={"limit": 1}).json()["items"][0]["id"]
        session = demo.post("/v1/customer-sessions/", json={"customer_id": customer_id}).json()["token"]
    with httpx.Client(base_url=sandbox.url, headers={"Authorization": f"Bearer {session}"}) as portal:
        assert portal.get(PATH).status_code == 401


def test_an_organization_sees_only_its_own_endpoints(demo: httpx.Client, other: httpx.Client) -> None:
    mine = _create(demo)
    theirs = _create(other)
    assert [e["id"] for e in demo.get(PATH).json()["items"]] == [mine["id"]]
    assert [e["id"] for e in other.get(PATH).json()["items"]] == [theirs["id"]]
    assert other.get(f"{PATH}/{mine['id']}").status_code == 404
    assert other.patch(f"{PATH}/{mine['id']}", json={"enabled": False}).status_code == 404
    assert other.patch(f"{PATH}/{mine['id']}/secret").status_code == 404
    assert other.delete(f"{PATH}/{mine['id']}").status_code == 404
    assert demo.get(f"{PATH}/{mine['id']}").json() == mine
    filtered = demo.get(PATH, params={"organization_id": theirs["organization_id"]}).json()
    assert filtered == {"items": [], "pagination": {"total_count": 0, "max_page": 0}}


def test_polar_sdk_reads_every_answer(sandbox: SandboxProcess) -> None:
    """polar-sdk 1.0.2 requires ``api_version`` and ``uses_standard_webhook_signature``, which the 2026-08
    server did not send: the sandbox sends them."""
    polar = Polar(DEMO_TOKEN, base_url=sandbox.url, timeout=10)
    created = polar.webhooks.create_webhook_endpoint(url="https://a.example.com/x", format="raw",
                                                     events=["customer.created"])  # fmt: skip
    assert created.uses_standard_webhook_signature is True
    assert polar.webhooks.get_webhook_endpoint(created.id).secret == created.secret
    assert [e.id for e in polar.webhooks.list_webhook_endpoints(limit=10).items] == [created.id]
    assert polar.webhooks.update_webhook_endpoint(created.id, enabled=False).enabled is False
    assert polar.webhooks.reset_webhook_endpoint_secret(created.id).secret != created.secret
    polar.webhooks.delete_webhook_endpoint(created.id)
    with pytest.raises(ResourceNotFound):
        polar.webhooks.get_webhook_endpoint(created.id)


def test_reset_removes_every_endpoint(sandbox: SandboxProcess, demo: httpx.Client) -> None:
    _create(demo)
    sandbox.reset()
    assert demo.get(PATH).json()["items"] == []
