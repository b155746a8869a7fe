"""The schema, assembled once per process with its caches, limits and error masking."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLObjectType, GraphQLSchema
from strawberry.extensions import SchemaExtension
from strawberry.federation.schema import FederationAny
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.name_converter import NameConverter
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types import ExecutionContext
from strawberry.utils.str_converters import to_camel_case

from ..settings import Settings
from .customers import DEFAULT_PAGE_SIZE, CustomerMutations, CustomerQueries
from .document_cache import cached_parsing, cached_validation
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
    schema = GatewaySchema(query=Query, mutation=Mutation, config=config, extensions=extensions)
    schema.max_entities = settings.max_entities
    plain_attribute_resolvers(schema._schema)
    return schema


def plain_attribute_resolvers(schema: GraphQLSchema) -> None:
    """A field with no resolver of its own is read with one ``getattr``: Strawberry's generic path takes
    three Python calls a field, and a page of 50 customers with state resolves about 1,500 fields."""
    for named in schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        for field in named.fields.values():
            definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if definition is not None and getattr(field.resolve, "_is_default", False):
                field.resolve = _attribute(definition.python_name)


def _attribute(name: str) -> Callable[..., Any]:
    def resolve(source: Any, info: Any, **_arguments: Any) -> Any:
        return getattr(source, name)

    resolve._is_default = True  # type: ignore[attr-defined]  # as Strawberry marks its own
    return resolve


def schema_sdl() -> str:
    return build_schema(Settings()).as_str() + "\n"
