"""The schema, assembled once per process with its caches, limits and error masking."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.federation.schema import FederationAny
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.name_converter import NameConverter
from strawberry.types import ExecutionContext
from strawberry.utils.str_converters import to_camel_case

from ..settings import Settings
from .customers import DEFAULT_PAGE_SIZE, CustomerMutations, CustomerQueries
from .document_cache import cached_parsing, cached_validation
from .execution import lean_execution_context, plan_fields
from .federation import check_representations
from .limits import limit_rules
from .masking import MaskUnexpectedErrors
from .observe import ObserveOperation
from .portal import PortalMutations, PortalQueries

log = logging.getLogger("gateway.graphql")


@strawberry.type
class Query(CustomerQueries, PortalQueries):
    pass


@strawberry.type
class Mutation(CustomerMutations, PortalMutations):
    pass


class GatewaySchema(strawberry.federation.Schema):
    """A federation v2 subgraph schema; also served on its own."""

    max_entities = 250

    def entities_resolver(self, info: strawberry.Info, representations: list[FederationAny]) -> list[FederationAny]:
        check_representations(representations, self.max_entities)
        return super().entities_resolver(info, representations)

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """One log line per error: its code and path. No message (it may echo input), no traceback."""
        for error in errors:
            code = (error.extensions or {}).get("code", "REQUEST")
            log.info("graphql error %s at %s", code, ".".join(map(str, error.path or [])) or "-")


_camel_case = functools.lru_cache(maxsize=4096)(to_camel_case)


class NamesConvertedOnce(NameConverter):
    """Strawberry converts each argument's name to camelCase again on every call of its field; the names
    are few and fixed, so each is converted once."""

    def apply_naming_config(self, name: str) -> str:
        return _camel_case(name) if self.auto_camel_case else name


def build_schema(settings: Settings) -> strawberry.Schema:
    config = StrawberryConfig(
        name_converter=NamesConvertedOnce(),
        disable_field_suggestions=not settings.introspection,
        batching_config={"max_operations": settings.max_batch_operations},
    )
    # Factories: one extension per request (they hold the request's execution context). The parse and
    # validation caches live in their modules, shared by every request; the limit rules are built once.
    extensions: list[Callable[[], SchemaExtension]] = [
        ObserveOperation,  # first: it sees every error as the client will (after masking)
        cached_parsing(settings.max_tokens),
        cached_validation(limit_rules(settings, DEFAULT_PAGE_SIZE)),
        MaskUnexpectedErrors,
    ]
    execution_context, plans = lean_execution_context()
    schema = GatewaySchema(
        query=Query, mutation=Mutation, config=config, extensions=extensions, execution_context_class=execution_context
    )
    schema.max_entities = settings.max_entities
    plan_fields(schema._schema, config, plans, handlers=bool(schema.exception_handlers))
    return schema


def schema_sdl() -> str:
    return build_schema(Settings()).as_str() + "\n"
