"""The schema, assembled once per process with its caches, limits and error masking."""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.federation.schema import FederationAny
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.name_converter import NameConverter
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.utils.str_converters import to_camel_case

from ..settings import Settings
from .both_systems import BothSystemsMutations
from .cache_report import CacheReport
from .connections import DEFAULT_PAGE_SIZE
from .customers import CustomerMutations, CustomerQueries
from .document_cache import SENT_OPERATION_NAME, ByteBudget, DocumentCache, cached_documents
from .execution import LeanExecutionContext, LeanPlans, plan_fields
from .federation import FederationQueries, check_representations, settle_entities
from .limits import Limits
from .live import LiveSubscriptions
from .masking import MaskErrorsAndSuggestions, MaskUnexpectedErrors
from .observe import ObserveOperation
from .portal import PortalMutations, PortalQueries
from .prices import PRICE_TYPES
from .sessions import SessionMutations, SessionQueries
from .voucherify_customers import VoucherifyQueries
from .voucherify_mutations import VoucherifyAsyncQueries, VoucherifyMutations

log = logging.getLogger("gateway.graphql")


@strawberry.type
class Query(CustomerQueries, PortalQueries, SessionQueries, VoucherifyQueries, VoucherifyAsyncQueries,
            FederationQueries):  # fmt: skip
    pass


@strawberry.type
class Mutation(CustomerMutations, SessionMutations, PortalMutations, VoucherifyMutations, BothSystemsMutations):
    pass


@strawberry.type
class Subscription(LiveSubscriptions):
    pass


class GatewaySchema(strawberry.federation.Schema):
    """A federation v2 subgraph schema; also served on its own."""

    max_entities = 250
    documents: DocumentCache | None = None  # parsed and validated documents, with their limits checked
    lean_plans: LeanPlans | None = None  # the lean engine's shortcuts (``execution.py``); None when off

    async def execute(self, query: str | None, *args: Any, **kwargs: Any) -> ExecutionResult:
        """Remembers the operation name the client sent: a document of several operations needs one."""
        sent = SENT_OPERATION_NAME.set(kwargs.get("operation_name"))
        try:
            return await super().execute(query, *args, **kwargs)
        finally:
            SENT_OPERATION_NAME.reset(sent)

    async def entities_resolver(  # type: ignore[override]
        self, info: strawberry.Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        check_representations(representations, self.max_entities)
        return await settle_entities(info, super().entities_resolver(info, representations))

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """One log line per operation, however many errors: their count per code and the first one's path.
        No message (it may echo input), no traceback. (A line per error let one request write 2,050.)"""
        counts = Counter(str((error.extensions or {}).get("code", "REQUEST")) for error in errors)
        summary = ", ".join(f"{code} x{count}" for code, count in counts.most_common())
        first = ".".join(map(str, errors[0].path or [])) or "-"
        log.info("graphql errors: %s (first at %s)", summary, first, extra={"error_codes": dict(counts)})


_camel_case = functools.lru_cache(maxsize=4096)(to_camel_case)


class NamesConvertedOnce(NameConverter):
    """Strawberry converts each argument's name to camelCase again on every call of its field; the names
    are few and fixed, so each is converted once."""

    def apply_naming_config(self, name: str) -> str:
        return _camel_case(name) if self.auto_camel_case else name


def build_schema(settings: Settings) -> GatewaySchema:
    """The schema with its extensions; with ``lean_execution`` off, on stock Strawberry and graphql-core
    (no executor overrides, no direct resolver calls, Strawberry's own name converter)."""
    lean = settings.lean_execution
    config = StrawberryConfig(
        name_converter=NamesConvertedOnce() if lean else NameConverter(),
        disable_field_suggestions=not settings.introspection,
        batching_config={"max_operations": settings.max_batch_operations},
    )
    # Factories: one extension per request (they hold the request's execution context). The document
    # cache is the schema's, shared by every request; the limits are computed once, from the schema.
    new_bytes = ByteBudget(settings.new_document_bytes_per_s, settings.new_document_burst_bytes)
    documents = DocumentCache(settings.document_cache_bytes, new_bytes, keep_subfields=lean)
    schema = GatewaySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=PRICE_TYPES,
        config=config,
        execution_context_class=LeanExecutionContext if lean else None,
        federation_version=settings.federation_version,
    )
    schema.max_entities = settings.max_entities
    schema.documents = documents
    limits = Limits.of(settings, DEFAULT_PAGE_SIZE, schema._schema)  # introspection is weighed by this schema
    rules = [] if settings.introspection else [NoSchemaIntrospectionCustomRule]
    extensions: list[Callable[[], SchemaExtension]] = [
        ObserveOperation,  # first: it sees every error as the client will (after masking)
        cached_documents(documents, settings.max_tokens, limits, rules),
        MaskUnexpectedErrors if settings.introspection else MaskErrorsAndSuggestions,
    ]
    if settings.cache_extensions:
        extensions.append(CacheReport)
    schema.extensions = tuple(extensions)
    if lean:
        schema.lean_plans = LeanPlans(documents)
        plan_fields(schema, schema.lean_plans)
    return schema


def schema_sdl() -> str:
    return build_schema(Settings()).as_str() + "\n"
