"""The lean engine: a faster path through graphql-core for plain fields, used only with the setting
``lean_execution`` (on by default). It overrides two private methods of graphql-core's executor
(``execute_field``, ``collect_subfields``) and replaces Strawberry's resolver wrapper on some fields, so
it is fenced: with the setting off the gateway runs stock Strawberry and graphql-core, and
``tests/graphql/test_lean_differential.py`` holds both to the same answers, byte for byte.

Most of a response is leaf fields read straight from attributes (a page of 50 customers with state is
about 1,500 of them), and graphql-core's general path builds a resolve-info object, calls a resolver and
dispatches on the type for each one.

- A field Strawberry itself calls basic (``StrawberryField.is_basic_field``: no resolver, no field
  extensions, so no permission classes) and that no exception handler covers is read with one
  ``getattr``; of a scalar or enum type, it is read and coerced by the execution context without the
  resolve info. Anything unusual (null in a non-null field, a value that does not coerce) goes the
  general way, which reports it as stock graphql-core does.
- The sub-selections of an object field are collected once per cached document without directives, not
  once per request and alias (twenty aliased lookups have twenty selection sets to collect).
- A field with a resolver whose arguments are all plain scalars (``customer(id:)``, ``Customer.state``)
  and no field extensions calls that resolver directly: Strawberry's wrapper converts each argument by
  type and builds the call through its extension chain, which for these fields changes nothing but costs
  about as much as the resolver itself.
- Nothing is planned when the schema has exception handlers or an extension that hooks ``resolve``
  (Strawberry runs those as graphql-core middleware around every field), and a request whose executor
  has middleware anyway takes the general path for every field.

The plans live on the Strawberry schema (``LeanPlans``), the shared sub-selections in its document cache.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import strawberry
from graphql import (
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    Undefined,
    is_leaf_type,
)
from graphql.execution.collect_fields import CollectedFields, FieldDetailsList
from graphql.pyutils import Path
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.base import StrawberryOptional
from strawberry.types.field import StrawberryField

from .document_cache import DocumentCache

# (attribute, coerce to output, non-null), by (parent type name, field name)
LeafPlan = tuple[str, Callable[[Any], Any], bool]


@dataclass
class LeanPlans:
    """What the lean engine knows of one schema: its plain leaf fields, and where cached documents keep
    the sub-selections collected for them."""

    documents: DocumentCache | None
    leaves: dict[tuple[str, str], LeafPlan] = field(default_factory=dict)


def plans_of(schema: GraphQLSchema) -> LeanPlans | None:
    """The plans of the Strawberry schema behind ``schema``, if it has any."""
    owner = (schema.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    plans = getattr(owner, "lean_plans", None)
    return plans if isinstance(plans, LeanPlans) else None


_NO_LEAVES: dict[tuple[str, str], LeafPlan] = {}


class LeanExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, with the shortcuts planned by ``plan_fields``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        plans = plans_of(self.schema)
        middleware = getattr(self.middleware_manager, "middlewares", None)
        self._leaves = plans.leaves if plans is not None and not middleware else _NO_LEAVES
        self._documents = plans.documents if plans is not None else None

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        plan = self._leaves.get((parent_type.name, field_details_list[0].node.name.value))
        if plan is not None:
            attribute, coerce, non_null = plan
            value = getattr(source, attribute)
            if value is None:
                if not non_null:
                    return None
            else:
                try:
                    coerced = coerce(value)
                except Exception:
                    coerced = None
                if coerced is not None and coerced is not Undefined:
                    return coerced
        return super().execute_field(parent_type, source, field_details_list, path, position_context)

    def collect_subfields(
        self, return_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> CollectedFields:
        shared = self._documents.subfields_of(self.operation) if self._documents is not None else None
        if shared is None:
            return super().collect_subfields(return_type, field_details_list)
        key = (return_type.name, *(id(details.node) for details in field_details_list))
        collected = shared.get(key)
        if collected is None:
            collected = shared[key] = super().collect_subfields(return_type, field_details_list)
        return collected


def hooks_resolve(extensions: Iterable[object]) -> bool:
    """Whether any schema extension (a class, an instance, or a factory of unknown kind) may hook
    ``resolve``: Strawberry runs such hooks around every field, which the shortcuts would skip."""
    for extension in extensions:
        kind = extension if isinstance(extension, type) else type(extension)
        if not issubclass(kind, SchemaExtension) or kind._implements_resolve():
            return True
    return False


def plan_fields(schema: strawberry.Schema, plans: LeanPlans) -> None:
    """Fills ``plans`` and replaces the resolvers of plain fields, unless the schema has exception
    handlers, directives or an extension that hooks ``resolve``; call it once the extensions are set."""
    if schema.exception_handlers or schema.directives or hooks_resolve(schema.extensions):
        return
    for named in schema._schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        if named is schema._schema.subscription_type:  # its resolver makes the stream; each event resolves as is
            continue
        for field_name, graphql_field in named.fields.items():
            definition = (graphql_field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if not isinstance(definition, StrawberryField):
                continue
            if not (definition.is_basic_field and getattr(graphql_field.resolve, "_is_default", False)):
                if _callable_directly(definition):
                    graphql_field.resolve = _direct(definition, schema.config)
                continue
            graphql_field.resolve = _attribute(definition.python_name)
            non_null = isinstance(graphql_field.type, GraphQLNonNull)
            leaf = graphql_field.type.of_type if isinstance(graphql_field.type, GraphQLNonNull) else graphql_field.type
            if is_leaf_type(leaf) and not graphql_field.args:
                plans.leaves[(named.name, field_name)] = (definition.python_name, leaf.coerce_output_value, non_null)


def _attribute(name: str) -> Callable[..., Any]:
    def resolve(source: Any, info: Any, **_arguments: Any) -> Any:
        return getattr(source, name)

    resolve._is_default = True  # type: ignore[attr-defined]  # as Strawberry marks its own
    return resolve


_PLAIN_SCALARS = (str, int, float, bool, strawberry.ID)


def _callable_directly(field: StrawberryField) -> bool:
    """A resolver Strawberry would call with its arguments unchanged: no field extensions (permission
    classes are one), and every argument a built-in scalar (Strawberry passes those through as graphql-core
    coerced them; inputs, enums, lists and ``Maybe`` it converts)."""
    resolver = field.base_resolver
    if resolver is None or field.extensions or field.permission_classes:
        return False
    function = resolver.wrapped_func
    if isinstance(function, staticmethod | classmethod) or inspect.isasyncgenfunction(function):
        return False
    for argument in field.arguments:
        kind = argument.type
        if isinstance(kind, StrawberryOptional) and type(kind) is StrawberryOptional:
            kind = kind.of_type
        if kind not in _PLAIN_SCALARS:
            return False
    return True


def _direct(field: StrawberryField, config: StrawberryConfig) -> Callable[..., Any]:
    """The resolver called as Strawberry would call it: GraphQL argument names mapped to Python ones,
    the source as ``self``, ``root`` or ``parent``, and Strawberry's ``Info`` where it asks for one."""
    resolver = field.base_resolver
    assert resolver is not None
    function = cast(Callable[..., Any], resolver.wrapped_func)  # a plain function (see _callable_directly)
    python_names = {config.name_converter.from_argument(a): a.python_name for a in field.arguments}
    takes_self = resolver.self_parameter is not None
    source_names = [p.name for p in (resolver.root_parameter, resolver.parent_parameter) if p is not None]
    info_name = resolver.info_parameter.name if resolver.info_parameter is not None else None
    info_class = config.info_class

    def resolve(source: Any, info: GraphQLResolveInfo[Any], **arguments: Any) -> Any:
        kwargs = {python_names[name]: value for name, value in arguments.items()}
        for name in source_names:
            kwargs[name] = source
        if info_name is not None:
            kwargs[info_name] = info_class(_raw_info=info, _field=field)
        return function(source, **kwargs) if takes_self else function(**kwargs)

    return resolve
