"""Which fields skip Strawberry's per-call wrapper: only those it would call with arguments unchanged."""

from __future__ import annotations

import strawberry
from graphql import GraphQLObjectType

from gateway.graphql.execution import LeanPlans, plan_fields
from gateway.graphql.schema import build_schema
from gateway.settings import Settings


def _direct_fields() -> set[str]:
    schema = build_schema(Settings(lean_execution=True))._schema
    found = set()
    for named in schema.type_map.values():
        if isinstance(named, GraphQLObjectType):
            for name, field in named.fields.items():
                if field.resolve is not None and field.resolve.__qualname__.startswith("_direct."):
                    found.add(f"{named.name}.{name}")
    return found


def test_resolvers_with_plain_scalar_arguments_are_called_directly() -> None:
    direct = _direct_fields()
    assert {"Query.customer", "Customer.state", "Mutation.customerDelete"} <= direct


def test_resolvers_whose_arguments_strawberry_converts_keep_its_wrapper() -> None:
    direct = _direct_fields()
    # input objects (filter, input), enums (sortKey) and lists (representations) need Strawberry's conversion
    for field in ("Query.customers", "Mutation.customerCreate", "Mutation.customerUpdate", "Query._entities"):
        assert field not in direct


def test_with_exception_handlers_every_resolver_keeps_strawberrys_wrapper() -> None:
    """Strawberry's wrapper is where a schema's exception handlers run; a direct call would skip them."""

    @strawberry.type
    class Query:
        @strawberry.field
        def echo(self, text: str) -> str:
            return text

    for handlers, expected in ((False, True), (True, False)):
        schema = strawberry.Schema(query=Query)
        schema.exception_handlers = (object(),) if handlers else ()  # type: ignore[assignment]
        plan_fields(schema, LeanPlans(None))
        field = schema._schema.query_type.fields["echo"]  # type: ignore[union-attr]
        assert field.resolve is not None
        assert field.resolve.__qualname__.startswith("_direct.") is expected
        assert schema.execute_sync('{ echo(text: "hi") }').data == {"echo": "hi"}
