"""The GraphQL object types of customers and their state, built straight from Polar's JSON.

Plain fields are plain attributes (no resolver, no await); only ``Customer.state`` goes upstream,
through the request's state loader, and only when a query selects it.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, cast

import strawberry
from strawberry.scalars import JSON

from .federation import resolve_customer_reference

if TYPE_CHECKING:
    from .context import Context

Json = dict[str, Any]


def optional_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def required_time(value: str) -> datetime:
    return datetime.fromisoformat(value)


@strawberry.enum
class CustomerType(Enum):
    INDIVIDUAL = "individual"
    TEAM = "team"


@strawberry.enum
class SubscriptionStatus(Enum):
    ACTIVE = "active"
    TRIALING = "trialing"


@strawberry.enum
class RecurringInterval(Enum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


@strawberry.enum
class BenefitType(Enum):
    CUSTOM = "custom"
    DISCORD = "discord"
    GITHUB_REPOSITORY = "github_repository"
    DOWNLOADABLES = "downloadables"
    LICENSE_KEYS = "license_keys"
    METER_CREDIT = "meter_credit"
    FEATURE_FLAG = "feature_flag"
    SLACK_SHARED_CHANNEL = "slack_shared_channel"


@strawberry.type(description="A postal address; US and CA states are ISO 3166-2 codes such as US-CA.")
class Address:
    line1: str | None
    line2: str | None
    postal_code: str | None
    city: str | None
    state: str | None
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 country code.")

    @classmethod
    def from_json(cls, data: Json | None) -> Address | None:
        if data is None:
            return None
        return cls(
            line1=data.get("line1"),
            line2=data.get("line2"),
            postal_code=data.get("postal_code"),
            city=data.get("city"),
            state=data.get("state"),
            country=data["country"],
        )


@strawberry.type(description="A validated tax id and the format Polar recognised, e.g. eu_vat or us_ein.")
class TaxId:
    value: str
    format: str

    @classmethod
    def from_json(cls, data: list[str] | None) -> TaxId | None:
        """Polar sends ``[value, format]``, or null."""
        return cls(value=data[0], format=data[1]) if data else None


@strawberry.type
class CustomerStateSubscriptionMeter:
    id: strawberry.ID
    created_at: datetime
    modified_at: datetime | None
    consumed_units: float
    credited_units: int
    amount: int = strawberry.field(description="Amount due for the usage, in cents.")
    meter_id: strawberry.ID


@strawberry.type(description="An active or trialing subscription of the customer.")
class CustomerStateSubscription:
    id: strawberry.ID
    created_at: datetime
    modified_at: datetime | None
    custom_field_data: JSON
    metadata: JSON
    status: SubscriptionStatus
    amount: int = strawberry.field(description="Amount in cents.")
    currency: str
    recurring_interval: RecurringInterval
    current_period_start: datetime
    current_period_end: datetime
    trial_start: datetime | None
    trial_end: datetime | None
    cancel_at_period_end: bool
    canceled_at: datetime | None
    started_at: datetime | None
    ends_at: datetime | None
    product_id: strawberry.ID
    discount_id: strawberry.ID | None
    price_id: strawberry.ID | None
    meters: list[CustomerStateSubscriptionMeter]

    @classmethod
    def from_json(cls, data: Json) -> CustomerStateSubscription:
        """From ``/state``."""
        return cls._build(data, data.get("price_id"))

    @classmethod
    def from_list_item(cls, data: Json) -> CustomerStateSubscription:
        """From an item of ``/v1/subscriptions/``, whose prices are a list: the state names the first."""
        prices = data.get("prices")
        return cls._build(data, prices[0]["id"] if prices else None)

    @classmethod
    def _build(cls, data: Json, price_id: strawberry.ID | None) -> CustomerStateSubscription:
        return cls(
            id=data["id"],
            created_at=required_time(data["created_at"]),
            modified_at=optional_time(data.get("modified_at")),
            custom_field_data=data.get("custom_field_data", {}),
            metadata=data.get("metadata", {}),
            status=SubscriptionStatus(data["status"]),
            amount=data["amount"],
            currency=data["currency"],
            recurring_interval=RecurringInterval(data["recurring_interval"]),
            current_period_start=required_time(data["current_period_start"]),
            current_period_end=required_time(data["current_period_end"]),
            trial_start=optional_time(data.get("trial_start")),
            trial_end=optional_time(data.get("trial_end")),
            cancel_at_period_end=data["cancel_at_period_end"],
            canceled_at=optional_time(data.get("canceled_at")),
            started_at=optional_time(data.get("started_at")),
            ends_at=optional_time(data.get("ends_at")),
            product_id=data["product_id"],
            discount_id=data.get("discount_id"),
            price_id=price_id,
            meters=[
                CustomerStateSubscriptionMeter(
                    id=m["id"],
                    created_at=required_time(m["created_at"]),
                    modified_at=optional_time(m.get("modified_at")),
                    consumed_units=m["consumed_units"],
                    credited_units=m["credited_units"],
                    amount=m["amount"],
                    meter_id=m["meter_id"],
                )
                for m in data.get("meters", [])
            ],
        )


@strawberry.type(description="A benefit currently granted to the customer.")
class CustomerStateBenefitGrant:
    id: strawberry.ID
    created_at: datetime
    modified_at: datetime | None
    granted_at: datetime
    benefit_id: strawberry.ID
    benefit_type: BenefitType
    benefit_metadata: JSON
    properties: JSON

    @classmethod
    def from_json(cls, data: Json) -> CustomerStateBenefitGrant:
        """From ``/state``, which flattens the benefit's type and metadata into the grant."""
        return cls._build(data, data["benefit_type"], data.get("benefit_metadata", {}))

    @classmethod
    def from_list_item(cls, data: Json) -> CustomerStateBenefitGrant:
        """From an item of ``/v1/benefit-grants/``, which embeds the whole benefit."""
        benefit = data["benefit"]
        return cls._build(data, benefit["type"], benefit.get("metadata", {}))

    @classmethod
    def _build(cls, data: Json, benefit_type: str, benefit_metadata: Any) -> CustomerStateBenefitGrant:
        return cls(
            id=data["id"],
            created_at=required_time(data["created_at"]),
            modified_at=optional_time(data.get("modified_at")),
            granted_at=required_time(data["granted_at"]),
            benefit_id=data["benefit_id"],
            benefit_type=BenefitType(benefit_type),
            benefit_metadata=benefit_metadata,
            properties=data.get("properties", {}),
        )


@strawberry.type(description="A meter of the customer with its balance.")
class CustomerStateMeter:
    id: strawberry.ID
    created_at: datetime
    modified_at: datetime | None
    meter_id: strawberry.ID
    consumed_units: float
    credited_units: int
    balance: float

    @classmethod
    def from_json(cls, data: Json) -> CustomerStateMeter:
        return cls(
            id=data["id"],
            created_at=required_time(data["created_at"]),
            modified_at=optional_time(data.get("modified_at")),
            meter_id=data["meter_id"],
            consumed_units=data["consumed_units"],
            credited_units=data["credited_units"],
            balance=data["balance"],
        )


@strawberry.type(description="What the customer has now: active subscriptions, granted benefits and meters.")
class CustomerState:
    active_subscriptions: list[CustomerStateSubscription]
    granted_benefits: list[CustomerStateBenefitGrant]
    active_meters: list[CustomerStateMeter]

    @classmethod
    def from_json(cls, data: Json) -> CustomerState:
        """From ``/state``."""
        return cls(
            active_subscriptions=[CustomerStateSubscription.from_json(s) for s in data["active_subscriptions"]],
            granted_benefits=[CustomerStateBenefitGrant.from_json(g) for g in data["granted_benefits"]],
            active_meters=[CustomerStateMeter.from_json(m) for m in data["active_meters"]],
        )


@strawberry.federation.type(
    keys=["id", "externalId"], description="A customer of the organization, as Polar stores it."
)
class Customer:
    id: strawberry.ID
    type: CustomerType
    external_id: str | None = strawberry.field(description="The customer's id in your system; write-once.")
    email: str | None
    email_verified: bool
    name: str | None
    billing_name: str | None
    billing_address: Address | None
    tax_id: TaxId | None
    locale: str | None
    metadata: JSON = strawberry.field(description="Key-value pairs: strings, integers, floats or booleans.")
    organization_id: strawberry.ID
    default_payment_method_id: strawberry.ID | None
    created_at: datetime
    modified_at: datetime | None
    deleted_at: datetime | None
    first_user_event_at: datetime | None
    avatar_url: str | None

    @strawberry.field(description="Active subscriptions, granted benefits and meters; fetched only when selected.")
    def state(self, info: strawberry.Info[Context, None]) -> CustomerState:
        # The loader's future itself, which graphql-core awaits: an ``async def`` here would add a
        # coroutine and Strawberry's async wrapper for each of a page's customers.
        return cast(CustomerState, info.context.loaders.state.load(str(self.id)))

    @classmethod
    def resolve_reference(cls, info: strawberry.Info[Context, None], **key: str) -> Awaitable[Customer | None]:
        """Federation's entry point: a representation with ``id`` or ``externalId``."""
        return resolve_customer_reference(info, key)

    @classmethod
    def from_json(cls, data: Json) -> Customer:
        return cls(
            id=data["id"],
            type=CustomerType(data["type"]),
            external_id=data.get("external_id"),
            email=data.get("email"),
            email_verified=data["email_verified"],
            name=data.get("name"),
            billing_name=data.get("billing_name"),
            billing_address=Address.from_json(data.get("billing_address")),
            tax_id=TaxId.from_json(data.get("tax_id")),
            locale=data.get("locale"),
            metadata=data.get("metadata", {}),
            organization_id=data["organization_id"],
            default_payment_method_id=data.get("default_payment_method_id"),
            created_at=required_time(data["created_at"]),
            modified_at=optional_time(data.get("modified_at")),
            deleted_at=optional_time(data.get("deleted_at")),
            first_user_event_at=optional_time(data.get("first_user_event_at")),
            avatar_url=data.get("avatar_url"),
        )
