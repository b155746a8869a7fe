"""The three multi-customer lists a gateway can rebuild customer state from (contract section 8):
subscriptions, benefit grants and customer meters, each with repeated ``customer_id=``.

Only the caller's organization is visible, and records of deleted customers are left out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TypeVar

from aiohttp import web
from multidict import MultiMapping

from . import render
from .auth import BENEFITS_READ, METERS_READ, SUBSCRIPTIONS_READ, organization_caller
from .errors import request_validation
from .http import json_response
from .model import ACTIVE_STATUSES, BenefitGrant, Customer, CustomerMeter, Json, Subscription, Token
from .ordering import HasId, page_slice, sort_records
from .query import Paging, enum_list, metadata_filter, metadata_matches, optional_bool, paging, sorting, uuid_list
from .state import caller_token, sandbox
from .store import Store
from .validation import Problems, parse_datetime

R = TypeVar("R", bound=HasId)

SUBSCRIPTION_STATUSES = [
    "incomplete",
    "incomplete_expired",
    "trialing",
    "active",
    "past_due",
    "canceled",
    "unpaid",
    "paused",
]
CANCELLATION_REASONS = [
    "customer_service",
    "low_quality",
    "missing_features",
    "switched_service",
    "too_complex",
    "too_expensive",
    "unused",
    "other",
]
SUBSCRIPTION_SORTS = [
    "customer",
    "status",
    "started_at",
    "current_period_end",
    "ended_at",
    "ends_at",
    "amount",
    "product",
    "discount",
]
GRANT_SORTS = ["created_at", "granted_at", "revoked_at"]
METER_SORTS = [
    "created_at",
    "modified_at",
    "customer_id",
    "customer_name",
    "meter_id",
    "meter_name",
    "consumed_units",
    "credited_units",
    "balance",
]


def _with_signs(names: list[str]) -> list[str]:
    return [value for name in names for value in (name, f"-{name}")]


class _CustomerScope:
    """The customers a list may show: the caller's organization, narrowed by the id filters."""

    def __init__(self, store: Store, token: Token, query: MultiMapping[str], problems: Problems) -> None:
        self.store = store
        self.organizations = uuid_list(query, "organization_id", problems)
        self.customer_ids = uuid_list(query, "customer_id", problems)
        external = query.getall("external_customer_id", [])
        self.external_ids = set(external) if external else None
        self.organization_id = token.organization_id

    def allows(self, customer_id: str) -> bool:
        customer: Customer | None = self.store.customers.get(customer_id)
        if customer is None or customer.deleted_at is not None or customer.organization_id != self.organization_id:
            return False
        if self.organizations is not None and self.organization_id not in self.organizations:
            return False
        if self.customer_ids is not None and customer_id not in self.customer_ids:
            return False
        return self.external_ids is None or customer.external_id in self.external_ids

    def candidates(self, by_customer: dict[str, list[R]]) -> list[R]:
        """Records of the allowed customers in insertion (creation) order, the order ties keep when sorted;
        only the named customers are touched when ids are given."""
        ids: Iterable[str] = self.customer_ids if self.customer_ids is not None else list(by_customer)
        found = [
            record
            for customer_id in dict.fromkeys(ids)
            if self.allows(customer_id)
            for record in by_customer.get(customer_id, ())
        ]
        return sorted(found, key=lambda record: self.store.position(record.id))


def _respond(
    records: list[R],
    criteria: list[str],
    keys: dict[str, Callable[[R], object]],
    page: Paging,
    draw: Callable[[R], Json],
) -> web.Response:
    ordered = sort_records(records, criteria, keys)
    return json_response(
        render.page([draw(r) for r in page_slice(ordered, page.page, page.limit)], len(ordered), page.limit)
    )


def _between(value: datetime | None, after: datetime | None, before: datetime | None) -> bool:
    if after is None and before is None:
        return True
    if value is None:
        return False
    return (after is None or value >= after) and (before is None or value <= before)


async def list_subscriptions(request: web.Request) -> web.Response:
    token = organization_caller(caller_token(request), SUBSCRIPTIONS_READ)
    store = sandbox(request).store
    query = request.query
    problems = Problems()
    scope = _CustomerScope(store, token, query, problems)
    products = uuid_list(query, "product_id", problems)
    discounts = uuid_list(query, "discount_id", problems)
    active = optional_bool(query, "active", problems)
    statuses = enum_list(query, "status", SUBSCRIPTION_STATUSES, problems)
    cancel_at_period_end = optional_bool(query, "cancel_at_period_end", problems)
    reasons = enum_list(query, "customer_cancellation_reason", CANCELLATION_REASONS, problems)
    bounds = {
        name: parse_datetime(query[name], ["query", name], problems) if name in query else None
        for name in ("canceled_at_after", "canceled_at_before", "started_after", "started_before")
    }
    page = paging(query, problems)
    criteria = sorting(query, _with_signs(SUBSCRIPTION_SORTS), "-started_at", problems)
    if problems:
        raise request_validation(problems)
    wanted_metadata = metadata_filter(query)

    def keep(s: Subscription) -> bool:
        return (
            s.started_at is not None
            and (products is None or s.product_id in products)
            and discounts is None
            and (active is None or (s.status in ACTIVE_STATUSES) == active)
            and (statuses is None or s.status in statuses)
            and (cancel_at_period_end is None or s.cancel_at_period_end == cancel_at_period_end)
            and (reasons is None or s.customer_cancellation_reason in reasons)
            and _between(s.canceled_at, bounds["canceled_at_after"], bounds["canceled_at_before"])
            and _between(s.started_at, bounds["started_after"], bounds["started_before"])
            and metadata_matches(s.metadata, wanted_metadata)
        )

    records = [s for s in scope.candidates(store.subscriptions_by_customer) if keep(s)]
    keys: dict[str, Callable[[Subscription], object]] = {
        "customer": lambda s: store.customers[s.customer_id].email,
        "status": lambda s: s.status,
        "started_at": lambda s: s.started_at,
        "current_period_end": lambda s: s.current_period_end,
        "ended_at": lambda s: s.ended_at,
        "ends_at": lambda s: s.ends_at,
        "amount": lambda s: s.amount,
        "product": lambda s: store.products[s.product_id].name,
        "discount": lambda s: None,
    }
    return _respond(records, criteria, keys, page, lambda s: render.subscription(store, s))


async def list_benefit_grants(request: web.Request) -> web.Response:
    token = organization_caller(caller_token(request), BENEFITS_READ)
    store = sandbox(request).store
    query = request.query
    problems = Problems()
    scope = _CustomerScope(store, token, query, problems)
    is_granted = optional_bool(query, "is_granted", problems)
    page = paging(query, problems)
    criteria = sorting(query, _with_signs(GRANT_SORTS), "-created_at", problems)
    if problems:
        raise request_validation(problems)
    records = [
        g
        for g in scope.candidates(store.grants_by_customer)
        if g.deleted_at is None and (is_granted is None or g.is_granted == is_granted)
    ]
    keys: dict[str, Callable[[BenefitGrant], object]] = {
        "created_at": lambda g: g.created_at,
        "granted_at": lambda g: g.granted_at,
        "revoked_at": lambda g: g.revoked_at,
    }
    return _respond(records, criteria, keys, page, lambda g: render.grant(store, g))


async def list_customer_meters(request: web.Request) -> web.Response:
    token = organization_caller(caller_token(request), METERS_READ)
    store = sandbox(request).store
    query = request.query
    problems = Problems()
    scope = _CustomerScope(store, token, query, problems)
    meter_ids = uuid_list(query, "meter_id", problems)
    page = paging(query, problems)
    criteria = sorting(query, _with_signs(METER_SORTS), "-modified_at", problems)
    if problems:
        raise request_validation(problems)
    records = [m for m in scope.candidates(store.meters_by_customer) if meter_ids is None or m.meter_id in meter_ids]
    keys: dict[str, Callable[[CustomerMeter], object]] = {
        "created_at": lambda m: m.created_at,
        "modified_at": lambda m: m.modified_at,
        "customer_id": lambda m: m.customer_id,
        "customer_name": lambda m: store.customers[m.customer_id].name,
        "meter_id": lambda m: m.meter_id,
        "meter_name": lambda m: store.meters[m.meter_id].name,
        "consumed_units": lambda m: m.consumed_units,
        "credited_units": lambda m: m.credited_units,
        "balance": lambda m: m.balance,
    }
    return _respond(records, criteria, keys, page, lambda m: render.customer_meter(store, m))


def routes() -> list[web.RouteDef]:
    return [
        web.get("/v1/subscriptions/", list_subscriptions),
        web.get("/v1/benefit-grants/", list_benefit_grants),
        web.get("/v1/customer-meters/", list_customer_meters),
    ]
