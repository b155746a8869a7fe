"""Customers: the connection, the lookups and the three mutations, over Polar's customer API."""

from __future__ import annotations

from collections.abc import Awaitable
from enum import Enum
from typing import cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types.unset import UNSET

from ..upstream import polar_records as records
from ..upstream.errors import UpstreamError, UpstreamNotFound, UpstreamValidation
from ..upstream.pages import Page
from ..upstream.polar_requests import KEEP, CustomerCreate, CustomerQuery, CustomerUpdate, Keep, Owner
from .arguments import kept, require_uuid
from .connections import Connection, connection
from .context import Context
from .errors import UserError, UserErrorCode, bad_input, from_upstream, user_errors_of
from .input_rules import check_address, check_email, check_metadata, check_name, state_code
from .pagination import PageArguments, check_arguments
from .types import Customer, CustomerType

Info = strawberry.Info[Context, None]
METADATA_DESCRIPTION = (
    "At most 50 pairs; keys of 1 to 40 characters; values are strings of 1 to 500 characters, integers within "
    "signed 64 bits, finite floats or booleans."
)


# Connection --------------------------------------------------------------------------------------


@strawberry.type(description="A page of customers. Cursors are opaque and tied to the filter and sort.")
class CustomerConnection(Connection[Customer]):
    total_count: int = strawberry.field(description="Customers matching the filter, over every page.")


@strawberry.enum
class CustomerSortKey(Enum):
    CREATED_AT = "created_at"
    EMAIL = "email"
    NAME = "name"


@strawberry.input(description="Customers whose metadata value under `key` is one of `values`.")
class MetadataFilter:
    key: str
    values: list[str]


@strawberry.input(description="Every filter of Polar's customer list; all given filters must hold.")
class CustomerFilter:
    email: str | None = strawberry.field(default=None, description="Exact email, case-insensitive.")
    query: str | None = strawberry.field(
        default=None, description="Part of the email, name or billing name, or the start of the external id."
    )
    active: bool | None = strawberry.field(
        default=None, description="Has (true) or has not (false) a trialing, active or past-due subscription."
    )
    metadata: list[MetadataFilter] | None = strawberry.field(
        default=None, description="Values of one key are ORed, different keys ANDed."
    )


def customer_query(filter_: CustomerFilter | None, sort_key: CustomerSortKey | None, reverse: bool) -> CustomerQuery:
    """The list the arguments name; a metadata filter without a key or values is refused."""
    sort = sort_key.value if sort_key else None
    if filter_ is None:
        return CustomerQuery(sort_key=sort, reverse=reverse)
    metadata = tuple((entry.key, tuple(entry.values)) for entry in filter_.metadata or [])
    if any(not key or not values for key, values in metadata):
        raise bad_input("Each metadata filter needs a key and at least one value.", "filter")
    return CustomerQuery(email=filter_.email, text=filter_.query, active=filter_.active, metadata=metadata,
                         sort_key=sort, reverse=reverse)  # fmt: skip


async def resolve_customers(
    info: Info, filter_: CustomerFilter | None, sort_key: CustomerSortKey | None, reverse: bool, args: PageArguments
) -> CustomerConnection:
    context = info.context
    args = check_arguments(args, context.settings.max_page_size)
    query = customer_query(filter_, sort_key, reverse)
    token = context.organization_token
    loaders = context.loaders

    async def read_page(page: int, size: int) -> Page[records.Customer]:
        read = await context.polar_client.customers_page(token, query, page, size)
        await loaders.keep_listed(read.items, stamp)  # the page is not cached; its customers are
        return read

    listed = loaders.listing_started()
    try:
        stamp = await loaders.listing_stamp()
        return await connection(CustomerConnection, read_page, query, args, loaders.prime, context.cursors)
    finally:
        listed.set_result(None)


# Lookups -----------------------------------------------------------------------------------------


def _one_of(id_: strawberry.ID | None, external_id: str | None) -> tuple[str | None, str | None]:
    if (id_ is None) == (external_id is None):
        raise bad_input("Pass exactly one of 'id' or 'externalId'.")
    if id_ is not None:
        return require_uuid(str(id_), "id", "a customer id (a UUID)"), None
    if external_id == "":
        raise bad_input("'externalId' cannot be empty.", "externalId")
    return None, external_id


def resolve_customer(info: Info, id_: strawberry.ID | None, external_id: str | None) -> Awaitable[Customer | None]:
    """Checks the arguments at once (a mistake is an error before any call), then loads."""
    customer_id, by_external = _one_of(id_, external_id)
    loaders = info.context.loaders
    if customer_id is not None:
        return loaders.customer_by_id.load(customer_id)
    return loaders.customer_by_external_id.load(str(by_external))


# Mutations ---------------------------------------------------------------------------------------


@strawberry.input
class AddressInput:
    line1: str | None = None
    line2: str | None = None
    postal_code: str | None = None
    city: str | None = None
    state: str | None = strawberry.field(
        default=None, description="For US and CA the state's code: 'CA', 'ca' or 'US-CA' all give 'US-CA'."
    )
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 code.")

    def to_record(self) -> records.Address:
        return records.Address(country=self.country, line1=self.line1, line2=self.line2, postal_code=self.postal_code,
                               city=self.city, state=state_code(self.country, self.state))  # fmt: skip

    def check(self, path: list[str]) -> list[UserError]:
        return check_address(self.country, self.state, path)


def address_change(address: AddressInput | None) -> records.Address | Keep | None:
    """An address left out of an update is kept; null clears it."""
    if address is UNSET:
        return KEEP
    return address.to_record() if address is not None else None


@strawberry.input(description="The owner member of a team customer without an email.")
class CustomerOwnerInput:
    email: str
    name: str | None = None
    external_id: str | None = None


@strawberry.input
class CustomerCreateInput:
    type: CustomerType = CustomerType.INDIVIDUAL
    email: str | None = strawberry.field(default=None, description="Required for individuals; unique.")
    external_id: str | None = strawberry.field(default=None, description="Your id of the customer; unique, write-once.")
    name: str | None = None
    billing_address: AddressInput | None = None
    tax_id: str | None = strawberry.field(default=None, description="Validated against the billing address country.")
    locale: str | None = strawberry.field(default=None, description="BCP 47, e.g. en or en-US.")
    metadata: JSON | None = strawberry.field(default=None, description=METADATA_DESCRIPTION)
    owner: CustomerOwnerInput | None = None


@strawberry.input(description="Only the fields given change; null clears a field where Polar allows it.")
class CustomerUpdateInput:
    email: str | None = strawberry.field(default=UNSET, description="Unique; null is refused (Polar keeps an email).")
    name: str | None = UNSET
    billing_address: AddressInput | None = UNSET
    tax_id: str | None = UNSET
    locale: str | None = UNSET
    metadata: JSON | None = strawberry.field(default=UNSET, description=f"{METADATA_DESCRIPTION} Replaces the map.")
    external_id: str | None = strawberry.field(default=UNSET, description="Can only be set while it is null.")
    type: CustomerType | None = strawberry.field(default=UNSET, description="Only INDIVIDUAL to TEAM.")


@strawberry.type
class CustomerCreatePayload:
    customer: Customer | None
    user_errors: list[UserError]


@strawberry.type
class CustomerUpdatePayload:
    customer: Customer | None
    user_errors: list[UserError]


@strawberry.type
class CustomerDeletePayload:
    deleted_customer_id: strawberry.ID | None
    user_errors: list[UserError]


def _common_checks(data: CustomerCreateInput | CustomerUpdateInput) -> list[UserError]:
    errors: list[UserError] = []
    if isinstance(data.email, str):
        errors += check_email(data.email, ["input", "email"])
    if isinstance(data.name, str):
        errors += check_name(data.name, ["input", "name"])
    if isinstance(data.billing_address, AddressInput):
        errors += data.billing_address.check(["input", "billingAddress"])
    if data.metadata is not None and data.metadata is not UNSET:
        errors += check_metadata(data.metadata, ["input", "metadata"])
    return errors


def _creation(data: CustomerCreateInput) -> CustomerCreate:
    owner = data.owner
    return CustomerCreate(
        type=data.type.value,
        email=data.email,
        external_id=data.external_id,
        name=data.name,
        billing_address=data.billing_address.to_record() if data.billing_address is not None else None,
        tax_id=data.tax_id,
        locale=data.locale,
        metadata=data.metadata,
        owner=Owner(email=owner.email, name=owner.name, external_id=owner.external_id) if owner else None,
    )


def _change(data: CustomerUpdateInput) -> CustomerUpdate:
    address = data.billing_address
    return CustomerUpdate(
        email=kept(data.email),
        name=kept(data.name),
        billing_address=address_change(address),
        tax_id=kept(data.tax_id),
        locale=kept(data.locale),
        metadata=kept(data.metadata),
        external_id=kept(data.external_id),
        type=KEEP if data.type is UNSET else data.type.value if data.type else None,
    )


async def create_customer(info: Info, data: CustomerCreateInput) -> CustomerCreatePayload:
    errors = _common_checks(data)
    if data.type is CustomerType.INDIVIDUAL and not data.email:
        errors.append(
            UserError(
                field=["input", "email"], message="An individual customer needs an email.", code=UserErrorCode.REQUIRED
            )
        )
    if data.type is CustomerType.TEAM and not data.email and data.owner is None:
        errors.append(
            UserError(
                field=["input", "owner"],
                message="A team customer needs an email or an owner.",
                code=UserErrorCode.REQUIRED,
            )
        )
    if data.owner is not None:
        errors += check_email(data.owner.email, ["input", "owner", "email"])
    if errors:
        return CustomerCreatePayload(customer=None, user_errors=errors)
    context = info.context
    try:
        created = await context.polar_client.create_customer(context.organization_token, _creation(data))
    except UpstreamValidation as error:
        return CustomerCreatePayload(customer=None, user_errors=user_errors_of(error.problems))
    except UpstreamError as error:
        raise from_upstream(error, write=True) from error
    return CustomerCreatePayload(customer=context.loaders.prime(created), user_errors=[])


async def update_customer(
    info: Info, id_: strawberry.ID | None, external_id: str | None, data: CustomerUpdateInput
) -> CustomerUpdatePayload:
    customer_id, by_external = _one_of(id_, external_id)
    errors = _common_checks(data)
    if data.email is None:  # Polar answers 200 and keeps the email: the caller would believe it was cleared
        errors.append(
            UserError(
                field=["input", "email"],
                message="A customer's email cannot be cleared: leave email out to keep it, or send a new one.",
                code=UserErrorCode.INVALID,
            )
        )
    if errors:
        return CustomerUpdatePayload(customer=None, user_errors=errors)
    context = info.context
    change = _change(data)
    try:
        async with context.polar_write(customer_id, by_external):
            if customer_id is not None:
                updated = await context.polar_client.update_customer(context.organization_token, customer_id, change)
            else:
                updated = await context.polar_client.update_customer_by_external_id(
                    context.organization_token, str(by_external), change
                )
    except UpstreamNotFound:
        return CustomerUpdatePayload(customer=None, user_errors=[_not_found(customer_id)])
    except UpstreamValidation as error:
        return CustomerUpdatePayload(customer=None, user_errors=user_errors_of(error.problems))
    except UpstreamError as error:
        raise from_upstream(error, write=True) from error
    return CustomerUpdatePayload(customer=context.loaders.prime(updated), user_errors=[])


async def delete_customer(
    info: Info, id_: strawberry.ID | None, external_id: str | None, anonymize: bool
) -> CustomerDeletePayload:
    customer_id, by_external = _one_of(id_, external_id)
    context = info.context
    if customer_id is None:  # the payload names the deleted id, which a delete by external id does not return
        found = await context.loaders.customer_by_external_id.load(str(by_external))
        if found is None:
            return CustomerDeletePayload(deleted_customer_id=None, user_errors=[_not_found(None)])
        customer_id = str(found.id)
    try:
        async with context.polar_write(customer_id, by_external):
            await context.polar_client.delete_customer(context.organization_token, customer_id, anonymize=anonymize)
    except UpstreamNotFound:
        return CustomerDeletePayload(deleted_customer_id=None, user_errors=[_not_found(customer_id if id_ else None)])
    except UpstreamValidation as error:
        return CustomerDeletePayload(deleted_customer_id=None, user_errors=user_errors_of(error.problems))
    except UpstreamError as error:
        raise from_upstream(error, write=True) from error
    return CustomerDeletePayload(deleted_customer_id=strawberry.ID(customer_id), user_errors=[])


def _not_found(customer_id: str | None) -> UserError:
    field = "id" if customer_id is not None else "externalId"
    return UserError(field=[field], message="No customer matches.", code=UserErrorCode.NOT_FOUND)


# Root fields -------------------------------------------------------------------------------------


@strawberry.type
class CustomerQueries:
    @strawberry.field(description="One customer by `id` or by `externalId` (exactly one); null when none matches.")
    def customer(self, info: Info, id: strawberry.ID | None = None, external_id: str | None = None) -> Customer | None:
        # The loader's future, awaited by graphql-core (see Customer.state); arguments are checked first.
        return cast(Customer | None, resolve_customer(info, id, external_id))

    @strawberry.field(description="Customers, newest first unless sorted; at most 100 a page.")
    async def customers(
        self,
        info: Info,
        filter: CustomerFilter | None = None,
        sort_key: CustomerSortKey | None = None,
        reverse: bool | None = False,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> CustomerConnection:
        return await resolve_customers(info, filter, sort_key, bool(reverse), PageArguments(first, after, last, before))


@strawberry.type
class CustomerMutations:
    @strawberry.mutation(description="Create a customer; a duplicate email or external id is a TAKEN userError.")
    async def customer_create(self, info: Info, input: CustomerCreateInput) -> CustomerCreatePayload:
        return await create_customer(info, input)

    @strawberry.mutation(description="Update a customer found by `id` or `externalId` (exactly one).")
    async def customer_update(
        self, info: Info, input: CustomerUpdateInput, id: strawberry.ID | None = None, external_id: str | None = None
    ) -> CustomerUpdatePayload:
        return await update_customer(info, id, external_id, input)

    @strawberry.mutation(
        description="Delete (soft) a customer found by `id` or `externalId`; frees email and external id."
    )
    async def customer_delete(
        self, info: Info, id: strawberry.ID | None = None, external_id: str | None = None, anonymize: bool = False
    ) -> CustomerDeletePayload:
        return await delete_customer(info, id, external_id, anonymize)
