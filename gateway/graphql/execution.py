"""A lean path through graphql-core for plain fields: most of a response is leaf fields read straight from
attributes (a page of 50 customers with state is about 1,500 of them), and graphql-core's general path
builds a resolve-info object, calls a resolver and dispatches on the type for each one.

- Every field without a resolver of its own is read with one ``getattr`` (Strawberry's generic path
  takes three Python calls).
- A plain field of a scalar or enum type is read and coerced directly by the execution context, without
  the resolve info; anything unusual (null in a non-null field, a value that does not coerce) goes the
  general way, which reports it exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLNonNull, GraphQLObjectType, GraphQLSchema, Undefined, is_leaf_type
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

# (parent type name, field name) -> (attribute, coerce to output, non-null)
LeafPlan = tuple[str, Callable[[Any], Any], bool]


def lean_execution_context() -> tuple[type[StrawberryGraphQLCoreExecutionContext], dict[tuple[str, str], LeafPlan]]:
    """An execution context class and its (empty) plans, filled by ``plan_plain_fields`` once the
    schema exists."""
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

    return LeanExecutionContext, plans


def plan_plain_fields(schema: GraphQLSchema, plans: dict[tuple[str, str], LeafPlan]) -> None:
    for named in schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        for field_name, field in named.fields.items():
            definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if definition is None or not getattr(field.resolve, "_is_default", False):
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
