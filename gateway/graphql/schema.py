"""The schema, assembled once per process with its caches, limits and error masking."""

from __future__ import annotations

import logging
from collections.abc import Callable

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache
from strawberry.federation.schema import FederationAny
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from ..settings import Settings
from .customers import DEFAULT_PAGE_SIZE, CustomerMutations, CustomerQueries
from .federation import check_representations
from .limits import limit_extensions
from .masking import MaskUnexpectedErrors
from .observe import ObserveOperation
from .portal import PortalMutations, PortalQueries

CACHE_SIZE = 1024
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


def build_schema(settings: Settings) -> strawberry.Schema:
    config = StrawberryConfig(
        disable_field_suggestions=not settings.introspection,
        batching_config={"max_operations": settings.max_batch_operations},
    )
    # Factories: one extension per request (they hold the request's execution context). The parse and
    # validation caches live at module level, shared by every request; the limit rules are built once.
    extensions: list[Callable[[], SchemaExtension]] = [
        ObserveOperation,  # first: it sees every error as the client will (after masking)
        lambda: ParserCache(maxsize=CACHE_SIZE),
        lambda: ValidationCache(maxsize=CACHE_SIZE),
        *limit_extensions(settings, DEFAULT_PAGE_SIZE),
        MaskUnexpectedErrors,
    ]
    schema = GatewaySchema(query=Query, mutation=Mutation, config=config, extensions=extensions)
    schema.max_entities = settings.max_entities
    return schema


def schema_sdl() -> str:
    return build_schema(Settings()).as_str() + "\n"
