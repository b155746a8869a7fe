"""The eleven customer operations (contract sections 2 to 4 and 9), id and external-id twins
side by side."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from typing import Any

from aiohttp import web

from ..polar_rules import NAME_MAX_LENGTH
from . import render
from .auth import CUSTOMER_READ, CUSTOMER_WRITE, organization_caller
from .clock import iso
from .errors import business_validation, detail, not_found, request_validation
from .events import Events
from .http import json_response, read_json_body, require_object
from .model import LIST_ACTIVE_STATUSES, Customer, Token
from .ordering import page_slice, sort_records
from .query import metadata_filter, metadata_matches, optional_bool, paging, sorting, uuid_list
from .state import SandboxState, caller_token, sandbox
from .validation import (
    Problems,
    check_address,
    check_email,
    check_locale,
    check_metadata,
    check_string,
    parse_bool,
    parse_enum,
    parse_uuid4,
    validate_tax_id,
)

SORT_VALUES = ["created_at", "-created_at", "email", "-email", "name", "-name"]
SORT_KEYS = {
    "created_at": lambda c: c.created_at,
    "email": lambda c: c.email,
    "name": lambda c: c.name,
}
EXPORT_HEADER = [
    "ID",
    "External ID",
    "Created At",
    "Email",
    "Name",
    "Tax ID",
    "Billing Address Line 1",
    "Billing Address Line 2",
    "Billing Address City",
    "Billing Address State",
    "Billing Address Zip",
    "Billing Address Country",
    "Metadata",
]
EXPORT_CHUNK_ROWS = 500
_EMAIL_TAKEN = "A customer with this email address already exists."
_EXTERNAL_ID_TAKEN = "A customer with this external ID already exists."
_TEAM_NEEDS_OWNER = "An owner with an email address is required when creating a team customer without an email."


# Lookups ------------------------------------------------------------------------------------


def _customer_by_id(request: web.Request, token: Token) -> Customer:
    problems = Problems()
    customer_id = parse_uuid4(request.match_info["id"], ["path", "id"], problems)
    if customer_id is None:
        raise request_validation(problems)
    customer = sandbox(request).store.live_customer(token.organization_id, customer_id)
    if customer is None:
        raise not_found()
    return customer


def _customer_by_external_id(request: web.Request, token: Token) -> Customer:
    external_id = request.match_info["external_id"]
    customer = sandbox(request).store.customer_by_external_id(token.organization_id, external_id)
    if customer is None:
        raise not_found()
    return customer


# List ---------------------------------------------------------------------------------------


async def list_customers(request: web.Request) -> web.Response:
    token = organization_caller(caller_token(request), CUSTOMER_READ)
    state = sandbox(request)
    query = request.query
    problems = Problems()
    organizations = uuid_list(query, "organization_id", problems)
    active = optional_bool(query, "active", problems)
    page = paging(query, problems)
    criteria = sorting(query, SORT_VALUES, "-created_at", problems)
    if problems:
        raise request_validation(problems)
    if organizations is not None and token.organization_id not in organizations:
        return json_response(render.page([], 0, page.limit))
    records = state.store.live_customers(token.organization_id)
    if (email := query.get("email")) is not None:
        records = [c for c in records if c.email is not None and c.email.lower() == email.lower()]
    if (text := query.get("query")) is not None:
        records = [c for c in records if _matches_query(c, text.lower())]
    if active is not None:
        records = [c for c in records if _is_active(state, c) == active]
    if wanted := metadata_filter(query):
        records = [c for c in records if metadata_matches(c.metadata, wanted)]
    ordered = sort_records(records, criteria, SORT_KEYS)
    items = [render.customer(c) for c in page_slice(ordered, page.page, page.limit)]
    return json_response(render.page(items, len(ordered), page.limit))


def _matches_query(customer: Customer, text: str) -> bool:
    billing_name = customer.billing_name if customer.billing_name is not None else customer.name
    return any(
        value is not None and text in value.lower() for value in (customer.email, customer.name, billing_name)
    ) or (customer.external_id is not None and customer.external_id.lower().startswith(text))


def _is_active(state: SandboxState, customer: Customer) -> bool:
    return any(s.status in LIST_ACTIVE_STATUSES for s in state.store.subscriptions_by_customer.get(customer.id, ()))


# Create -------------------------------------------------------------------------------------


def _optional_text(
    body: dict[str, Any], key: str, problems: Problems, max_length: int | None = None, base: list[Any] | None = None
) -> str | None:
    """A nullable string field where ``""`` means null."""
    value = body.get(key)
    if value is None:
        return None
    text = check_string(value, [*(base or ["body"]), key], problems, max_length=max_length)
    return text or None


def _create_body(raw: Any) -> tuple[dict[str, Any], str]:
    """The body and its kind. ``CustomerCreate`` is a union whose tag is ``type`` (``individual`` when absent):
    pydantic puts the tag after ``body`` in the ``loc`` of every error inside it."""
    if raw is None:
        raise request_validation([detail("missing", ["body"], "Field required", None)])
    kind = raw.get("type", "individual") if isinstance(raw, dict) else "individual"
    if kind not in ("individual", "team"):
        raise request_validation(
            [
                {
                    "type": "union_tag_invalid",
                    "loc": ["body"],
                    "msg": f"Input tag '{kind}' found using 'type' does not match any of the expected tags: "
                    "'individual', 'team'",
                    "input": raw,
                    "ctx": {"discriminator": "'type'", "tag": str(kind), "expected_tags": "'individual', 'team'"},
                }
            ]
        )
    return require_object(raw, ["body", kind]), str(kind)


async def create_customer(request: web.Request) -> web.Response:
    token = organization_caller(caller_token(request), CUSTOMER_WRITE)
    state = sandbox(request)
    body, kind = _create_body(await read_json_body(request))
    base = ["body", kind]
    problems = Problems()
    email: str | None = None
    if "email" not in body and kind == "individual":
        problems.add("missing", [*base, "email"], "Field required", body)
    elif body.get("email") is not None or kind == "individual":
        email = check_email(body.get("email"), [*base, "email"], problems)
    external_id = _optional_text(body, "external_id", problems, base=base)
    name = _optional_text(body, "name", problems, max_length=NAME_MAX_LENGTH, base=base)
    address = (
        check_address(body["billing_address"], [*base, "billing_address"], problems)
        if body.get("billing_address") is not None
        else None
    )
    tax_number = _optional_text(body, "tax_id", problems, base=base)
    locale = check_locale(body["locale"], [*base, "locale"], problems) if body.get("locale") is not None else None
    metadata = check_metadata(body.get("metadata", {}), [*base, "metadata"], problems)
    if body.get("organization_id") is not None:
        parse_uuid4(str(body["organization_id"]), [*base, "organization_id"], problems)
    owner_email = _check_owner(body.get("owner"), problems, base)
    if kind == "team" and not problems and email is None and owner_email is None:
        # CustomerTeamCreate's model validator, which pydantic runs only once every field is valid
        problems.add("value_error", base, f"Value error, {_TEAM_NEEDS_OWNER}", body, {"error": {}})
    if problems:
        raise request_validation(problems)

    rules = Problems()
    if body.get("organization_id") is not None:
        rules.add(
            "organization_token",
            ["body", "organization_id"],
            "Setting organization_id is disallowed when using an organization token.",
            body["organization_id"],
        )
        raise business_validation(rules)
    if email is not None and state.store.email_owner(token.organization_id, email):
        rules.add("value_error", ["body", "email"], _EMAIL_TAKEN, email)
    if external_id is not None and state.store.external_id_owner(token.organization_id, external_id):
        rules.add("value_error", ["body", "external_id"], _EXTERNAL_ID_TAKEN, external_id)
    tax_id = _check_tax_id(tax_number, address, rules)
    if rules:
        raise business_validation(rules)

    now = state.clock.now()
    customer = Customer(
        id=_new_id(),
        organization_id=token.organization_id,
        created_at=now,
        type=kind,
        email=email,
        name=name,
        billing_address=address,
        tax_id=tax_id,
        locale=locale,
        metadata=metadata or {},
        external_id=external_id,
        owner_email=owner_email,
    )
    state.store.add_customer(customer)
    events = Events(state, customer)
    events.customer_event("customer.created")
    events.state_changed()
    return json_response(render.customer(customer), status=201)


def _check_owner(value: Any, problems: Problems, base: list[Any]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        problems.add(
            "model_attributes_type",
            [*base, "owner"],
            "Input should be a valid dictionary or object to extract fields from",
            value,
        )
        return None
    if "email" not in value:
        problems.add("missing", [*base, "owner", "email"], "Field required", value)
        return None
    return check_email(value["email"], [*base, "owner", "email"], problems)


def _check_tax_id(number: str | None, address: dict[str, str | None] | None, rules: Problems) -> tuple[str, str] | None:
    if number is None:
        return None
    if address is None:
        rules.add("missing", ["body", "billing_address"], "Country is required to validate tax ID.", None)
        return None
    tax_id = validate_tax_id(number, str(address["country"]))
    if tax_id is None:
        rules.add("invalid", ["body", "tax_id"], "Invalid tax ID.", number)
    return tax_id


def _new_id() -> str:
    return str(uuid.uuid4())


# Get ----------------------------------------------------------------------------------------


async def get_customer(request: web.Request) -> web.Response:
    token = organization_caller(caller_token(request), CUSTOMER_READ)
    return json_response(render.customer(_customer_by_id(request, token)))


async def get_customer_external(request: web.Request) -> web.Response:
    token = organization_caller(caller_token(request), CUSTOMER_READ)
    return json_response(render.customer(_customer_by_external_id(request, token)))


async def get_state(request: web.Request) -> web.Response:
    token = organization_caller(caller_token(request), CUSTOMER_READ)
    customer = _customer_by_id(request, token)
    return json_response(render.customer_state(sandbox(request).store, customer))


async def get_state_external(request: web.Request) -> web.Response:
    token = organization_caller(caller_token(request), CUSTOMER_READ)
    customer = _customer_by_external_id(request, token)
    return json_response(render.customer_state(sandbox(request).store, customer))


# Update -------------------------------------------------------------------------------------


async def update_customer(request: web.Request) -> web.Response:
    token = organization_caller(caller_token(request), CUSTOMER_WRITE)
    customer = _customer_by_id(request, token)
    return await _update(request, customer, by_external_id=False)


async def update_customer_external(request: web.Request) -> web.Response:
    token = organization_caller(caller_token(request), CUSTOMER_WRITE)
    customer = _customer_by_external_id(request, token)
    return await _update(request, customer, by_external_id=True)


async def _update(request: web.Request, customer: Customer, *, by_external_id: bool) -> web.Response:
    """PATCH semantics: only the fields sent change; every rule is checked before any is applied."""
    state = sandbox(request)
    body = require_object(await read_json_body(request))
    if by_external_id:  # CustomerUpdateExternalID has neither field; unknown fields are ignored
        body = {k: v for k, v in body.items() if k not in ("external_id", "type")}
    problems = Problems()
    changes: dict[str, Any] = {}
    if body.get("email") is not None:  # Polar's service acts on email only when it is not None: null changes nothing
        changes["email"] = check_email(body["email"], ["body", "email"], problems)
    if "name" in body:
        changes["name"] = _optional_text(body, "name", problems, max_length=NAME_MAX_LENGTH)
    if "billing_address" in body:
        changes["billing_address"] = (
            check_address(body["billing_address"], ["body", "billing_address"], problems)
            if body["billing_address"] is not None
            else None
        )
    if "tax_id" in body:
        changes["tax_id"] = _optional_text(body, "tax_id", problems)
    if "locale" in body:
        changes["locale"] = (
            check_locale(body["locale"], ["body", "locale"], problems) if body["locale"] is not None else None
        )
    if "metadata" in body:
        changes["metadata"] = check_metadata(body["metadata"], ["body", "metadata"], problems)
    if "external_id" in body:
        changes["external_id"] = _optional_text(body, "external_id", problems)
    if body.get("type") is not None:
        changes["type"] = parse_enum(body["type"], ["individual", "team"], ["body", "type"], problems)
    if problems:
        raise request_validation(problems)

    rules = Problems()
    org = customer.organization_id
    new_email = changes.get("email")
    if new_email is not None and state.store.email_owner(org, new_email) not in (None, customer.id):
        rules.add("value_error", ["body", "email"], _EMAIL_TAKEN, new_email)
    if "external_id" in changes and changes["external_id"] != customer.external_id:
        if customer.external_id is not None:
            rules.add(
                "value_error",
                ["body", "external_id"],
                "Customer external ID cannot be updated.",
                changes["external_id"],
            )
        elif state.store.external_id_owner(org, changes["external_id"]) is not None:
            rules.add("value_error", ["body", "external_id"], _EXTERNAL_ID_TAKEN, changes["external_id"])
    if changes.get("type") == "individual" and customer.type == "team":
        rules.add(
            "value_error",
            ["body", "type"],
            "Customer type cannot be downgraded from 'team' to 'individual'.",
            "individual",
        )
    if "billing_address" in changes and changes["billing_address"] is None and customer.billing_address is not None:
        rules.add(
            "value_error",
            ["body", "billing_address"],
            "Customer billing address cannot be reset to null once set.",
            None,
        )
    address = changes.get("billing_address") or customer.billing_address
    new_tax_id = customer.tax_id
    if "tax_id" in changes:
        new_tax_id = _check_tax_id(changes["tax_id"], address, rules)
    elif "billing_address" in changes and customer.tax_id is not None and address is not None:
        new_tax_id = validate_tax_id(customer.tax_id[0], str(address["country"]))
        if new_tax_id is None:
            rules.add("invalid", ["body", "tax_id"], "Invalid tax ID.", customer.tax_id[0])
    if rules:
        raise business_validation(rules)

    state.store.unindex_customer(customer)
    if new_email is not None:
        if customer.email is None or new_email.lower() != customer.email.lower():
            customer.email_verified = False
        customer.email = new_email
    for key in ("name", "locale", "metadata", "external_id", "type"):
        if key in changes:
            setattr(customer, key, changes[key])
    if changes.get("billing_address") is not None:
        customer.billing_address = changes["billing_address"]
    customer.tax_id = new_tax_id
    customer.modified_at = state.clock.now()
    state.store.index_customer(customer)
    events = Events(state, customer)  # on every successful update, even one that changed nothing (Polar's too)
    events.customer_event("customer.updated")
    events.state_changed()
    return json_response(render.customer(customer))


# Delete -------------------------------------------------------------------------------------


async def delete_customer(request: web.Request) -> web.Response:
    token = organization_caller(caller_token(request), CUSTOMER_WRITE)
    anonymize = _anonymize_flag(request)
    _soft_delete(sandbox(request), _customer_by_id(request, token), anonymize)
    return _no_content()


async def delete_customer_external(request: web.Request) -> web.Response:
    token = organization_caller(caller_token(request), CUSTOMER_WRITE)
    anonymize = _anonymize_flag(request)
    _soft_delete(sandbox(request), _customer_by_external_id(request, token), anonymize)
    return _no_content()


def _no_content() -> web.Response:
    """FastAPI's 204 keeps the route's ``application/json`` content type, with an empty body."""
    return web.Response(status=204, content_type="application/json")


def _anonymize_flag(request: web.Request) -> bool:
    if "anonymize" not in request.query:
        return False
    problems = Problems()
    value = parse_bool(request.query["anonymize"], ["query", "anonymize"], problems)
    if value is None:
        raise request_validation(problems)
    return value


def _soft_delete(state: SandboxState, customer: Customer, anonymize: bool) -> None:
    """Frees the email and external id, ends subscriptions and revokes benefits (section 2), then sends
    ``customer.deleted``, each subscription's ``updated``, ``canceled`` and ``revoked`` (Polar's
    ``subscription.cancel_customer`` job revokes them at once), each grant's ``benefit_grant.revoked``
    (``benefit.revoke_customer``) and the state."""
    now = state.clock.now()
    state.store.unindex_customer(customer)
    customer.deleted_at = customer.modified_at = now
    if customer.external_id is not None:
        customer.metadata = {**customer.metadata, "__external_id": customer.external_id}
        customer.external_id = None
    ended = [s for s in state.store.subscriptions_by_customer.get(customer.id, ()) if s.status in LIST_ACTIVE_STATUSES]
    for subscription in ended:
        subscription.status = "canceled"
        subscription.canceled_at = subscription.ended_at = subscription.ends_at = now
        subscription.modified_at = now
    revoked = [grant for grant in state.store.grants_by_customer.get(customer.id, ()) if grant.is_granted]
    for grant in revoked:
        grant.revoked_at = grant.modified_at = now
    if anonymize:
        if customer.email is not None:
            digest = hashlib.sha256((customer.created_at.isoformat() + customer.email).encode()).hexdigest()
            customer.email = f"{digest}@anonymized.polar.sh"
        if customer.name is not None and customer.tax_id is None:
            customer.name = hashlib.sha256(customer.name.encode()).hexdigest()
        if customer.billing_name is not None:
            customer.billing_name = hashlib.sha256(customer.billing_name.encode()).hexdigest()
        customer.billing_address = None
        customer.metadata = {**customer.metadata, "__anonymized_at": str(iso(now))}
    events = Events(state, customer)
    events.customer_event("customer.deleted")
    for subscription in ended:
        for event_type in ("subscription.updated", "subscription.canceled", "subscription.revoked"):
            events.subscription(event_type, subscription)
    for grant in revoked:
        events.grant("benefit_grant.revoked", grant, grant.properties)
    events.state_changed()


# Export -------------------------------------------------------------------------------------


async def export_customers(request: web.Request) -> web.StreamResponse:
    """Streams the CSV in chunks, so memory stays flat however many customers there are."""
    token = organization_caller(caller_token(request), CUSTOMER_READ)
    problems = Problems()
    organizations = uuid_list(request.query, "organization_id", problems)
    if problems:
        raise request_validation(problems)
    records = (
        []
        if organizations is not None and token.organization_id not in organizations
        else sandbox(request).store.live_customers(token.organization_id)
    )
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": 'attachment; filename="polar-customers.csv"',
        }
    )
    await response.prepare(request)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_HEADER)
    for index, customer in enumerate(records, start=1):
        writer.writerow(_export_row(customer))
        if index % EXPORT_CHUNK_ROWS == 0:
            await response.write(buffer.getvalue().encode())
            buffer.seek(0)
            buffer.truncate()
    await response.write(buffer.getvalue().encode())
    await response.write_eof()
    return response


def _export_row(customer: Customer) -> list[str | None]:
    address: dict[str, str | None] = customer.billing_address or {}
    tax_id = None
    if customer.tax_id is not None:
        value, tax_format = customer.tax_id
        tax_id = f"('{value}', <TaxIDFormat.{tax_format}: '{tax_format}'>)"
    return [
        customer.id,
        customer.external_id,
        customer.created_at.isoformat(),
        customer.email,
        customer.name,
        tax_id,
        address.get("line1"),
        address.get("line2"),
        address.get("city"),
        address.get("state"),
        address.get("postal_code"),
        address.get("country"),
        json.dumps(render.jsonb_order(customer.metadata)) if customer.metadata else None,
    ]


def routes() -> list[web.RouteDef]:
    """Declared in Polar's order: ``/export`` before ``/{id}``."""
    return [
        web.get("/v1/customers/", list_customers),
        web.post("/v1/customers/", create_customer),
        web.get("/v1/customers/export", export_customers),
        web.get("/v1/customers/external/{external_id}/state", get_state_external),
        web.get("/v1/customers/external/{external_id}", get_customer_external),
        web.patch("/v1/customers/external/{external_id}", update_customer_external),
        web.delete("/v1/customers/external/{external_id}", delete_customer_external),
        web.get("/v1/customers/{id}/state", get_state),
        web.get("/v1/customers/{id}", get_customer),
        web.patch("/v1/customers/{id}", update_customer),
        web.delete("/v1/customers/{id}", delete_customer),
    ]
