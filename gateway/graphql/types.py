"""The GraphQL object types of customers and their state, built from the upstream layer's records.

Plain fields are plain attributes (no resolver, no await); only ``Customer.state`` goes upstream,
through the request's state loader, and only when a query selects it.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable
from dataclasses import fields
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from strawberry.scalars import JSON

from ..upstream import polar_records as records
from .federation import resolve_customer_reference

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    from .context import Context
    from .voucherify_types import VoucherifyCustomer


def fields_of(record: DataclassInstance, **converted: Any) -> dict[str, Any]:
    """A record's fields by name, as a GraphQL type of the same field names takes them; ``converted``
    replaces those that change type on the way (an enum, a nested type)."""
    return {name: getattr(record, name) for name in _names(type(record))} | converted


@functools.cache
def _names(kind: type[DataclassInstance]) -> tuple[str, ...]:
    """A record type's field names, read once: a page of customers converts hundreds of records."""
    return tuple(field.name for field in fields(kind))


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
    def of(cls, record: records.Address | None) -> Address | None:
        return None if record is None else cls(**fields_of(record))


@strawberry.type(description="A validated tax id and the format Polar recognised, e.g. eu_vat or us_ein.")
class TaxId:
    value: str
    format: str

    @classmethod
    def of(cls, record: records.TaxId | None) -> TaxId | None:
        return None if record is None else cls(value=record.value, format=record.format)


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
    def of(cls, record: records.ActiveSubscription) -> CustomerStateSubscription:
        return cls(**fields_of(
            record,
            status=SubscriptionStatus(record.status),
            recurring_interval=RecurringInterval(record.recurring_interval),
            meters=[CustomerStateSubscriptionMeter(**fields_of(meter)) for meter in record.meters],
        ))  # fmt: skip


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
    def of(cls, record: records.BenefitGrant) -> CustomerStateBenefitGrant:
        return cls(**fields_of(record, benefit_type=BenefitType(record.benefit_type)))


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
    def of(cls, record: records.CustomerMeter) -> CustomerStateMeter:
        return cls(**fields_of(record))


@strawberry.type(description="What the customer has now: active subscriptions, granted benefits and meters.")
class CustomerState:
    active_subscriptions: list[CustomerStateSubscription]
    granted_benefits: list[CustomerStateBenefitGrant]
    active_meters: list[CustomerStateMeter]

    @classmethod
    def of(cls, record: records.CustomerState) -> CustomerState:
        return cls(
            active_subscriptions=[CustomerStateSubscription.of(s) for s in record.active_subscriptions],
            granted_benefits=[CustomerStateBenefitGrant.of(g) for g in record.granted_benefits],
            active_meters=[CustomerStateMeter.of(m) for m in record.active_meters],
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

    @strawberry.field(
        description=(
            "The Voucherify customer whose sourceId is this customer's externalId (loyalty, referrals, orders "
            "summary); null without an externalId (no call), when none exists, or without Voucherify keys (then "
            "with an UNAUTHENTICATED error on this path only)."
        )
    )
    def voucherify(
        self, info: strawberry.Info[Context, None]
    ) -> Annotated[VoucherifyCustomer, strawberry.lazy(".voucherify_types")] | None:
        if self.external_id is None:
            return None
        return cast("VoucherifyCustomer | None", info.context.voucherify_loaders.find_by_source_id(self.external_id))

    @classmethod
    def resolve_reference(cls, info: strawberry.Info[Context, None], **key: str) -> Awaitable[Customer | None]:
        """Federation's entry point: a representation with ``id`` or ``externalId``."""
        return resolve_customer_reference(info, key)

    @classmethod
    def of(cls, record: records.Customer) -> Customer:
        return cls(**fields_of(
            record,
            type=CustomerType(record.type),
            billing_address=Address.of(record.billing_address),
            tax_id=TaxId.of(record.tax_id),
        ))  # fmt: skip
