"""Voucherify's async actions (bulk updates, metadata updates, CSV imports): the GraphQL type, read lazily
through the request's loader, and ``voucherifyAsyncAction`` with its bounded wait."""

from __future__ import annotations

import asyncio
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, cast

import strawberry
from strawberry.scalars import JSON

from ..upstream import budget
from ..upstream import voucherify_records as records
from ..upstream.errors import UpstreamError, UpstreamNotFound
from .arguments import checked_text
from .errors import ErrorCode, bad_input, from_upstream, gateway_error

if TYPE_CHECKING:
    from .context import Context

FIRST_POLL_S = 0.1  # the wait before the first re-read; each next one doubles, up to MAX_POLL_S
MAX_POLL_S = 1.0
DEADLINE_MARGIN_S = 1.0  # the last re-read starts at least this long before the request's deadline


@strawberry.enum(name="VoucherifyAsyncActionStatus")
class AsyncActionStatus(Enum):
    ENQUEUED = "ENQUEUED"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    FAILED = "FAILED"


@strawberry.type(description="Bulk work Voucherify runs in the background; read it again until it is DONE or FAILED.")
class VoucherifyAsyncAction:
    id: strawberry.ID
    record: strawberry.Private[records.AsyncAction | None] = None  # None: read when a field needs it

    async def _read(self, info: strawberry.Info[Context, None]) -> records.AsyncAction:
        if self.record is None:
            found = await info.context.voucherify_loaders.async_action.load(str(self.id))
            if found is None:
                raise gateway_error("Voucherify has no such async action.", ErrorCode.UPSTREAM_UNAVAILABLE)
            self.record = found
        return self.record

    @strawberry.field(description="CUSTOMERS.IMPORT_CSV, CUSTOMERS.BULK_UPDATE or CUSTOMERS.METADATA_UPDATE.")
    async def type(self, info: strawberry.Info[Context, None]) -> str:
        return (await self._read(info)).type

    @strawberry.field
    async def status(self, info: strawberry.Info[Context, None]) -> AsyncActionStatus:
        status = (await self._read(info)).status
        if status not in AsyncActionStatus.__members__:
            raise gateway_error("Voucherify answered an async action status this gateway does not know.",
                                ErrorCode.UPSTREAM_UNAVAILABLE)  # fmt: skip
        return AsyncActionStatus(status)

    @strawberry.field(description="SUCCESS, FAILED or UNKNOWN, when Voucherify says.")
    async def operation_status(self, info: strawberry.Info[Context, None]) -> str | None:
        return (await self._read(info)).operation_status

    @strawberry.field(description="0 to 100.")
    async def progress(self, info: strawberry.Info[Context, None]) -> int:
        return (await self._read(info)).progress

    @strawberry.field(description="The report once done: counts, and what failed and why (its shape is the type's).")
    async def result(self, info: strawberry.Info[Context, None]) -> JSON | None:
        return cast(JSON | None, (await self._read(info)).result)

    @strawberry.field
    async def created_at(self, info: strawberry.Info[Context, None]) -> datetime | None:
        return (await self._read(info)).created_at

    @strawberry.field
    async def updated_at(self, info: strawberry.Info[Context, None]) -> datetime | None:
        return (await self._read(info)).updated_at

    @strawberry.field
    async def processing_time_ms(self, info: strawberry.Info[Context, None]) -> int | None:
        return (await self._read(info)).processing_time_ms


async def read_async_action(
    info: strawberry.Info[Context, None], action_id: str, wait_seconds: float | None
) -> VoucherifyAsyncAction | None:
    """The action now; with ``wait_seconds``, read again (backing off) until it is finished, that time has
    passed, or the request's deadline is near, whichever comes first: for the first such field of a request
    only (the others are read once). Null when Voucherify has no such action."""
    context = info.context
    longest = context.settings.async_action_max_wait_s
    if wait_seconds is not None and not 0 <= wait_seconds <= longest:
        message = f"'waitSeconds' is between 0 and {longest:g} (setting async_action_max_wait_s)."
        raise bad_input(message, "waitSeconds")
    checked_text(action_id, "id", context.settings.max_identifier_chars)
    keys, client = context.voucherify_keys, context.voucherify
    if context.waited:  # one field a request waits: thirty aliases waiting would each poll upstream
        wait_seconds = None
    context.waited = context.waited or bool(wait_seconds)
    loop = asyncio.get_running_loop()
    until = loop.time() + (wait_seconds or 0)
    pause = FIRST_POLL_S
    while True:
        try:
            action = await client.get_async_action(keys, action_id)
        except UpstreamNotFound:
            return None
        except UpstreamError as error:
            raise from_upstream(error) from error
        left = min(until - loop.time(), (budget.remaining() or 0) - DEADLINE_MARGIN_S)
        if action.finished or left < pause:
            return VoucherifyAsyncAction(id=strawberry.ID(action.id), record=action)
        await asyncio.sleep(pause)
        pause = min(pause * 2, MAX_POLL_S)
