"""Which fields skip Strawberry's per-call wrapper: only those it would call with arguments unchanged."""

from __future__ import annotations

from graphql import GraphQLObjectType

from gateway.graphql.schema import build_schema
from gateway.settings import Settings


def _direct_fields() -> set[str]:
    schema = build_schema(Settings())._schema
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
