"""What Polar answers about customers, their state and their sessions, as typed records read from its
JSON here, so that no other layer knows a key of it.

Records are frozen dataclasses rather than TypedDicts: a TypedDict is still read with string keys, which
would carry Polar's names into every reader; attributes are checked by mypy and cost nothing at run time.
Enumerated values (a customer's ``type``, a subscription's ``status``) stay Polar's strings; the GraphQL
layer has the enums. Free-form maps (``metadata``, custom field data) stay as Polar sent them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from .pages import Page

Json = dict[str, Any]
T = TypeVar("T")


def moment(value: str) -> datetime:
    return datetime.fromisoformat(value)


def maybe_moment(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address, sent and received alike; US and CA states as ISO 3166-2 codes (``US-NY``)."""

    country: str
    line1: str | None = None
    line2: str | None = None
    postal_code: str | None = None
    city: str | None = None
    state: str | None = None


@dataclass(frozen=True, slots=True)
class TaxId:
    value: str
    format: str  # the format Polar recognised, e.g. eu_vat


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    type: str
    external_id: str | None
    email: str | None
    email_verified: bool
    name: str | None
    billing_name: str | None
    billing_address: Address | None
    tax_id: TaxId | None
    locale: str | None
    metadata: Json
    organization_id: str
    default_payment_method_id: str | None
    created_at: datetime
    modified_at: datetime | None
    deleted_at: datetime | None
    first_user_event_at: datetime | None
    avatar_url: str | None


@dataclass(frozen=True, slots=True)
class PortalCustomer:
    """The customer a session token belongs to, as the portal shows them (no metadata, no external id)."""

    id: str
    type: str | None
    email: str | None
    email_verified: bool
    name: str | None
    billing_name: str | None
    billing_address: Address | None
    tax_id: TaxId | None
    locale: str | None
    default_payment_method_id: str | None
    oauth_accounts: Any
    created_at: datetime
    modified_at: datetime | None


@dataclass(frozen=True, slots=True)
class CustomerSession:
    id: str
    token: str
    expires_at: datetime
    return_url: str | None
    customer_portal_url: str
    customer: Customer
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SubscriptionMeter:
    id: str
    created_at: datetime
    modified_at: datetime | None
    consumed_units: float
    credited_units: int
    amount: int
    meter_id: str


@dataclass(frozen=True, slots=True)
class ActiveSubscription:
    id: str
    created_at: datetime
    modified_at: datetime | None
    custom_field_data: Any
    metadata: Any
    status: str
    amount: int
    currency: str
    recurring_interval: str
    current_period_start: datetime
    current_period_end: datetime
    trial_start: datetime | None
    trial_end: datetime | None
    cancel_at_period_end: bool
    canceled_at: datetime | None
    started_at: datetime | None
    ends_at: datetime | None
    product_id: str
    discount_id: str | None
    price_id: str | None
    meters: tuple[SubscriptionMeter, ...]


@dataclass(frozen=True, slots=True)
class BenefitGrant:
    id: str
    created_at: datetime
    modified_at: datetime | None
    granted_at: datetime
    benefit_id: str
    benefit_type: str
    benefit_metadata: Any
    properties: Any


@dataclass(frozen=True, slots=True)
class CustomerMeter:
    id: str
    created_at: datetime
    modified_at: datetime | None
    meter_id: str
    consumed_units: float
    credited_units: int
    balance: float


@dataclass(frozen=True, slots=True)
class CustomerState:
    active_subscriptions: list[ActiveSubscription]
    granted_benefits: list[BenefitGrant]
    active_meters: list[CustomerMeter]


# Readers ------------------------------------------------------------------------------------------


def read_page(data: Json, read: Callable[[Json], T]) -> Page[T]:
    """A ``{items, pagination}`` answer, each item read by ``read``."""
    return Page(items=[read(item) for item in data["items"]], total=data["pagination"]["total_count"])


def last_page(data: Json) -> int:
    """The number of a list answer's last page."""
    last: int = data["pagination"]["max_page"]
    return last


def read_address(data: Json | None) -> Address | None:
    if data is None:
        return None
    return Address(
        country=data["country"],
        line1=data.get("line1"),
        line2=data.get("line2"),
        postal_code=data.get("postal_code"),
        city=data.get("city"),
        state=data.get("state"),
    )


def write_address(address: Address | None) -> Json | None:
    if address is None:
        return None
    return {"line1": address.line1, "line2": address.line2, "postal_code": address.postal_code,
            "city": address.city, "state": address.state, "country": address.country}  # fmt: skip


def read_tax_id(data: list[str] | None) -> TaxId | None:
    """Polar sends ``[value, format]``, or null."""
    return TaxId(value=data[0], format=data[1]) if data else None


def read_customer(data: Json) -> Customer:
    return Customer(
        id=data["id"],
        type=data["type"],
        external_id=data.get("external_id"),
        email=data.get("email"),
        email_verified=data["email_verified"],
        name=data.get("name"),
        billing_name=data.get("billing_name"),
        billing_address=read_address(data.get("billing_address")),
        tax_id=read_tax_id(data.get("tax_id")),
        locale=data.get("locale"),
        metadata=data.get("metadata", {}),
        organization_id=data["organization_id"],
        default_payment_method_id=data.get("default_payment_method_id"),
        created_at=moment(data["created_at"]),
        modified_at=maybe_moment(data.get("modified_at")),
        deleted_at=maybe_moment(data.get("deleted_at")),
        first_user_event_at=maybe_moment(data.get("first_user_event_at")),
        avatar_url=data.get("avatar_url"),
    )


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    id: str
    secret: str = field(repr=False)  # signs the endpoint's deliveries: never printed


def read_webhook_endpoint(data: Json) -> WebhookEndpoint:
    return WebhookEndpoint(id=data["id"], secret=data["secret"])


def read_portal_customer(data: Json) -> PortalCustomer:
    return PortalCustomer(
        id=data["id"],
        type=data.get("type"),
        email=data.get("email"),
        email_verified=data["email_verified"],
        name=data.get("name"),
        billing_name=data.get("billing_name"),
        billing_address=read_address(data.get("billing_address")),
        tax_id=read_tax_id(data.get("tax_id")),
        locale=data.get("locale"),
        default_payment_method_id=data.get("default_payment_method_id"),
        oauth_accounts=data.get("oauth_accounts", {}),
        created_at=moment(data["created_at"]),
        modified_at=maybe_moment(data.get("modified_at")),
    )


def read_session(data: Json) -> CustomerSession:
    return CustomerSession(
        id=data["id"],
        token=data["token"],
        expires_at=moment(data["expires_at"]),
        return_url=data.get("return_url"),
        customer_portal_url=data["customer_portal_url"],
        customer=read_customer(data["customer"]),
        created_at=moment(data["created_at"]),
    )


def read_state(data: Json) -> CustomerState:
    """From ``/v1/customers/{id}/state``."""
    return CustomerState(
        active_subscriptions=[read_state_subscription(s) for s in data["active_subscriptions"]],
        granted_benefits=[read_state_grant(g) for g in data["granted_benefits"]],
        active_meters=[read_meter(m) for m in data["active_meters"]],
    )


def read_state_subscription(data: Json) -> ActiveSubscription:
    """A subscription of ``/state``, which names its price."""
    return _subscription(data, data.get("price_id"))


def read_listed_subscription(data: Json) -> tuple[str, ActiveSubscription]:
    """An item of ``/v1/subscriptions/`` with its customer's id; its prices are a list: the state names the first."""
    prices = data.get("prices")
    return data["customer_id"], _subscription(data, prices[0]["id"] if prices else None)


def _subscription(data: Json, price_id: str | None) -> ActiveSubscription:
    return ActiveSubscription(
        id=data["id"],
        created_at=moment(data["created_at"]),
        modified_at=maybe_moment(data.get("modified_at")),
        custom_field_data=data.get("custom_field_data", {}),
        metadata=data.get("metadata", {}),
        status=data["status"],
        amount=data["amount"],
        currency=data["currency"],
        recurring_interval=data["recurring_interval"],
        current_period_start=moment(data["current_period_start"]),
        current_period_end=moment(data["current_period_end"]),
        trial_start=maybe_moment(data.get("trial_start")),
        trial_end=maybe_moment(data.get("trial_end")),
        cancel_at_period_end=data["cancel_at_period_end"],
        canceled_at=maybe_moment(data.get("canceled_at")),
        started_at=maybe_moment(data.get("started_at")),
        ends_at=maybe_moment(data.get("ends_at")),
        product_id=data["product_id"],
        discount_id=data.get("discount_id"),
        price_id=price_id,
        meters=tuple(
            SubscriptionMeter(
                id=m["id"],
                created_at=moment(m["created_at"]),
                modified_at=maybe_moment(m.get("modified_at")),
                consumed_units=m["consumed_units"],
                credited_units=m["credited_units"],
                amount=m["amount"],
                meter_id=m["meter_id"],
            )
            for m in data.get("meters", [])
        ),
    )


def read_state_grant(data: Json) -> BenefitGrant:
    """A grant of ``/state``, which flattens the benefit's type and metadata into it."""
    return _grant(data, data["benefit_type"], data.get("benefit_metadata", {}))


def read_listed_grant(data: Json) -> tuple[str, BenefitGrant]:
    """An item of ``/v1/benefit-grants/`` with its customer's id; it embeds the whole benefit."""
    benefit = data["benefit"]
    return data["customer_id"], _grant(data, benefit["type"], benefit.get("metadata", {}))


def _grant(data: Json, benefit_type: str, benefit_metadata: Any) -> BenefitGrant:
    return BenefitGrant(
        id=data["id"],
        created_at=moment(data["created_at"]),
        modified_at=maybe_moment(data.get("modified_at")),
        granted_at=moment(data["granted_at"]),
        benefit_id=data["benefit_id"],
        benefit_type=benefit_type,
        benefit_metadata=benefit_metadata,
        properties=data.get("properties", {}),
    )


def read_meter(data: Json) -> CustomerMeter:
    return CustomerMeter(
        id=data["id"],
        created_at=moment(data["created_at"]),
        modified_at=maybe_moment(data.get("modified_at")),
        meter_id=data["meter_id"],
        consumed_units=data["consumed_units"],
        credited_units=data["credited_units"],
        balance=data["balance"],
    )


def read_listed_meter(data: Json) -> tuple[str, CustomerMeter]:
    """An item of ``/v1/customer-meters/`` with its customer's id."""
    return data["customer_id"], read_meter(data)
