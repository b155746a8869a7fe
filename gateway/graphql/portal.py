"""Customer sessions (organization side) and the customer portal (one customer, session token)."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry

from ..upstream.errors import UpstreamError, UpstreamNotFound, UpstreamValidation
from ..upstream.transport import QueryParams
from .arguments import require_uuid, upstream_sorting
from .context import Context
from .customers import AddressInput, PageInfo, page_info
from .errors import UserError, UserErrorCode, bad_input, from_upstream, user_errors_from_upstream
from .pagination import PageArguments, check_arguments, read_connection
from .portal_types import CustomerSession, Order, PortalCustomer
from .types import required_time

Info = strawberry.Info[Context, None]
DEFAULT_PAGE_SIZE = 10


# Sessions ------------------------------------------------------------------------------------------


@strawberry.type
class CustomerSessionCreatePayload:
    customer_session: CustomerSession | None
    user_errors: list[UserError]


async def create_session(
    info: Info, customer_id: strawberry.ID | None, external_customer_id: str | None, return_url: str | None
) -> CustomerSessionCreatePayload:
    if (customer_id is None) == (external_customer_id is None):
        raise bad_input("Pass exactly one of 'customerId' or 'externalCustomerId'.")
    if customer_id is not None:
        require_uuid(str(customer_id), "customerId")
    context = info.context
    body: dict[str, Any] = (
        {"customer_id": str(customer_id)} if customer_id is not None else {"external_customer_id": external_customer_id}
    )
    if return_url is not None:
        body["return_url"] = return_url
    try:
        created = await context.polar_client.create_customer_session(context.organization_token, body)
    except UpstreamValidation as error:
        return CustomerSessionCreatePayload(
            customer_session=None, user_errors=user_errors_from_upstream(error.details, root=None)
        )
    except UpstreamError as error:
        raise from_upstream(error, write=True) from error
    session = CustomerSession(
        id=created["id"],
        token=created["token"],
        expires_at=required_time(created["expires_at"]),
        return_url=created.get("return_url"),
        customer_portal_url=created["customer_portal_url"],
        customer=context.loaders.prime(created["customer"]),
        created_at=required_time(created["created_at"]),
    )
    return CustomerSessionCreatePayload(customer_session=session, user_errors=[])


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
class OrderEdge:
    cursor: str
    node: Order


@strawberry.type
class OrderConnection:
    edges: list[OrderEdge]
    page_info: PageInfo
    total_count: int

    @strawberry.field
    def nodes(self) -> list[Order]:
        return [edge.node for edge in self.edges]


def _order_filters(filter_: OrderFilter | None) -> QueryParams:
    params: QueryParams = []
    if filter_ is None:
        return params
    params += [("product_id", require_uuid(str(i), "filter.productId")) for i in filter_.product_id or []]
    params += [("product_billing_type", kind.value) for kind in filter_.product_billing_type or []]
    params += [
        ("subscription_id", require_uuid(str(i), "filter.subscriptionId")) for i in filter_.subscription_id or []
    ]
    if filter_.query is not None:
        params.append(("query", filter_.query))
    return params


@strawberry.type(description="The signed-in customer's own view: send a customer session token.")
class CustomerPortal:
    @strawberry.field(description="The customer the session token belongs to.")
    async def customer(self, info: Info) -> PortalCustomer:
        context = info.context
        try:
            return PortalCustomer.from_json(await context.polar_client.get_portal_customer(context.session_token))
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
        sorting = upstream_sorting(sort_key.value if sort_key else None, bool(reverse))

        async def fetch(params: QueryParams) -> Any:
            try:
                return await context.polar_client.list_portal_orders(token, params)
            except UpstreamError as error:
                raise from_upstream(error) from error

        cursors = context.cursors
        window, print_ = await read_connection(fetch, _order_filters(filter), sorting, args, DEFAULT_PAGE_SIZE, cursors)
        edges = [
            OrderEdge(cursor=cursors.encode(window.start + index, print_), node=Order.from_json(item))
            for index, item in enumerate(window.items)
        ]
        return OrderConnection(edges=edges, page_info=page_info(edges, window), total_count=window.total)

    @strawberry.field(description="One of the customer's orders; null when it is not theirs or does not exist.")
    async def order(self, info: Info, id: strawberry.ID) -> Order | None:
        context = info.context
        token = context.session_token
        try:
            return Order.from_json(await context.polar_client.get_portal_order(token, require_uuid(str(id), "id")))
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
    body: dict[str, Any] = {}
    if data.billing_name is not strawberry.UNSET:
        body["billing_name"] = data.billing_name
    if data.billing_address is not strawberry.UNSET:
        if data.billing_address is not None:
            errors = data.billing_address.check(["input", "billingAddress"])
            if errors:
                return CustomerPortalOrderUpdatePayload(order=None, user_errors=errors)
        body["billing_address"] = data.billing_address.to_json() if data.billing_address else None
    try:
        updated = await context.polar_client.update_portal_order(token, str(order_id), body)
    except UpstreamNotFound:
        return CustomerPortalOrderUpdatePayload(order=None, user_errors=[_order_not_found()])
    except UpstreamValidation as error:
        return CustomerPortalOrderUpdatePayload(order=None, user_errors=user_errors_from_upstream(error.details))
    except UpstreamError as error:
        raise from_upstream(error, write=True) from error
    return CustomerPortalOrderUpdatePayload(order=Order.from_json(updated), user_errors=[])


def _order_not_found() -> UserError:
    return UserError(field=["id"], message="No order of this customer matches.", code=UserErrorCode.NOT_FOUND)


# Root fields ---------------------------------------------------------------------------------------


@strawberry.type
class PortalQueries:
    @strawberry.field(description="The customer portal; needs a customer session token (customerSessionCreate).")
    def customer_portal(self, info: Info) -> CustomerPortal | None:
        info.context.session_token  # FORBIDDEN here, before any call, for an organization token  # noqa: B018
        return CustomerPortal()

    @strawberry.field(
        description="Where to download all customers as CSV, with the same organization token: under the "
        "gateway's public_url when it is set, else relative to the GraphQL endpoint's origin "
        "(`/export/customers.csv`)."
    )
    def customers_export_url(self, info: Info) -> str:
        info.context.organization_token  # noqa: B018
        return f"{info.context.base_url}/export/customers.csv"


@strawberry.type
class PortalMutations:
    @strawberry.mutation(description="A customer session (one hour) for `customerId` or `externalCustomerId`.")
    async def customer_session_create(
        self,
        info: Info,
        customer_id: strawberry.ID | None = None,
        external_customer_id: str | None = None,
        return_url: str | None = None,
    ) -> CustomerSessionCreatePayload:
        return await create_session(info, customer_id, external_customer_id, return_url)

    @strawberry.mutation(description="Change the billing name or address of one of the signed-in customer's orders.")
    async def customer_portal_order_update(
        self, info: Info, id: strawberry.ID, input: CustomerPortalOrderUpdateInput
    ) -> CustomerPortalOrderUpdatePayload:
        return await update_order(info, id, input)
