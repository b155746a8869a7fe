"""Writes that span both upstreams for one person, linked by the caller's own id (Polar's ``externalId`` is
Voucherify's ``sourceId``): enrolling a Polar customer in loyalty, and erasing a person from both systems.

Each needs the caller's credentials for both upstreams, and refuses before any call when either is missing:
an erasure must never leave a person gone from one system because the other could not be asked."""

from __future__ import annotations

import asyncio
from enum import Enum
from typing import Any, cast

import strawberry
from graphql import GraphQLError

from ..upstream import voucherify_records as vf_records
from ..upstream.changes import KEEP
from ..upstream.errors import UpstreamError, UpstreamNotFound, UpstreamValidation
from ..upstream.voucherify_requests import CustomerFields, CustomerUpsert
from .context import Context
from .customers import resolve_customer
from .errors import UserError, UserErrorCode, bad_input, failure_of, from_upstream, user_errors_of
from .types import Address, Customer
from .voucherify_loaders import by_source_id
from .voucherify_mutations import Deletion
from .voucherify_types import VoucherifyCustomer

Info = strawberry.Info[Context, None]
NO_SOURCE_ID = "No Voucherify customer has this sourceId."
NO_EXTERNAL_ID = "No Polar customer has this externalId."


@strawberry.type
class CustomerLoyaltyEnrollPayload:
    customer: Customer | None
    voucherify_customer: VoucherifyCustomer | None
    user_errors: list[UserError]


@strawberry.enum(description="A system a customer's data lives in.")
class CustomerSystem(Enum):
    POLAR = "POLAR"
    VOUCHERIFY = "VOUCHERIFY"


@strawberry.enum
class ErasureStatus(Enum):
    ERASED = "ERASED"
    NOT_FOUND = "NOT_FOUND"  # nothing of this person there (also: erased by an earlier run)
    FAILED = "FAILED"  # run the erasure again: what is done is reported NOT_FOUND, the rest is finished


@strawberry.type(description="What an erasure did in one system.")
class ErasureReport:
    system: CustomerSystem
    status: ErasureStatus
    detail: str
    deletion: Deletion | None = strawberry.field(description="Voucherify's report of what went (counts).")


@strawberry.type
class CustomerErasePayload:
    reports: list[ErasureReport]
    user_errors: list[UserError]


def _both_credentials(context: Context) -> None:
    """The Polar token and the Voucherify server keys, or an error before any call."""
    context.organization_token  # noqa: B018 - raises UNAUTHENTICATED or FORBIDDEN
    context.voucherify_keys  # noqa: B018


# Enrollment ---------------------------------------------------------------------------------------


def enrollment(customer: Customer, source_id: str) -> CustomerUpsert:
    """The Voucherify customer of a Polar one, field by field: email, name, the billing address and the
    metadata (Polar's values are strings, integers, floats and booleans, which Voucherify takes as they are)."""
    address = customer.billing_address
    return CustomerUpsert(source_id=source_id, fields=CustomerFields(
        email=customer.email if customer.email is not None else KEEP,
        name=customer.name if customer.name is not None else KEEP,
        address=_address(address) if address is not None else KEEP,
        metadata=dict(cast(dict[str, Any], customer.metadata)) if customer.metadata else KEEP,
    ))  # fmt: skip


def _address(address: Address) -> vf_records.Address:
    return vf_records.Address(line_1=address.line1, line_2=address.line2, city=address.city, state=address.state,
                              postal_code=address.postal_code, country=address.country)  # fmt: skip


async def enroll(info: Info, id_: strawberry.ID | None, external_id: str | None) -> CustomerLoyaltyEnrollPayload:
    """Voucherify's create is an upsert by source id: enrolling twice leaves one customer, so a retry after an
    unknown outcome is safe."""
    context = info.context
    found = resolve_customer(info, id_, external_id)  # the arguments are checked first
    _both_credentials(context)
    customer = await found
    if customer is None:
        field = "id" if id_ is not None else "externalId"
        return CustomerLoyaltyEnrollPayload(customer=None, voucherify_customer=None, user_errors=[
            UserError(field=[field], message="No customer matches.", code=UserErrorCode.NOT_FOUND)])  # fmt: skip
    if not customer.external_id:
        message = "The customer has no externalId, which links it to Voucherify: set one with customerUpdate first."
        return CustomerLoyaltyEnrollPayload(customer=customer, voucherify_customer=None, user_errors=[
            UserError(field=["externalId"], message=message, code=UserErrorCode.REQUIRED)])  # fmt: skip
    try:
        upsert = enrollment(customer, customer.external_id)
        async with context.voucherify_write(None, customer.external_id):
            saved = await context.voucherify.upsert_customer(context.voucherify_keys, upsert)
    except UpstreamValidation as error:
        return CustomerLoyaltyEnrollPayload(customer=customer, voucherify_customer=None,
                                            user_errors=user_errors_of(error.problems, None))  # fmt: skip
    except UpstreamError as error:
        raise from_upstream(error, write=True) from error
    voucherify = context.voucherify_loaders.prime(saved)
    return CustomerLoyaltyEnrollPayload(customer=customer, voucherify_customer=voucherify, user_errors=[])


# Erasure -------------------------------------------------------------------------------------------


async def erase(info: Info, external_id: str) -> CustomerErasePayload:
    """Polar: delete with ``anonymize``; Voucherify: permanent deletion. Both systems are asked for the person
    first, at once, and only when both have answered is anything erased (again at once): keys Voucherify
    refuses, or a Polar that is down, must not leave the person gone from the other system alone. A system
    whose erasure then fails is ``FAILED`` and the other goes on: running it again finishes the job."""
    if not external_id:
        raise bad_input("'externalId' cannot be empty.", "externalId")
    context = info.context
    _both_credentials(context)
    polar, voucherify = await asyncio.gather(_find_in_polar(info, external_id), _find_in_voucherify(info, external_id))
    unasked = [found for found in (polar, voucherify)
               if isinstance(found, ErasureReport) and found.status is ErasureStatus.FAILED]  # fmt: skip
    if unasked:
        return CustomerErasePayload(reports=[_kept(found, unasked[0]) for found in (polar, voucherify)], user_errors=[])
    erased = await asyncio.gather(_erase_from_polar(info, polar), _erase_from_voucherify(info, voucherify))
    return CustomerErasePayload(reports=list(erased), user_errors=[])


def _kept(found: Customer | VoucherifyCustomer | ErasureReport, unasked: ErasureReport) -> ErasureReport:
    """A system's report when the other could not be asked: its own lookup's, or FAILED with nothing erased."""
    if isinstance(found, ErasureReport):
        return found
    system = CustomerSystem.POLAR if isinstance(found, Customer) else CustomerSystem.VOUCHERIFY
    other = "Polar" if unasked.system is CustomerSystem.POLAR else "Voucherify"
    detail = f"Not erased: {other} could not be asked. Run customerErase again to finish."
    return _report(system, ErasureStatus.FAILED, detail)


async def _find_in_polar(info: Info, external_id: str) -> Customer | ErasureReport:
    try:
        found = await info.context.loaders.customer_by_external_id.load(external_id)
    except (UpstreamError, GraphQLError) as error:
        return _failed(CustomerSystem.POLAR, error)
    return found if found is not None else _report(CustomerSystem.POLAR, ErasureStatus.NOT_FOUND, NO_EXTERNAL_ID)


async def _find_in_voucherify(info: Info, external_id: str) -> VoucherifyCustomer | ErasureReport:
    try:
        found = await info.context.voucherify_loaders.get(by_source_id(external_id))
    except (UpstreamError, GraphQLError) as error:
        return _failed(CustomerSystem.VOUCHERIFY, error)
    return found if found is not None else _report(CustomerSystem.VOUCHERIFY, ErasureStatus.NOT_FOUND, NO_SOURCE_ID)


async def _erase_from_polar(info: Info, found: Customer | ErasureReport) -> ErasureReport:
    if isinstance(found, ErasureReport):
        return found
    context = info.context
    try:
        async with context.polar_write(str(found.id), found.external_id):
            await context.polar_client.delete_customer(context.organization_token, str(found.id), anonymize=True)
    except UpstreamNotFound:
        return _report(CustomerSystem.POLAR, ErasureStatus.NOT_FOUND, NO_EXTERNAL_ID)
    except (UpstreamError, GraphQLError) as error:
        return _failed(CustomerSystem.POLAR, error)
    return _report(CustomerSystem.POLAR, ErasureStatus.ERASED,
                   "Deleted with anonymize: personal data removed, email and externalId freed.")  # fmt: skip


async def _erase_from_voucherify(info: Info, found: VoucherifyCustomer | ErasureReport) -> ErasureReport:
    if isinstance(found, ErasureReport):
        return found
    context = info.context
    try:
        async with context.voucherify_write(str(found.id), found.source_id):
            report = await context.voucherify.permanently_delete_customer(context.voucherify_keys, str(found.id))
    except UpstreamNotFound:
        return _report(CustomerSystem.VOUCHERIFY, ErasureStatus.NOT_FOUND, NO_SOURCE_ID)
    except (UpstreamError, GraphQLError) as error:
        return _failed(CustomerSystem.VOUCHERIFY, error)
    context.voucherify_loaders.forget(str(found.id), found.source_id)
    return ErasureReport(system=CustomerSystem.VOUCHERIFY, status=ErasureStatus.ERASED,
                         detail="Permanently deleted, with its events, orders and segment memberships.",
                         deletion=Deletion.of(report))  # fmt: skip


def _report(system: CustomerSystem, status: ErasureStatus, detail: str) -> ErasureReport:
    return ErasureReport(system=system, status=status, detail=detail, deletion=None)


def _failed(system: CustomerSystem, error: Any) -> ErasureReport:
    """A failure's text as the gateway tells it (no upstream body, no credential); run the erasure again."""
    message = failure_of(error).message if isinstance(error, UpstreamError) else str(error.message)
    return _report(system, ErasureStatus.FAILED, f"{message} Run customerErase again to finish.")


@strawberry.type
class BothSystemsMutations:
    @strawberry.mutation(
        description=(
            "Enroll a Polar customer (by id or externalId) in Voucherify: upserts the Voucherify customer whose "
            "sourceId is its externalId, with its email, name, address and metadata. Safe to repeat."
        )
    )
    async def customer_loyalty_enroll(
        self, info: Info, id: strawberry.ID | None = None, external_id: str | None = None
    ) -> CustomerLoyaltyEnrollPayload:
        return await enroll(info, id, external_id)

    @strawberry.mutation(
        description=(
            "Erase one person from both systems (a data-erasure request): Polar's customer deleted with anonymize, "
            "Voucherify's deleted for good. Needs both credentials; run it again to finish after a failure."
        )
    )
    async def customer_erase(self, info: Info, external_id: str) -> CustomerErasePayload:
        return await erase(info, external_id)
