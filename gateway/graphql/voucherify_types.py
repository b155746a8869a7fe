"""The GraphQL object types of Voucherify's customers, built from the upstream layer's records.

Plain fields are plain attributes; ``segments`` and ``activity`` go upstream, each only when selected."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, cast

import strawberry
from strawberry.scalars import JSON

from ..upstream import voucherify_records as records
from .federation import resolve_voucherify_reference
from .types import fields_of
from .voucherify_activity import ActivityArguments, VoucherifyActivityConnection, resolve_activity

if TYPE_CHECKING:
    from .context import Context
    from .types import Customer


@strawberry.type(name="VoucherifyAddress", description="A customer's postal address, as Voucherify stores it.")
class Address:
    line_1: str | None
    line_2: str | None
    city: str | None
    state: str | None
    postal_code: str | None
    country: str | None

    @classmethod
    def of(cls, record: records.Address | None) -> Address | None:
        return None if record is None else cls(**fields_of(record))


@strawberry.type(name="VoucherifyGiftSummary", description="Gift card credits, in cents.")
class GiftSummary:
    redeemed_amount: int
    amount_to_go: int


@strawberry.type(name="VoucherifyLoyaltyCardSummary")
class LoyaltyCardSummary:
    redeemed_points: int
    points_to_go: int


@strawberry.type(name="VoucherifyRedemptionsSummary")
class RedemptionsSummary:
    total_redeemed: int
    total_failed: int
    total_succeeded: int
    total_rolled_back: int
    total_rollback_failed: int
    total_rollback_succeeded: int
    gift: GiftSummary
    loyalty_card: LoyaltyCardSummary


@strawberry.type(name="VoucherifyOrdersSummary", description="The customer's orders; amounts in cents.")
class OrdersSummary:
    total_amount: int
    total_count: int
    average_amount: int
    last_order_amount: int
    last_order_date: datetime | None


@strawberry.type(name="VoucherifyCustomerSummary", description="Redemptions and orders of the customer.")
class Summary:
    redemptions: RedemptionsSummary
    orders: OrdersSummary

    @classmethod
    def of(cls, record: records.Summary) -> Summary:
        redemptions = record.redemptions
        return cls(
            redemptions=RedemptionsSummary(**fields_of(
                redemptions,
                gift=GiftSummary(**fields_of(redemptions.gift)),
                loyalty_card=LoyaltyCardSummary(**fields_of(redemptions.loyalty_card)),
            )),
            orders=OrdersSummary(**fields_of(record.orders)),
        )  # fmt: skip


@strawberry.type(name="VoucherifyCampaignLoyalty", description="Points and tier in one loyalty campaign.")
class CampaignLoyalty:
    campaign: str = strawberry.field(description="The campaign's name.")
    points: int
    loyalty_tier: str | None
    referred_customers: int


@strawberry.type(name="VoucherifyLoyalty", description="Loyalty points over every campaign, and per campaign.")
class Loyalty:
    points: int
    referred_customers: int
    campaigns: list[CampaignLoyalty]

    @classmethod
    def of(cls, record: records.Loyalty) -> Loyalty:
        campaigns = [CampaignLoyalty(**fields_of(campaign)) for campaign in record.campaigns]
        return cls(points=record.points, referred_customers=record.referred_customers, campaigns=campaigns)


@strawberry.type(name="VoucherifyReferral", description="A referral campaign the customer was referred in.")
class Referral:
    campaign_id: str | None
    referrer_id: str | None
    related_object_id: str | None
    related_object_type: str | None
    date: datetime | None


@strawberry.type(name="VoucherifyReferrals")
class Referrals:
    total: int
    campaigns: list[Referral]

    @classmethod
    def of(cls, record: records.Referrals) -> Referrals:
        return cls(total=record.total, campaigns=[Referral(**fields_of(item)) for item in record.campaigns])


@strawberry.type(name="VoucherifySegment", description="A customer segment.")
class Segment:
    id: strawberry.ID
    name: str | None

    @classmethod
    def of(cls, record: records.Segment) -> Segment:
        return cls(id=strawberry.ID(record.id), name=record.name)


@strawberry.enum(name="VoucherifyActivityCategory")
class ActivityCategory(Enum):
    ACTION = "ACTION"
    EFFECT = "EFFECT"


@strawberry.federation.type(
    keys=["id", "sourceId"], description="A customer in Voucherify (promotions, loyalty, referrals)."
)
class VoucherifyCustomer:
    id: strawberry.ID = strawberry.field(description="Voucherify's id, cust_...")
    source_id: str | None = strawberry.field(
        description="Your id of the customer, set once at creation; the same as a Polar customer's externalId."
    )
    name: str | None
    description: str | None
    email: str | None
    phone: str | None
    birthdate: date | None
    address: Address | None
    metadata: JSON
    summary: Summary
    loyalty: Loyalty
    referrals: Referrals
    created_at: datetime
    updated_at: datetime | None = strawberry.field(description="Null until the first update.")

    @strawberry.field(
        description=(
            "The Polar customer whose externalId is this sourceId (billing: subscriptions, benefits); null "
            "without a sourceId (no call), when none exists, or without a Polar token (then with an error on "
            "this path only)."
        )
    )
    def customer(self, info: strawberry.Info[Context, None]) -> Annotated[Customer, strawberry.lazy(".types")] | None:
        if self.source_id is None:
            return None
        return cast("Customer | None", info.context.loaders.customer_by_external_id.load(self.source_id))

    @strawberry.field(description="Segments the customer belongs to; fetched only when selected.")
    def segments(self, info: strawberry.Info[Context, None]) -> list[Segment]:
        # The loader's future, which graphql-core awaits (as Customer.state does).
        return cast(list[Segment], info.context.voucherify_loaders.segments.load(str(self.id)))

    @strawberry.field(description="The customer's events, newest first; fetched only when selected.")
    async def activity(
        self,
        info: strawberry.Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        type: Annotated[str | None, strawberry.argument(description="One event, e.g. customer.updated.")] = None,
        category: ActivityCategory | None = None,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
    ) -> VoucherifyActivityConnection:
        arguments = ActivityArguments(first, after, type, category.value if category else None, start_date, end_date)
        return await resolve_activity(info, str(self.id), arguments)

    @classmethod
    def resolve_reference(
        cls, info: strawberry.Info[Context, None], **key: str
    ) -> VoucherifyCustomer | Awaitable[VoucherifyCustomer | None] | None:
        """Federation's entry point: a representation with ``id`` or ``sourceId``."""
        return resolve_voucherify_reference(info, key)

    @classmethod
    def of(cls, record: records.Customer) -> VoucherifyCustomer:
        return cls(**fields_of(
            record,
            id=strawberry.ID(record.id),
            address=Address.of(record.address),
            summary=Summary.of(record.summary),
            loyalty=Loyalty.of(record.loyalty),
            referrals=Referrals.of(record.referrals),
        ))  # fmt: skip
