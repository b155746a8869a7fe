"""The schema, assembled once per process with its parse and validation caches."""

from __future__ import annotations

import strawberry
from strawberry.extensions import ParserCache, ValidationCache

from .customers import CustomerMutations, CustomerQueries

CACHE_SIZE = 1024


@strawberry.type
class Query(CustomerQueries):
    pass


@strawberry.type
class Mutation(CustomerMutations):
    pass


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        # Instances, not classes: one cache for the process, shared by every request.
        extensions=[ParserCache(maxsize=CACHE_SIZE), ValidationCache(maxsize=CACHE_SIZE)],  # type: ignore[list-item]
    )


SCHEMA = build_schema()


def schema_sdl() -> str:
    return SCHEMA.as_str() + "\n"
