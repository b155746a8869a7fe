"""Customer sessions (organization token) and the customer portal's orders (session token),
contract section 7."""

from __future__ import annotations

import secrets
import string
import uuid
import zlib
from datetime import timedelta
from typing import Any

from aiohttp import web

from . import render
from .auth import PORTAL_READ, PORTAL_WRITE, SESSION_WRITE, customer_caller, organization_caller
from .errors import business_validation, not_found, request_validation
from .http import json_response, read_json_body, require_object
from .model import Customer, CustomerSession, Order, Token
from .ordering import page_slice, sort_records
from .query import enum_list, paging, sorting, uuid_list
from .state import caller_token, sandbox
from .validation import Problems, check_address, check_string, parse_uuid4

SESSION_TTL = timedelta(hours=1)
TOKEN_ALPHABET = string.ascii_letters + string.digits
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
ORDER_SORTS = ["created_at", "amount", "net_amount", "product", "subscription"]


def session_token(prefix: str) -> str:
    """Polar's ``generate_token``: 37 random letters and digits, then the CRC32 of those 37 in base 62
    (``0-9A-Za-z``), zero-padded to 6 characters."""
    random_part = "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(37))
    return prefix + random_part + base62_checksum(random_part)


def base62_checksum(text: str) -> str:
    number = zlib.crc32(text.encode()) & 0xFFFFFFFF
    digits = ""
    while number:
        number, remainder = divmod(number, 62)
        digits = BASE62[remainder] + digits
    return digits.zfill(6)


async def create_session(request: web.Request) -> web.Response:
    token = organization_caller(caller_token(request), SESSION_WRITE)
    state = sandbox(request)
    body = require_object(await read_json_body(request))
    problems = Problems()
    external_key = next((k for k in ("external_customer_id", "customer_external_id") if k in body), None)
    if "customer_id" not in body and external_key is None:
        problems.add("missing", ["body", "CustomerSessionCustomerIDCreate", "customer_id"], "Field required", body)
        problems.add(
            "missing",
            ["body", "CustomerSessionCustomerExternalIDCreate", "external_customer_id"],
            "Field required",
            body,
        )
        raise request_validation(problems)
    return_url = body.get("return_url")
    if (
        return_url is not None
        and check_string(return_url, ["body", "return_url"], problems, max_length=2083)
        and not str(return_url).startswith(("http://", "https://"))
    ):
        problems.add(
            "url_parsing",
            ["body", "return_url"],
            "Input should be a valid URL, relative URL without a base",
            return_url,
            {"error": "relative URL without a base"},
        )
    customer: Customer | None = None
    loc: list[Any]
    if "customer_id" in body:
        loc = ["body", "customer_id"]
        raw = body["customer_id"]
        customer_id = parse_uuid4(raw, loc, problems) if isinstance(raw, str) else None
        if not isinstance(raw, str):
            problems.add("string_type", loc, "Input should be a valid string", raw)
        if problems:
            raise request_validation(problems)
        customer = state.store.live_customer(token.organization_id, str(customer_id))
    else:
        loc = ["body", str(external_key)]
        external_id = check_string(body[str(external_key)], loc, problems)
        if problems:
            raise request_validation(problems)
        customer = state.store.customer_by_external_id(token.organization_id, str(external_id))
    if customer is None:
        rules = Problems()
        rules.add("value_error", loc, "Customer does not exist.", body.get(loc[-1]))
        raise business_validation(rules)

    now = state.clock.now()
    value = session_token("polar_cst_")
    session = CustomerSession(str(uuid.uuid4()), value, customer.id, now, now + SESSION_TTL, return_url)
    state.store.sessions[session.id] = session
    state.store.tokens[value] = Token(
        value,
        customer.organization_id,
        frozenset({"customer_portal:write"}),
        customer_id=customer.id,
        expires_at=session.expires_at,
    )
    return json_response(render.customer_session(state.store, session), status=201)


async def get_me(request: web.Request) -> web.Response:
    """``GET /v1/customer-portal/customers/me``: the customer the session token belongs to."""
    token = customer_caller(caller_token(request), PORTAL_READ)
    customer = sandbox(request).store.live_customer(token.organization_id, str(token.customer_id))
    if customer is None:
        raise not_found()
    return json_response(render.portal_customer(customer))


def _own_order(request: web.Request, token: Token) -> Order:
    problems = Problems()
    order_id = parse_uuid4(request.match_info["id"], ["path", "id"], problems)
    if order_id is None:
        raise request_validation(problems)
    order = sandbox(request).store.orders.get(order_id)
    if order is None or order.customer_id != token.customer_id:
        raise not_found()
    return order


async def list_orders(request: web.Request) -> web.Response:
    token = customer_caller(caller_token(request), PORTAL_READ)
    store = sandbox(request).store
    query = request.query
    problems = Problems()
    products = uuid_list(query, "product_id", problems)
    billing_types = enum_list(query, "product_billing_type", ["one_time", "recurring"], problems)
    subscriptions = uuid_list(query, "subscription_id", problems)
    page = paging(query, problems)
    criteria = sorting(query, [v for n in ORDER_SORTS for v in (n, f"-{n}")], "-created_at", problems)
    if problems:
        raise request_validation(problems)
    text = query.get("query", "").lower()

    def keep(order: Order) -> bool:
        product = store.products[order.product_id]
        billing_type = "recurring" if product.recurring_interval else "one_time"
        return (
            (products is None or order.product_id in products)
            and (billing_types is None or billing_type in billing_types)
            and (subscriptions is None or order.subscription_id in subscriptions)
            and text in product.name.lower()
        )

    records = [o for o in store.orders_by_customer.get(str(token.customer_id), ()) if keep(o)]
    keys = {
        "created_at": lambda o: o.created_at,
        "amount": lambda o: o.net_amount,
        "net_amount": lambda o: o.net_amount,
        "product": lambda o: store.products[o.product_id].name,
        "subscription": lambda o: o.subscription_id,
    }
    ordered = sort_records(records, criteria, keys)
    items = [render.order(store, o) for o in page_slice(ordered, page.page, page.limit)]
    return json_response(render.page(items, len(ordered), page.limit))


async def get_order(request: web.Request) -> web.Response:
    token = customer_caller(caller_token(request), PORTAL_READ)
    return json_response(render.order(sandbox(request).store, _own_order(request, token)))


async def update_order(request: web.Request) -> web.Response:
    """Writes only the fields sent; once an address is set, its country and state are fixed."""
    token = customer_caller(caller_token(request), PORTAL_WRITE)
    state = sandbox(request)
    order = _own_order(request, token)
    body = require_object(await read_json_body(request))
    problems = Problems()
    billing_name = body.get("billing_name")
    if billing_name is not None:
        check_string(billing_name, ["body", "billing_name"], problems)
    address = None
    if body.get("billing_address") is not None:
        address = check_address(body["billing_address"], ["body", "billing_address"], problems)
    if problems:
        raise request_validation(problems)
    rules = Problems()
    if address is not None and order.billing_address is not None:
        if address["country"] != order.billing_address.get("country"):
            rules.add(
                "value_error", ["body", "billing_address", "country"], "Country cannot be changed", address["country"]
            )
        if address["state"] != order.billing_address.get("state"):
            rules.add("value_error", ["body", "billing_address", "state"], "State cannot be changed", address["state"])
    if rules:
        raise business_validation(rules)
    if "billing_name" in body:
        order.billing_name = billing_name
    if "billing_address" in body:
        order.billing_address = address
    order.modified_at = state.clock.now()
    return json_response(render.order(state.store, order))


def routes() -> list[web.RouteDef]:
    return [
        web.post("/v1/customer-sessions/", create_session),
        web.get("/v1/customer-portal/customers/me", get_me),
        web.get("/v1/customer-portal/orders/", list_orders),
        web.get("/v1/customer-portal/orders/{id}", get_order),
        web.patch("/v1/customer-portal/orders/{id}", update_order),
    ]
