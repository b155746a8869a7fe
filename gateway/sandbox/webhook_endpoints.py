"""Polar's webhook endpoints API (``server/polar/webhook/endpoints.py``): create, list, get, update, delete and
reset the secret of an organization's endpoints, with the organization token and the ``webhooks:*`` scopes.

The endpoint is rendered as polar-sdk 1.0.2 reads it: the 2026-08 schema's fields plus ``api_version`` and
``uses_standard_webhook_signature``, which the newer server sends. Where the sandbox differs on purpose:
``http://`` URLs and loopback or private hosts are accepted (Polar refuses both), so a test or a local gateway
can listen on 127.0.0.1.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aiohttp import web

from ..polar_rules import uses_standard_signature
from .auth import WEBHOOKS_READ, WEBHOOKS_WRITE, organization_caller
from .clock import iso
from .deliveries import generate_secret
from .errors import business_validation, not_found, request_validation
from .http import json_response, read_json_body, require_object
from .model import Json, Token, WebhookEndpoint
from .ordering import page_slice, sort_records
from .query import paging, uuid_list
from .render import page
from .state import DEFAULT_VERSION, KNOWN_VERSIONS, api_version, caller_token, sandbox
from .validation import Problems, check_string, enum_message, parse_enum, parse_uuid4

EVENT_TYPES = [  # WebhookEventType, in Polar's order
    "checkout.created", "checkout.updated", "checkout.expired",
    "customer.created", "customer.updated", "customer.deleted", "customer.state_changed",
    "customer_seat.assigned", "customer_seat.claimed", "customer_seat.revoked",
    "member.created", "member.updated", "member.deleted",
    "order.created", "order.updated", "order.paid", "order.refunded",
    "subscription.created", "subscription.updated", "subscription.active", "subscription.canceled",
    "subscription.uncanceled", "subscription.cycled", "subscription.revoked", "subscription.past_due",
    "subscription.paused", "subscription.resumed",
    "refund.created", "refund.updated",
    "product.created", "product.updated",
    "discount.created", "discount.updated", "discount.deleted",
    "benefit.created", "benefit.updated",
    "benefit_grant.created", "benefit_grant.updated", "benefit_grant.cycled", "benefit_grant.revoked",
    "organization.updated",
]  # fmt: skip
FORMATS = ["raw", "discord", "slack"]
URL_MAX_LENGTH = 2083
SECRET_MIN_LENGTH = 32
SCHEMES = ("http", "https")  # Polar: https only


def render(endpoint: WebhookEndpoint) -> Json:
    return {
        "created_at": iso(endpoint.created_at),
        "modified_at": iso(endpoint.modified_at),
        "id": endpoint.id,
        "url": endpoint.url,
        "name": endpoint.name,
        "api_version": endpoint.api_version,
        "format": endpoint.format,
        "secret": endpoint.secret,
        "organization_id": endpoint.organization_id,
        "events": list(endpoint.events),
        "enabled": endpoint.enabled,
        "uses_standard_webhook_signature": uses_standard_signature(endpoint.secret),
    }


# Fields --------------------------------------------------------------------------------------


def _url(value: Any, problems: Problems) -> str | None:
    """``HttpsUrl`` as pydantic parses it, with ``http`` allowed too: stripped, at most 2083 characters, a scheme
    and a host; scheme and host lowercased and an empty path made ``/``, as the URL comes back from Polar."""
    loc = ["body", "url"]
    if not isinstance(value, str):
        problems.add("url_type", loc, "URL input should be a string or URL", value)
        return None
    text = value.strip()
    if len(text) > URL_MAX_LENGTH:
        problems.add("url_too_long", loc, f"URL should have at most {URL_MAX_LENGTH} characters", text,
                     {"max_length": URL_MAX_LENGTH})  # fmt: skip
        return None
    reason = None
    try:
        parts = urlsplit(text)
        port = parts.port  # raises on a port that is not a number in range
    except ValueError:
        reason, port = "invalid port number", None
    if reason is None and not text:
        reason = "input is empty"
    elif reason is None and not parts.scheme:
        reason = "relative URL without a base"
    if reason is not None:
        problems.add("url_parsing", loc, f"Input should be a valid URL, {reason}", text, {"error": reason})
        return None
    if parts.scheme.lower() not in SCHEMES:
        expected = enum_message(list(SCHEMES))
        problems.add("url_scheme", loc, f"URL scheme should be {expected}", text, {"expected_schemes": expected})
        return None
    if not parts.hostname:
        problems.add("url_parsing", loc, "Input should be a valid URL, empty host", text, {"error": "empty host"})
        return None
    netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    if port is not None:
        netloc += f":{port}"
    if parts.username is not None:
        credentials = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{credentials}@{netloc}"
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, parts.fragment))


def _events(value: Any, problems: Problems) -> list[str] | None:
    if not isinstance(value, list):
        problems.add("list_type", ["body", "events"], "Input should be a valid list", value)
        return None
    before = len(problems)
    events = [parse_enum(item, EVENT_TYPES, ["body", "events", index], problems) for index, item in enumerate(value)]
    return [str(event) for event in events] if len(problems) == before else None


def _secret(value: Any, problems: Problems) -> str | None:
    """The deprecated ``secret`` field: kept as given, at least 32 characters."""
    return check_string(value, ["body", "secret"], problems, min_length=SECRET_MIN_LENGTH)


def _api_version(request: web.Request, value: Any, problems: Problems) -> str | None:
    """``AvailableAPIVersion``: a version the server knows, no later than the request's own."""
    loc = ["body", "api_version"]
    if not isinstance(value, str):
        problems.add("string_type", loc, "Input should be a valid string", value)
        return None
    if value not in KNOWN_VERSIONS or value > api_version(request):
        problems.add("value_error", loc, f"Value error, Invalid API version: {value}", value, {"error": {}})
        return None
    return value


def _name(value: Any, problems: Problems) -> str | None:
    return check_string(value, ["body", "name"], problems)


def _enabled(value: Any, problems: Problems) -> bool | None:
    if isinstance(value, bool):
        return value
    problems.add("bool_type", ["body", "enabled"], "Input should be a valid boolean", value)
    return None


# Handlers ------------------------------------------------------------------------------------


def _own_endpoint(request: web.Request, token: Token) -> WebhookEndpoint:
    problems = Problems()
    endpoint_id = parse_uuid4(request.match_info["id"], ["path", "id"], problems)
    if endpoint_id is None:
        raise request_validation(problems)
    endpoint = sandbox(request).store.webhook_endpoints.get(endpoint_id)
    if endpoint is None or endpoint.organization_id != token.organization_id or endpoint.deleted_at is not None:
        raise not_found()
    return endpoint


async def list_endpoints(request: web.Request) -> web.Response:
    token = organization_caller(caller_token(request), WEBHOOKS_READ)
    problems = Problems()
    organizations = uuid_list(request.query, "organization_id", problems)
    paged = paging(request.query, problems)
    if problems:
        raise request_validation(problems)
    records = [
        endpoint
        for endpoint in sandbox(request).store.webhook_endpoints.values()
        if endpoint.organization_id == token.organization_id
        and endpoint.deleted_at is None
        and (organizations is None or endpoint.organization_id in organizations)
    ]
    ordered = sort_records(records, ["-created_at"], {"created_at": lambda e: e.created_at})
    items = [render(endpoint) for endpoint in page_slice(ordered, paged.page, paged.limit)]
    return json_response(page(items, len(ordered), paged.limit))


async def get_endpoint(request: web.Request) -> web.Response:
    token = organization_caller(caller_token(request), WEBHOOKS_READ)
    return json_response(render(_own_endpoint(request, token)))


async def create_endpoint(request: web.Request) -> web.Response:
    token = organization_caller(caller_token(request), WEBHOOKS_WRITE)
    state = sandbox(request)
    body = require_object(await read_json_body(request))
    problems = Problems()
    fields: dict[str, Any] = {}
    for key, check in (("url", _url), ("format", None), ("events", _events)):
        if key not in body:
            problems.add("missing", ["body", key], "Field required", body)
        elif check is None:
            fields[key] = parse_enum(body[key], FORMATS, ["body", key], problems)
        else:
            fields[key] = check(body[key], problems)
    name = _name(body["name"], problems) if body.get("name") is not None else None
    secret = _secret(body["secret"], problems) if body.get("secret") is not None else None
    version = (  # Polar's default: CURRENT_API_VERSION
        _api_version(request, body["api_version"], problems) if body.get("api_version") is not None else DEFAULT_VERSION
    )
    if body.get("organization_id") is not None:
        parse_uuid4(str(body["organization_id"]), ["body", "organization_id"], problems)
    if problems:
        raise request_validation(problems)
    if body.get("organization_id") is not None:
        rules = Problems()
        rules.add(
            "organization_token",
            ["body", "organization_id"],
            "Setting organization_id is disallowed when using an organization token.",
            body["organization_id"],
        )
        raise business_validation(rules)
    endpoint = WebhookEndpoint(
        id=str(uuid.uuid4()),
        organization_id=token.organization_id,
        created_at=state.clock.now(),
        url=str(fields["url"]),
        format=str(fields["format"]),
        secret=secret or generate_secret(legacy=state.deliveries.settings.legacy_secrets),
        events=list(fields["events"]),
        api_version=str(version),
        name=name,
    )
    state.store.webhook_endpoints[endpoint.id] = endpoint
    return json_response(render(endpoint), status=201)


async def update_endpoint(request: web.Request) -> web.Response:
    """PATCH: the fields sent and not null change (Polar dumps the update with ``exclude_none``)."""
    token = organization_caller(caller_token(request), WEBHOOKS_WRITE)
    state = sandbox(request)
    endpoint = _own_endpoint(request, token)
    body = require_object(await read_json_body(request))
    problems = Problems()
    changes: dict[str, Any] = {}
    checks: dict[str, Callable[[Any, Problems], Any]] = {
        "url": _url,
        "name": _name,
        "format": lambda value, found: parse_enum(value, FORMATS, ["body", "format"], found),
        "events": _events,
        "enabled": _enabled,
        "secret": _secret,
        "api_version": lambda value, found: _api_version(request, value, found),
    }
    for key, check in checks.items():
        if body.get(key) is not None:
            changes[key] = check(body[key], problems)
    if problems:
        raise request_validation(problems)
    for key, value in changes.items():
        setattr(endpoint, key, list(value) if key == "events" else value)
    endpoint.modified_at = state.clock.now()
    return json_response(render(endpoint))


async def reset_secret(request: web.Request) -> web.Response:
    """A new secret, generated as creation does; deliveries from now on are signed with it."""
    token = organization_caller(caller_token(request), WEBHOOKS_WRITE)
    state = sandbox(request)
    endpoint = _own_endpoint(request, token)
    endpoint.secret = generate_secret(legacy=state.deliveries.settings.legacy_secrets)
    endpoint.modified_at = state.clock.now()
    return json_response(render(endpoint))


async def delete_endpoint(request: web.Request) -> web.Response:
    """Soft-deletes: gone from the API at once; its pending events are skipped, not sent."""
    token = organization_caller(caller_token(request), WEBHOOKS_WRITE)
    state = sandbox(request)
    endpoint = _own_endpoint(request, token)
    endpoint.deleted_at = endpoint.modified_at = state.clock.now()
    return web.Response(status=204, content_type="application/json")


def routes() -> list[web.RouteDef]:
    return [
        web.get("/v1/webhooks/endpoints", list_endpoints),
        web.post("/v1/webhooks/endpoints", create_endpoint),
        web.get("/v1/webhooks/endpoints/{id}", get_endpoint),
        web.patch("/v1/webhooks/endpoints/{id}", update_endpoint),
        web.delete("/v1/webhooks/endpoints/{id}", delete_endpoint),
        web.patch("/v1/webhooks/endpoints/{id}/secret", reset_secret),
    ]
