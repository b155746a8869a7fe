"""A lean path through graphql-core for plain fields: most of a response is leaf fields read straight from
attributes (a page of 50 customers with state is about 1,500 of them), and graphql-core's general path
builds a resolve-info object, calls a resolver and dispatches on the type for each one.

- Every field without a resolver of its own is read with one ``getattr`` (Strawberry's generic path
  takes three Python calls).
- A plain field of a scalar or enum type is read and coerced directly by the execution context, without
  the resolve info; anything unusual (null in a non-null field, a value that does not coerce) goes the
  general way, which reports it exactly as before.
- The sub-selections of an object field are collected once per cached document, not once per request
  and alias: a document without directives collects the same fields for the same nodes every time,
  and twenty aliased lookups have twenty selection sets to collect.
- A field with a resolver whose arguments are all plain scalars (``customer(id:)``, ``Customer.state``)
  calls that resolver directly: Strawberry's general wrapper converts each argument by type, builds the
  call through its extension chain and adds a coroutine around async resolvers, which for these fields
  changes nothing but costs about as much as the resolver itself.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
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
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.base import StrawberryOptional
from strawberry.types.field import StrawberryField

from .document_cache import DocumentCache

# (parent type name, field name) -> (attribute, coerce to output, non-null)
LeafPlan = tuple[str, Callable[[Any], Any], bool]


def lean_execution_context(
    documents: DocumentCache,
) -> tuple[type[StrawberryGraphQLCoreExecutionContext], dict[tuple[str, str], LeafPlan]]:
    """An execution context class and its (empty) plans, filled by ``plan_fields`` once the
    schema exists. Sub-selections are shared through the entries of ``documents``."""
    plans: dict[tuple[str, str], LeafPlan] = {}

    class LeanExecutionContext(StrawberryGraphQLCoreExecutionContext):
        def execute_field(
            self,
            parent_type: GraphQLObjectType,
            source: Any,
            field_details_list: FieldDetailsList,
            path: Path,
            position_context: Any,
        ) -> Any:
            plan = plans.get((parent_type.name, field_details_list[0].node.name.value))
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
            shared = documents.subfields_of(self.operation)
            if shared is None:
                return super().collect_subfields(return_type, field_details_list)
            key = (return_type.name, *(id(details.node) for details in field_details_list))
            collected = shared.get(key)
            if collected is None:
                collected = shared[key] = super().collect_subfields(return_type, field_details_list)
            return collected

    return LeanExecutionContext, plans


def plan_fields(
    schema: GraphQLSchema, config: StrawberryConfig, plans: dict[tuple[str, str], LeafPlan], *, handlers: bool
) -> None:
    """Plain fields get the lean path above; resolvers with plain arguments are called directly unless
    the schema has exception handlers (``handlers``)."""
    for named in schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        for field_name, field in named.fields.items():
            definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if not isinstance(definition, StrawberryField):
                continue
            if not getattr(field.resolve, "_is_default", False):
                if not handlers and _callable_directly(definition):
                    field.resolve = _direct(definition, config)
                continue
            field.resolve = _attribute(definition.python_name)
            non_null = isinstance(field.type, GraphQLNonNull)
            leaf = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
            if is_leaf_type(leaf) and not field.args:
                plans[(named.name, field_name)] = (definition.python_name, leaf.coerce_output_value, non_null)


def _attribute(name: str) -> Callable[..., Any]:
    def resolve(source: Any, info: Any, **_arguments: Any) -> Any:
        return getattr(source, name)

    resolve._is_default = True  # type: ignore[attr-defined]  # as Strawberry marks its own
    return resolve


_PLAIN_SCALARS = (str, int, float, bool, strawberry.ID)


def _callable_directly(field: StrawberryField) -> bool:
    """A resolver Strawberry would call with its arguments unchanged: no field extensions, and every
    argument a built-in scalar (Strawberry passes those through as graphql-core coerced them; inputs,
    enums, lists and ``Maybe`` it converts). ``plan_fields`` calls nothing directly when the schema has
    exception handlers, which Strawberry's wrapper applies."""
    resolver = field.base_resolver
    if resolver is None or field.extensions:
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
