"""Voucherify's customer writes: upsert, update, delete, permanent deletion, consents, and the bulk work
(bulk update, metadata bulk update, CSV import), which Voucherify runs as async actions.

A user's mistake is a userError on the path of the input it names (Voucherify's 400s name a property); a
customer that does not exist is a ``NOT_FOUND`` userError; anything else is a GraphQL error with a code."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

import strawberry
from strawberry.file_uploads import Upload
from strawberry.scalars import JSON
from strawberry.types.unset import UNSET

from ..upstream import voucherify_records as records
from ..upstream.changes import KEEP, Keep
from ..upstream.errors import UpstreamError, UpstreamNotFound, UpstreamValidation
from ..upstream.voucherify_requests import BulkCustomer, CustomerFields, CustomerUpsert
from .arguments import kept
from .context import Context
from .errors import UserError, UserErrorCode, from_upstream, user_errors_of
from .voucherify_async import VoucherifyAsyncAction, read_async_action
from .voucherify_customers import identifier
from .voucherify_loaders import BY_SOURCE, identifier_of
from .voucherify_types import VoucherifyCustomer

Info = strawberry.Info[Context, None]
R = TypeVar("R")
METADATA = "Key-value pairs, typed as the project's metadata schema says; replaces the map as a whole."


@strawberry.input(name="VoucherifyAddressInput")
class AddressInput:
    line_1: str | None = None
    line_2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None

    def to_record(self) -> records.Address:
        return records.Address(line_1=self.line_1, line_2=self.line_2, city=self.city, state=self.state,
                               postal_code=self.postal_code, country=self.country)  # fmt: skip


@strawberry.input(description="Fields left out are kept; null clears one.")
class VoucherifyCustomerInput:
    name: str | None = UNSET
    description: str | None = UNSET
    email: str | None = UNSET
    phone: str | None = UNSET
    birthdate: date | None = UNSET
    address: AddressInput | None = UNSET
    metadata: JSON | None = strawberry.field(default=UNSET, description=METADATA)

    def fields(self) -> CustomerFields:
        address = self.address
        return CustomerFields(
            name=kept(self.name), description=kept(self.description), email=kept(self.email),
            phone=kept(self.phone), birthdate=kept(self.birthdate),
            address=KEEP if address is UNSET else address.to_record() if address is not None else None,
            metadata=_metadata(self.metadata),
        )  # fmt: skip


@strawberry.input(description="A customer to create, or to update when its `id` or `sourceId` exists.")
class VoucherifyCustomerUpsertInput(VoucherifyCustomerInput):
    id: strawberry.ID | None = strawberry.field(default=None, description="An existing customer's id.")
    source_id: str | None = strawberry.field(
        default=None, description="Your id of the customer: set at creation, never changed; ignored with `id`."
    )


@strawberry.input(description="One customer of a bulk update, found by `sourceId` and created when missing.")
class VoucherifyBulkCustomerInput(VoucherifyCustomerInput):
    source_id: str


@strawberry.input(description="A consent to grant (true) or revoke (false), by its id (cnst_...).")
class VoucherifyConsentInput:
    id: strawberry.ID
    granted: bool


def _metadata(value: Any) -> dict[str, Any] | Keep:
    if value is UNSET:
        return KEEP
    return value if isinstance(value, dict) else {}  # None clears (``_checks`` refused anything else)


@strawberry.type
class VoucherifyCustomerPayload:
    customer: VoucherifyCustomer | None
    user_errors: list[UserError]


@strawberry.type
class VoucherifyCustomerDeletePayload:
    deleted_customer_id: strawberry.ID | None
    user_errors: list[UserError]


@strawberry.type(name="VoucherifyDeletionCounts", description="What the permanent deletion removed, by kind.")
class DeletionCounts:
    events: int
    customer_events: int
    daily_events: int
    segments: int
    orders: int
    order_events: int
    customer: int


@strawberry.type(name="VoucherifyDeletion", description="Voucherify's report of a permanent deletion.")
class Deletion:
    id: strawberry.ID
    created_at: datetime
    related_object_id: strawberry.ID = strawberry.field(description="The deleted customer's id.")
    related_object: str
    status: str
    counts: DeletionCounts

    @classmethod
    def of(cls, record: records.DeletionReport) -> Deletion:
        counts = DeletionCounts(**{name: getattr(record.counts, name) for name in records.DeletionCounts.__slots__})
        return cls(id=strawberry.ID(record.id), created_at=record.created_at,
                   related_object_id=strawberry.ID(record.related_object_id), related_object=record.related_object,
                   status=record.status, counts=counts)  # fmt: skip


@strawberry.type
class VoucherifyCustomerPermanentDeletePayload:
    deletion: Deletion | None
    user_errors: list[UserError]


@strawberry.type
class VoucherifyConsentsUpdatePayload:
    updated: bool
    user_errors: list[UserError]


@strawberry.type
class VoucherifyAsyncActionPayload:
    async_action: VoucherifyAsyncAction | None
    user_errors: list[UserError]


# Checks before any call ---------------------------------------------------------------------------


def _checks(data: VoucherifyCustomerInput, path: list[str]) -> list[UserError]:
    metadata = data.metadata
    if metadata is UNSET or metadata is None or isinstance(metadata, dict):
        return []
    return [UserError(field=[*path, "metadata"], message="Metadata must be an object of key-value pairs.",
                      code=UserErrorCode.INVALID)]  # fmt: skip


def _identifier_errors(value: str, path: list[str], limit: int) -> list[UserError]:
    """An id or source id of an input: not empty, at most ``limit`` characters (they travel in URLs)."""
    if not value:
        return [UserError(field=path, message="Cannot be empty.", code=UserErrorCode.BLANK)]
    if len(value) > limit:
        message = f"At most {limit} characters (setting max_identifier_chars)."
        return [UserError(field=path, message=message, code=UserErrorCode.TOO_LONG)]
    return []


def _not_found(by_source: bool, under: tuple[str, ...] = ()) -> UserError:
    """On the argument that named the customer: ``id`` or ``sourceId``, or ``input.id`` for the upsert."""
    field = "sourceId" if by_source else "id"
    return UserError(field=[*under, field], message="No Voucherify customer matches.", code=UserErrorCode.NOT_FOUND)


def _by_source(key: str) -> bool:
    return key.startswith(BY_SOURCE)


async def _target(info: Info, key: str) -> VoucherifyCustomer | None:
    """The customer a write names, found by exactly the key given. Voucherify's path takes an id or a source
    id alike, so a source id that is another customer's id would otherwise write to that other customer: the
    write goes to the id of the customer found (one GET, unless this request has seen it already)."""
    return await info.context.voucherify_loaders.get(key)


# Resolvers --------------------------------------------------------------------------------------


async def upsert_customer(info: Info, data: VoucherifyCustomerUpsertInput) -> VoucherifyCustomerPayload:
    errors = _checks(data, ["input"])
    limit = info.context.settings.max_identifier_chars
    errors += _identifier_errors(str(data.id), ["input", "id"], limit) if data.id is not None else []
    errors += _identifier_errors(data.source_id, ["input", "sourceId"], limit) if data.source_id is not None else []
    if errors:
        return VoucherifyCustomerPayload(customer=None, user_errors=errors)
    context = info.context
    upsert = CustomerUpsert(id=str(data.id) if data.id is not None else None, source_id=data.source_id,
                            fields=data.fields())  # fmt: skip
    # A 404 here is an ``id`` that no customer has.
    upserted = context.voucherify.upsert_customer(context.voucherify_keys, upsert)
    touched = (upsert.id, upsert.source_id)
    return await _saved(info, upserted, touched, by_source=False, under=("input",))


async def update_customer(
    info: Info, id_: strawberry.ID | None, source_id: str | None, data: VoucherifyCustomerInput
) -> VoucherifyCustomerPayload:
    key = identifier(id_, source_id, info.context.settings.max_identifier_chars)
    errors = _checks(data, ["input"])
    if errors:
        return VoucherifyCustomerPayload(customer=None, user_errors=errors)
    context = info.context
    found = await _target(info, key)
    if found is None:
        return VoucherifyCustomerPayload(customer=None, user_errors=[_not_found(_by_source(key))])
    update = context.voucherify.update_customer(context.voucherify_keys, str(found.id), data.fields())
    return await _saved(info, update, (str(found.id), found.source_id), by_source=_by_source(key))


async def _saved(
    info: Info,
    write: Awaitable[records.Customer],
    touched: tuple[str | None, str | None],
    *,
    by_source: bool,
    under: tuple[str, ...] = (),
) -> VoucherifyCustomerPayload:
    """The payload of a write that answers the customer: a 404 and a 400 are userErrors. The customer it
    ``touched`` (id, source id) is invalidated in the cache whatever the outcome."""
    try:
        async with info.context.voucherify_write(*touched):
            saved = await write
    except UpstreamNotFound:
        return VoucherifyCustomerPayload(customer=None, user_errors=[_not_found(by_source, under)])
    except UpstreamValidation as error:
        return VoucherifyCustomerPayload(customer=None, user_errors=user_errors_of(error.problems))
    except UpstreamError as error:
        raise from_upstream(error, write=True) from error
    return VoucherifyCustomerPayload(customer=info.context.voucherify_loaders.prime(saved), user_errors=[])


async def _remove(
    info: Info, id_: strawberry.ID | None, source_id: str | None, remove: Callable[[str], Awaitable[R]]
) -> tuple[VoucherifyCustomer, R] | UserError:
    """A removal of the customer found by exactly the key given (``remove`` takes its id): the customer and
    what Voucherify answered, or the NOT_FOUND userError; forgotten by the request's loaders once removed."""
    key = identifier(id_, source_id, info.context.settings.max_identifier_chars)
    found = await _target(info, key)
    if found is None:
        return _not_found(_by_source(key))
    try:
        async with info.context.voucherify_write(str(found.id), found.source_id):
            answer = await remove(str(found.id))
    except UpstreamNotFound:
        return _not_found(_by_source(key))
    except UpstreamError as error:
        raise from_upstream(error, write=True) from error
    info.context.voucherify_loaders.forget(str(found.id), found.source_id)
    return found, answer


async def delete_customer(
    info: Info, id_: strawberry.ID | None, source_id: str | None
) -> VoucherifyCustomerDeletePayload:
    ctx = info.context  # read in the lambda: the arguments are checked before the keys are asked for
    removed = await _remove(info, id_, source_id, lambda i: ctx.voucherify.delete_customer(ctx.voucherify_keys, i))
    if isinstance(removed, UserError):
        return VoucherifyCustomerDeletePayload(deleted_customer_id=None, user_errors=[removed])
    return VoucherifyCustomerDeletePayload(deleted_customer_id=removed[0].id, user_errors=[])


async def permanently_delete_customer(
    info: Info, id_: strawberry.ID | None, source_id: str | None
) -> VoucherifyCustomerPermanentDeletePayload:
    ctx = info.context
    removed = await _remove(
        info, id_, source_id, lambda i: ctx.voucherify.permanently_delete_customer(ctx.voucherify_keys, i)
    )
    if isinstance(removed, UserError):
        return VoucherifyCustomerPermanentDeletePayload(deletion=None, user_errors=[removed])
    return VoucherifyCustomerPermanentDeletePayload(deletion=Deletion.of(removed[1]), user_errors=[])


async def update_consents(
    info: Info,
    id_: strawberry.ID | None,
    source_id: str | None,
    consents: list[VoucherifyConsentInput],
    unsubscribed: bool,
) -> VoucherifyConsentsUpdatePayload:
    """With server keys or, from a browser, client keys and its origin (no secret needed). With server keys
    the customer is found by exactly the key given first (see ``_target``); client keys can read nothing, so
    their path carries the key as given, for Voucherify to resolve."""
    key = identifier(id_, source_id, info.context.settings.max_identifier_chars)
    by_source = _by_source(key)
    context = info.context
    keys = context.voucherify_any_keys
    limit = context.settings.max_bulk_customers
    if not consents and not unsubscribed:
        message = "Send at least one consent, or unsubscribed: true."
        return VoucherifyConsentsUpdatePayload(updated=False, user_errors=[
            UserError(field=["consents"], message=message, code=UserErrorCode.REQUIRED)])  # fmt: skip
    if len(consents) > limit:
        message = f"At most {limit} consents at once (setting max_bulk_customers)."
        return VoucherifyConsentsUpdatePayload(updated=False, user_errors=[
            UserError(field=["consents"], message=message, code=UserErrorCode.TOO_MANY)])  # fmt: skip
    bad = [index for index, consent in enumerate(consents) if not str(consent.id).startswith("cnst_")]
    if bad:
        return VoucherifyConsentsUpdatePayload(updated=False, user_errors=[
            UserError(field=["consents", str(index), "id"], message="A consent id starts with cnst_.",
                      code=UserErrorCode.INVALID) for index in bad])  # fmt: skip
    granted = {str(consent.id): consent.granted for consent in consents}
    target = identifier_of(key)
    if not keys.client_side:
        found = await _target(info, key)
        if found is None:
            return VoucherifyConsentsUpdatePayload(updated=False, user_errors=[_not_found(by_source)])
        target = str(found.id)
    try:
        async with context.voucherify_write(target, source_id):
            await context.voucherify.update_consents(keys, target, granted, unsubscribed)
    except UpstreamNotFound:
        return VoucherifyConsentsUpdatePayload(updated=False, user_errors=[_not_found(by_source)])
    except UpstreamValidation as error:
        return VoucherifyConsentsUpdatePayload(updated=False, user_errors=user_errors_of(error.problems, None))
    except UpstreamError as error:
        raise from_upstream(error, write=True) from error
    return VoucherifyConsentsUpdatePayload(updated=True, user_errors=[])


async def _scheduled(write: Awaitable[str], root: str | None = None) -> VoucherifyAsyncActionPayload:
    """The payload of bulk work Voucherify accepted (its async action, read lazily); a 400 is userErrors
    under the argument ``root``."""
    try:
        action_id = await write
    except UpstreamValidation as error:
        return _refused(user_errors_of(error.problems, root))
    except UpstreamError as error:
        raise from_upstream(error, write=True) from error
    return VoucherifyAsyncActionPayload(async_action=VoucherifyAsyncAction(id=strawberry.ID(action_id)), user_errors=[])


def _refused(errors: list[UserError]) -> VoucherifyAsyncActionPayload:
    return VoucherifyAsyncActionPayload(async_action=None, user_errors=errors)


def _count_errors(count: int, limit: int, argument: str) -> UserError | None:
    """A bulk list's size: at least one, at most ``max_bulk_customers``."""
    if count == 0:
        return UserError(field=[argument], message="Send at least one.", code=UserErrorCode.REQUIRED)
    if count > limit:
        message = f"At most {limit} at once (setting max_bulk_customers), not {count}."
        return UserError(field=[argument], message=message, code=UserErrorCode.TOO_MANY)
    return None


async def bulk_update(info: Info, customers: list[VoucherifyBulkCustomerInput]) -> VoucherifyAsyncActionPayload:
    context = info.context
    limit = context.settings.max_bulk_customers
    if (counted := _count_errors(len(customers), limit, "customers")) is not None:
        return _refused([counted])
    errors = [error for index, item in enumerate(customers) for error in _checks(item, ["customers", str(index)])]
    longest = context.settings.max_identifier_chars
    for index, item in enumerate(customers):
        errors += _identifier_errors(item.source_id, ["customers", str(index), "sourceId"], longest)
    if errors:
        return _refused(errors)
    body = [BulkCustomer(source_id=item.source_id, fields=item.fields()) for item in customers]
    scheduled = await _scheduled(context.voucherify.bulk_update(context.voucherify_keys, body), "customers")
    if scheduled.async_action is not None:
        await context.voucherify_bulk_scheduled([item.source_id for item in customers])
    return scheduled


async def metadata_bulk_update(info: Info, source_ids: list[str], metadata: Any) -> VoucherifyAsyncActionPayload:
    context = info.context
    limit = context.settings.max_bulk_customers
    if (counted := _count_errors(len(source_ids), limit, "sourceIds")) is not None:
        return _refused([counted])
    longest = context.settings.max_identifier_chars
    errors = [e for n, each in enumerate(source_ids) for e in _identifier_errors(each, ["sourceIds", str(n)], longest)]
    if errors:
        return _refused(errors)
    if not isinstance(metadata, dict) or not metadata:
        message = "Metadata must be an object with at least one key-value pair."
        return _refused([UserError(field=["metadata"], message=message, code=UserErrorCode.INVALID)])
    scheduled = await _scheduled(context.voucherify.metadata_bulk_update(context.voucherify_keys, source_ids, metadata))
    if scheduled.async_action is not None:
        await context.voucherify_bulk_scheduled(source_ids)
    return scheduled


async def import_customers(info: Info, file: Upload) -> VoucherifyAsyncActionPayload:
    """The CSV as Voucherify takes it: multipart, in one part named ``file``."""
    context = info.context
    keys = context.voucherify_keys
    content = file.read() if hasattr(file, "read") else b""
    if not isinstance(content, bytes) or not content.strip():
        return _refused([UserError(field=["file"], message="The file is empty.", code=UserErrorCode.BLANK)])
    name = getattr(file, "filename", None) or "customers.csv"
    return await _scheduled(context.voucherify.import_customers(keys, str(name), content), "file")


# Root fields ----------------------------------------------------------------------------------------

Id = Annotated[strawberry.ID | None, strawberry.argument(description="Voucherify's id (cust_...).")]
SourceId = Annotated[str | None, strawberry.argument(description="Your id of the customer.")]


@strawberry.type
class VoucherifyAsyncQueries:
    @strawberry.field(description="An async action by id; null when Voucherify has none.")
    async def voucherify_async_action(
        self,
        info: Info,
        id: strawberry.ID,
        wait_seconds: Annotated[float | None, strawberry.argument(description=(
            "Wait up to this long (and never past the request's deadline) until it is DONE or FAILED; one field "
            "of a request waits, others are read once."))] = None,
    ) -> VoucherifyAsyncAction | None:  # fmt: skip
        return await read_async_action(info, str(id), wait_seconds)


@strawberry.type
class VoucherifyMutations:
    @strawberry.mutation(description="Create a customer, or update the one whose `id` or `sourceId` exists.")
    async def voucherify_customer_upsert(
        self, info: Info, input: VoucherifyCustomerUpsertInput
    ) -> VoucherifyCustomerPayload:
        return await upsert_customer(info, input)

    @strawberry.mutation(description="Update a customer found by `id` or `sourceId` (exactly one).")
    async def voucherify_customer_update(
        self, info: Info, input: VoucherifyCustomerInput, id: Id = None, source_id: SourceId = None
    ) -> VoucherifyCustomerPayload:
        return await update_customer(info, id, source_id, input)

    @strawberry.mutation(description="Delete a customer with its events, orders and segment memberships.")
    async def voucherify_customer_delete(
        self, info: Info, id: Id = None, source_id: SourceId = None
    ) -> VoucherifyCustomerDeletePayload:
        return await delete_customer(info, id, source_id)

    @strawberry.mutation(description="Delete a customer for good (GDPR erasure), with Voucherify's report.")
    async def voucherify_customer_permanent_delete(
        self, info: Info, id: Id = None, source_id: SourceId = None
    ) -> VoucherifyCustomerPermanentDeletePayload:
        return await permanently_delete_customer(info, id, source_id)

    @strawberry.mutation(
        description="Grant or revoke consents; `unsubscribed: true` revokes them all first. Takes client keys too."
    )
    async def voucherify_customer_consents_update(
        self,
        info: Info,
        id: Id = None,
        source_id: SourceId = None,
        consents: list[VoucherifyConsentInput] | None = None,
        unsubscribed: bool = False,
    ) -> VoucherifyConsentsUpdatePayload:
        return await update_consents(info, id, source_id, consents or [], unsubscribed)

    @strawberry.mutation(description="Update (or create) customers by sourceId, as an async action.")
    async def voucherify_customers_bulk_update(
        self, info: Info, customers: list[VoucherifyBulkCustomerInput]
    ) -> VoucherifyAsyncActionPayload:
        return await bulk_update(info, customers)

    @strawberry.mutation(description="Give the customers of these source ids the same metadata, as an async action.")
    async def voucherify_customers_metadata_bulk_update(
        self, info: Info, source_ids: list[str], metadata: JSON
    ) -> VoucherifyAsyncActionPayload:
        return await metadata_bulk_update(info, source_ids, metadata)

    @strawberry.mutation(
        description="Import customers from a CSV (a GraphQL multipart request), as an async action."
    )
    async def voucherify_customers_import(self, info: Info, file: Upload) -> VoucherifyAsyncActionPayload:
        return await import_customers(info, file)
