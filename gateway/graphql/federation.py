"""Apollo Federation v2: ``Customer`` is an entity keyed by ``id`` and by ``externalId``, ``VoucherifyCustomer``
one keyed by ``id`` and by ``sourceId``.

A router's ``_entities`` call goes through the request's loaders, like ``customer(id:)``: representations
of the same customer cost one upstream request, and a customer the request already holds costs none.
Representations come from the network, so their shape is checked before anything is loaded.

``_service { sdl }`` is the whole schema: with introspection off it answers only a router that presents
the shared secret (setting ``router_secret``), else anyone could read what introspection hides.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any

import strawberry
from graphql import FieldNode, GraphQLError
from strawberry.printer import print_schema

from .arguments import require_uuid
from .errors import ErrorCode, bad_input, gateway_error

if TYPE_CHECKING:
    from .context import Context
    from .types import Customer
    from .voucherify_types import VoucherifyCustomer

BY_ID, BY_SOURCE = "id:", "source:"  # the keys of the Voucherify customer loader (``voucherify_loaders``)

ENTITY_KEYS = {"Customer": ("id", "externalId"), "VoucherifyCustomer": ("id", "sourceId")}  # the keys of each type
ENTITY_TYPES = frozenset(ENTITY_KEYS)


def check_representations(representations: list[Any], limit: int) -> None:
    """The whole ``_entities`` field is refused when any representation is malformed: routers never send
    such, so it is a hand-written call, and one clear error serves it better than a list of nulls."""
    if len(representations) > limit:
        raise bad_input(
            f"_entities takes at most {limit} representations (setting max_entities); got {len(representations)}.",
            "representations",
        )
    for index, representation in enumerate(representations):
        if not isinstance(representation, Mapping):
            raise bad_input(f"representations[{index}] must be an object.", "representations")
        typename = representation.get("__typename")
        if typename not in ENTITY_TYPES:
            raise bad_input(
                f"representations[{index}].__typename must be one of {', '.join(sorted(ENTITY_TYPES))}.",
                "representations",
            )
        keys = set(representation) - {"__typename"}
        allowed = ENTITY_KEYS[typename]
        if len(keys) != 1 or not keys <= set(allowed) or not isinstance(representation[keys.pop()], str):
            raise bad_input(
                f"representations[{index}] must carry exactly one key of {typename}, '{allowed[0]}' or "
                f"'{allowed[1]}', as a string.",
                "representations",
            )


ROUTER_SECRET_HEADER = "X-Router-Secret"


@strawberry.type(name="_Service", description="The subgraph's SDL, for a federation router.")
class Service:
    sdl: str


@strawberry.type
class FederationQueries:
    @strawberry.field(name="_service")
    def service(self, info: strawberry.Info[Context, None]) -> Service:
        context = info.context
        if not context.settings.introspection and not context.from_router:
            raise gateway_error(
                f"With introspection off, _service answers only the federation router: send the {ROUTER_SECRET_HEADER} "
                "header with the router_secret setting's value.",
                ErrorCode.FORBIDDEN,
            )
        return Service(sdl=_sdl(info.schema))


@functools.cache
def _sdl(schema: strawberry.Schema) -> str:
    return print_schema(schema)


# Failures that concern the request, not a representation: the whole field fails once, instead of once per
# representation (a refused token made 2,050 identical errors, and building them cost 170 ms of CPU).
WHOLE_FIELD = frozenset({ErrorCode.UNAUTHENTICATED, ErrorCode.FORBIDDEN, ErrorCode.LIMIT_EXCEEDED})


async def settle_entities(info: strawberry.Info[Context, None], results: list[Any]) -> list[Any]:
    """Each representation's entity, or its error in its place; one error for the field when every
    representation failed, and for a reason that is the whole request's. (When some succeeded, as Polar's
    customers do beside Voucherify's without its keys, each failed one keeps its own error.)

    A router's batch is the exception: Hive Gateway sends the ``_entities`` fetches of one subgraph as aliases
    of one document. ``_entities`` is non-null, so one field's error would null the whole response, and the
    Polar customers of one alias were lost to the Voucherify keys another alias lacked. There each failed
    representation keeps its own error (at most ``max_entities`` of them), which the router puts on its path."""
    settled = await asyncio.gather(*(_settled(result) for result in results))
    failures = [outcome for outcome in settled if isinstance(outcome, GraphQLError)]
    if settled and len(failures) == len(settled) and not _router_batch(info):
        for failure in failures:
            if (failure.extensions or {}).get("code") in WHOLE_FIELD:
                raise failure
    return settled


def _router_batch(info: strawberry.Info[Context, None]) -> bool:
    """Whether the operation is several ``_entities`` fields and nothing else."""
    selections = info.operation.selection_set.selections
    return len(selections) > 1 and all(
        isinstance(selection, FieldNode) and selection.name.value in ("_entities", "__typename")
        for selection in selections
    )


async def _settled(result: Any) -> Any:
    if not inspect.isawaitable(result):
        return result
    try:
        return await result
    except GraphQLError as error:
        return error


def resolve_voucherify_reference(
    info: strawberry.Info[Context, None], key: Mapping[str, str]
) -> VoucherifyCustomer | Awaitable[VoucherifyCustomer | None] | None:
    """The Voucherify customer a representation names, through the request's loaders (exactly that key)."""
    name, value = ("id", key["id"]) if "id" in key else ("sourceId", key["sourceId"])
    if not value:
        raise bad_input(f"representations.{name} cannot be empty.", "representations")
    loaders = info.context.voucherify_loaders
    return loaders.find(BY_ID + value if name == "id" else BY_SOURCE + value)


def resolve_customer_reference(
    info: strawberry.Info[Context, None], key: Mapping[str, str]
) -> Awaitable[Customer | None]:
    """The customer a representation names, through the request's loaders; null when it does not exist."""
    loaders = info.context.loaders
    if "id" in key:
        return loaders.customer_by_id.load(require_uuid(key["id"], "representations.id", "a customer id (a UUID)"))
    external_id = key["externalId"]
    if not external_id:
        raise bad_input("representations.externalId cannot be empty.", "representations")
    return loaders.customer_by_external_id.load(external_id)
