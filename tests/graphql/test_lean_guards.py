"""The lean engine's shortcuts skip nothing Strawberry would run: permission classes, field extensions and
schema extensions that hook ``resolve`` give the same answers on the lean path as on the stock one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLObjectType
from strawberry.extensions import FieldExtension, SchemaExtension
from strawberry.permission import BasePermission
from strawberry.types import ExecutionResult

from gateway.graphql.execution import LeanExecutionContext, LeanPlans, plan_fields, plans_of
from gateway.graphql.schema import build_schema
from gateway.settings import Settings


class Deny(BasePermission):
    message = "denied by the probe"

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        return False


class Upper(FieldExtension):
    def resolve(self, next_: Callable[..., Any], source: Any, info: strawberry.Info, **kwargs: Any) -> Any:
        return str(next_(source, info, **kwargs)).upper()


class Redact(SchemaExtension):
    """Hooks ``resolve``: every ``plain`` field reads as redacted."""

    def resolve(self, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        value = _next(root, info, *args, **kwargs)
        return "redacted" if info.field_name == "plain" else value


DENY: list[type[BasePermission]] = [Deny]


def _upper() -> list[FieldExtension]:
    return [Upper()]


@strawberry.type
class Secret:
    plain: str
    hidden: str | None = strawberry.field(permission_classes=DENY)
    shout: str = strawberry.field(extensions=_upper())


def _secret() -> Secret:
    return Secret(plain="plain value", hidden="the secret", shout="quiet")


def _guarded(id: strawberry.ID) -> str | None:
    return f"leaked {id}"


def _echo(text: str) -> str:
    return text


@strawberry.type
class Query:
    secret: Secret = strawberry.field(resolver=_secret)
    guarded: str | None = strawberry.field(resolver=_guarded, permission_classes=DENY)
    echo: str = strawberry.field(resolver=_echo, extensions=_upper())


DOCUMENT = '{ secret { plain hidden shout } guarded(id: "1") echo(text: "hi") }'


def _schema(lean: bool, extensions: list[type[SchemaExtension]]) -> strawberry.Schema:
    schema = strawberry.Schema(
        query=Query, extensions=extensions, execution_context_class=LeanExecutionContext if lean else None
    )
    if lean:
        schema.lean_plans = LeanPlans(None)  # type: ignore[attr-defined]
        plan_fields(schema, schema.lean_plans)  # type: ignore[attr-defined]
    return schema


def _answer(schema: strawberry.Schema) -> tuple[object, list[tuple[str, object]]]:
    result = asyncio.run(schema.execute(DOCUMENT))
    assert isinstance(result, ExecutionResult)
    return result.data, sorted((error.message, error.path) for error in result.errors or [])


def test_permission_classes_and_field_extensions_hold_on_the_lean_path() -> None:
    lean, stock = _schema(True, []), _schema(False, [])
    data, errors = _answer(lean)
    assert data == {"secret": {"plain": "plain value", "hidden": None, "shout": "QUIET"}, "guarded": None, "echo": "HI"}
    assert errors == [("denied by the probe", ["guarded"]), ("denied by the probe", ["secret", "hidden"])]
    assert (data, errors) == _answer(stock)


def test_only_fields_strawberry_calls_basic_take_the_shortcuts() -> None:
    schema = _schema(True, [])
    leaves = schema.lean_plans.leaves  # type: ignore[attr-defined]
    assert ("Secret", "plain") in leaves
    assert ("Secret", "hidden") not in leaves
    assert ("Secret", "shout") not in leaves
    query_type = schema._schema.query_type
    assert query_type is not None
    query_fields = query_type.fields
    for name in ("guarded", "echo"):  # a resolver with plain arguments, but permission classes or extensions
        resolve = query_fields[name].resolve
        assert resolve is not None
        assert not resolve.__qualname__.startswith("_direct.")


def test_a_schema_extension_hooking_resolve_turns_the_shortcuts_off() -> None:
    lean = _schema(True, [Redact])
    assert lean.lean_plans.leaves == {}  # type: ignore[attr-defined]
    data, errors = _answer(lean)
    assert data["secret"]["plain"] == "redacted"  # type: ignore[index]
    assert (data, errors) == _answer(_schema(False, [Redact]))


def test_a_resolve_hook_added_after_planning_still_runs() -> None:
    """Extensions may be set after the schema is planned: a request whose executor has middleware takes
    the general path for every field."""
    lean = _schema(True, [])
    assert lean.lean_plans.leaves  # type: ignore[attr-defined]
    lean.extensions = (Redact,)
    data, _ = _answer(lean)
    assert data["secret"]["plain"] == "redacted"  # type: ignore[index]


def test_each_schema_keeps_its_own_plans_and_sub_selections() -> None:
    """Nothing of the engine is kept at module level: two schemas in one process share no plans or caches,
    and a schema built with the engine off has neither."""
    first, second = build_schema(Settings(lean_execution=True)), build_schema(Settings(lean_execution=True))
    assert first.lean_plans is not None
    assert second.lean_plans is not None
    assert plans_of(first._schema) is first.lean_plans
    assert plans_of(second._schema) is second.lean_plans
    assert first.lean_plans is not second.lean_plans
    assert first.lean_plans.documents is first.documents
    assert second.lean_plans.documents is second.documents
    stock = build_schema(Settings(lean_execution=False))
    assert stock.lean_plans is None
    assert plans_of(stock._schema) is None
    assert stock.execution_context_class is not LeanExecutionContext


def test_with_the_engine_off_every_resolver_is_strawberrys() -> None:
    def replaced(settings: Settings) -> set[str]:
        schema = build_schema(settings)._schema
        return {
            f"{named.name}.{name}"
            for named in schema.type_map.values()
            if isinstance(named, GraphQLObjectType)
            for name, field in named.fields.items()
            if field.resolve is not None and field.resolve.__module__ == "gateway.graphql.execution"
        }

    assert len(replaced(Settings(lean_execution=True))) > 100  # plain fields read by attribute, resolvers called directly
    assert replaced(Settings(lean_execution=False)) == set()
