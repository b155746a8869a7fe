"""The organization's hand-offs: a customer session that lets a frontend act as one customer in the
portal (``portal``), and the address of the customers' CSV export (``gateway.export``). Both need an
organization access token; what the session token then reaches lives in ``portal``."""

from __future__ import annotations

import strawberry

from ..upstream.errors import UpstreamError, UpstreamValidation
from ..upstream.polar_requests import SessionCreate
from .arguments import require_uuid
from .context import Context
from .errors import UserError, bad_input, from_upstream, user_errors_of
from .portal_types import CustomerSession

Info = strawberry.Info[Context, None]


@strawberry.type
class CustomerSessionCreatePayload:
    customer_session: CustomerSession | None
    user_errors: list[UserError]


def session_for(
    customer_id: strawberry.ID | None, external_customer_id: str | None, return_url: str | None
) -> SessionCreate:
    """The session the arguments ask for: exactly one of the two ids, a customer id a UUID."""
    if (customer_id is None) == (external_customer_id is None):
        raise bad_input("Pass exactly one of 'customerId' or 'externalCustomerId'.")
    if customer_id is not None:
        return SessionCreate(customer_id=require_uuid(str(customer_id), "customerId"), return_url=return_url)
    return SessionCreate(external_customer_id=external_customer_id, return_url=return_url)


async def create_session(
    info: Info, customer_id: strawberry.ID | None, external_customer_id: str | None, return_url: str | None
) -> CustomerSessionCreatePayload:
    asked = session_for(customer_id, external_customer_id, return_url)
    context = info.context
    try:
        created = await context.polar_client.create_customer_session(context.organization_token, asked)
    except UpstreamValidation as error:
        return CustomerSessionCreatePayload(
            customer_session=None, user_errors=user_errors_of(error.problems, root=None)
        )
    except UpstreamError as error:
        raise from_upstream(error, write=True) from error
    session = CustomerSession(
        id=strawberry.ID(created.id),
        token=created.token,
        expires_at=created.expires_at,
        return_url=created.return_url,
        customer_portal_url=created.customer_portal_url,
        customer=context.loaders.prime(created.customer),
        created_at=created.created_at,
    )
    return CustomerSessionCreatePayload(customer_session=session, user_errors=[])


@strawberry.type
class SessionQueries:
    @strawberry.field(
        description="Where to download all customers as CSV, with the same organization token: under the "
        "gateway's public_url when it is set, else relative to the GraphQL endpoint's origin "
        "(`/export/customers.csv`)."
    )
    def customers_export_url(self, info: Info) -> str:
        info.context.organization_token  # noqa: B018
        return f"{info.context.base_url}/export/customers.csv"


@strawberry.type
class SessionMutations:
    @strawberry.mutation(description="A customer session (one hour) for `customerId` or `externalCustomerId`.")
    async def customer_session_create(
        self,
        info: Info,
        customer_id: strawberry.ID | None = None,
        external_customer_id: str | None = None,
        return_url: str | None = None,
    ) -> CustomerSessionCreatePayload:
        return await create_session(info, customer_id, external_customer_id, return_url)
