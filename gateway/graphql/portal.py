"""The customer portal: one customer acting with a customer session token (``sessions`` makes one), on
their own profile and orders."""

from __future__ import annotations

from collections.abc import Awaitable
from enum import Enum

import strawberry

from ..upstream.errors import UpstreamError, UpstreamNotFound, UpstreamValidation
from ..upstream.pages import Page
from ..upstream.polar_orders import Order as OrderRecord
from ..upstream.polar_requests import OrderQuery, OrderUpdate
from .arguments import kept, require_uuid
from .connections import Connection, connection
from .context import Context
from .customers import AddressInput, address_change
from .errors import UserError, UserErrorCode, from_upstream, user_errors_of
from .pagination import PageArguments, check_arguments
from .portal_types import Order, PortalCustomer

Info = strawberry.Info[Context, None]


# The portal ----------------------------------------------------------------------------------------


@strawberry.enum
class ProductBillingType(Enum):
    ONE_TIME = "one_time"
    RECURRING = "recurring"


@strawberry.enum
class OrderSortKey(Enum):
    CREATED_AT = "created_at"
    AMOUNT = "amount"
    NET_AMOUNT = "net_amount"
    PRODUCT = "product"
    SUBSCRIPTION = "subscription"


@strawberry.input(description="Every filter of the portal's order list; all given filters must hold.")
class OrderFilter:
    product_id: list[strawberry.ID] | None = None
    product_billing_type: list[ProductBillingType] | None = None
    subscription_id: list[strawberry.ID] | None = None
    query: str | None = strawberry.field(default=None, description="Part of the product name.")


@strawberry.type
class OrderConnection(Connection[Order]):
    pass


def order_query(filter_: OrderFilter | None, sort_key: OrderSortKey | None, reverse: bool) -> OrderQuery:
    """The list the arguments name; every id must be a UUID."""
    sort = sort_key.value if sort_key else None
    if filter_ is None:
        return OrderQuery(sort_key=sort, reverse=reverse)
    return OrderQuery(
        product_ids=tuple(require_uuid(str(i), "filter.productId") for i in filter_.product_id or []),
        billing_types=tuple(kind.value for kind in filter_.product_billing_type or []),
        subscription_ids=tuple(require_uuid(str(i), "filter.subscriptionId") for i in filter_.subscription_id or []),
        text=filter_.query,
        sort_key=sort,
        reverse=reverse,
    )


@strawberry.type(description="The signed-in customer's own view: send a customer session token.")
class CustomerPortal:
    @strawberry.field(description="The customer the session token belongs to.")
    async def customer(self, info: Info) -> PortalCustomer:
        context = info.context
        try:
            return PortalCustomer.of(await context.polar_client.get_portal_customer(context.session_token))
        except UpstreamError as error:
            raise from_upstream(error) from error

    @strawberry.field(description="The customer's orders, newest first unless sorted; at most 100 a page.")
    async def orders(
        self,
        info: Info,
        filter: OrderFilter | None = None,
        sort_key: OrderSortKey | None = None,
        reverse: bool | None = False,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> OrderConnection:
        context = info.context
        token = context.session_token
        args = check_arguments(PageArguments(first, after, last, before), context.settings.max_page_size)
        query = order_query(filter, sort_key, bool(reverse))

        def read_page(page: int, size: int) -> Awaitable[Page[OrderRecord]]:
            return context.polar_client.portal_orders_page(token, query, page, size)

        return await connection(OrderConnection, read_page, query, args, Order.of, context.cursors)

    @strawberry.field(description="One of the customer's orders; null when it is not theirs or does not exist.")
    async def order(self, info: Info, id: strawberry.ID) -> Order | None:
        context = info.context
        token = context.session_token
        try:
            return Order.of(await context.polar_client.get_portal_order(token, require_uuid(str(id), "id")))
        except UpstreamNotFound:
            return None
        except UpstreamError as error:
            raise from_upstream(error) from error


@strawberry.input(description="Only the fields given change. Once an address is set, its country and state are fixed.")
class CustomerPortalOrderUpdateInput:
    billing_name: str | None = strawberry.UNSET
    billing_address: AddressInput | None = strawberry.UNSET


@strawberry.type
class CustomerPortalOrderUpdatePayload:
    order: Order | None
    user_errors: list[UserError]


async def update_order(
    info: Info, order_id: strawberry.ID, data: CustomerPortalOrderUpdateInput
) -> CustomerPortalOrderUpdatePayload:
    context = info.context
    token = context.session_token
    require_uuid(str(order_id), "id")
    address = data.billing_address
    if address is not strawberry.UNSET and address is not None:
        errors = address.check(["input", "billingAddress"])
        if errors:
            return CustomerPortalOrderUpdatePayload(order=None, user_errors=errors)
    change = OrderUpdate(billing_name=kept(data.billing_name), billing_address=address_change(address))
    try:
        updated = await context.polar_client.update_portal_order(token, str(order_id), change)
    except UpstreamNotFound:
        return CustomerPortalOrderUpdatePayload(order=None, user_errors=[_order_not_found()])
    except UpstreamValidation as error:
        return CustomerPortalOrderUpdatePayload(order=None, user_errors=user_errors_of(error.problems))
    except UpstreamError as error:
        raise from_upstream(error, write=True) from error
    return CustomerPortalOrderUpdatePayload(order=Order.of(updated), user_errors=[])


def _order_not_found() -> UserError:
    return UserError(field=["id"], message="No order of this customer matches.", code=UserErrorCode.NOT_FOUND)


# Root fields ---------------------------------------------------------------------------------------


@strawberry.type
class PortalQueries:
    @strawberry.field(description="The customer portal; needs a customer session token (customerSessionCreate).")
    def customer_portal(self, info: Info) -> CustomerPortal | None:
        info.context.session_token  # FORBIDDEN here, before any call, for an organization token  # noqa: B018
        return CustomerPortal()


@strawberry.type
class PortalMutations:
    @strawberry.mutation(description="Change the billing name or address of one of the signed-in customer's orders.")
    async def customer_portal_order_update(
        self, info: Info, id: strawberry.ID, input: CustomerPortalOrderUpdateInput
    ) -> CustomerPortalOrderUpdatePayload:
        return await update_order(info, id, input)
