"""Documents for the differential test of the two execution modes (``test_lean_differential.py``): README's
examples split into operations, and selections of every field of a type, built from the schema so that a
new field is covered without editing a list."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_leaf_type,
)

README = Path(__file__).parents[2] / "README.md"
PAGE = "first: 3"  # every paged field, unless ``arguments`` says otherwise


def readme_operations(text: str | None = None) -> list[str]:
    """Each operation of each ```graphql block of README.md, comments removed."""
    text = README.read_text() if text is None else text
    operations: list[str] = []
    for block in re.findall(r"```graphql\n(.*?)```", text, flags=re.DOTALL):
        source = "\n".join(line.split("#", 1)[0] for line in block.splitlines())
        operations.extend(_top_level(source))
    return operations


def _top_level(source: str) -> Iterator[str]:
    """The text of each top-level ``{ ... }``, with the words before it (``mutation``, a name)."""
    depth, start, in_string = 0, 0, False
    for position, character in enumerate(source):
        if character == '"':
            in_string = not in_string
        if in_string:
            continue
        if character == "{":
            depth += 1
        elif character == "}":
            depth -= 1
            if depth == 0:
                yield source[start : position + 1].strip()
                start = position + 1


def every_field(
    schema: GraphQLSchema, named: GraphQLNamedType, arguments: Mapping[str, str], depth: int = 5
) -> str:
    """A selection of every field of ``named`` and below, ``depth`` levels down, each type once per path.
    ``arguments`` gives the arguments of ``Type.field`` (paged fields default to ``PAGE``); a field with
    required arguments and no entry is left out."""
    return _selection(schema, named, arguments, depth, frozenset())


def _selection(
    schema: GraphQLSchema,
    named: GraphQLNamedType,
    arguments: Mapping[str, str],
    depth: int,
    seen: frozenset[str],
) -> str:
    if isinstance(named, GraphQLUnionType | GraphQLInterfaceType):
        parts = [] if isinstance(named, GraphQLUnionType) else [_fields(schema, named, arguments, depth, seen)]
        for possible in schema.get_possible_types(named):
            parts.append(f"... on {possible.name} {{ {_selection(schema, possible, arguments, depth, seen)} }}")
        return " ".join(["__typename", *parts])
    assert isinstance(named, GraphQLObjectType)
    return _fields(schema, named, arguments, depth, seen)


def _fields(
    schema: GraphQLSchema,
    named: GraphQLObjectType | GraphQLInterfaceType,
    arguments: Mapping[str, str],
    depth: int,
    seen: frozenset[str],
) -> str:
    selected = ["__typename"]
    for name, field in named.fields.items():
        given = arguments.get(f"{named.name}.{name}")
        if given is None and ("first" in field.args or "last" in field.args):
            given = PAGE
        required = any(isinstance(a.type, GraphQLNonNull) and a.default_value is None for a in field.args.values())
        if given is None and required:
            continue
        call = f"{name}({given})" if given else name
        child = get_named_type(field.type)
        if is_leaf_type(child):
            selected.append(call)
        elif depth > 0 and child.name not in seen:
            below = _selection(schema, child, arguments, depth - 1, seen | {named.name})
            selected.append(f"{call} {{ {below} }}")
    return " ".join(selected)


def sample_value(kind: GraphQLInputType, samples: Mapping[str, str]) -> str:
    """A GraphQL literal for an input type: ``samples`` by named type, the first value of an enum, and
    every field of an input object."""
    if isinstance(kind, GraphQLNonNull):
        return sample_value(kind.of_type, samples)
    if isinstance(kind, GraphQLList):
        return f"[{sample_value(kind.of_type, samples)}]"
    if kind.name in samples:
        return samples[kind.name]
    if isinstance(kind, GraphQLEnumType):
        return str(next(iter(kind.values)))
    if isinstance(kind, GraphQLInputObjectType):
        inner = ", ".join(f"{name}: {sample_value(f.type, samples)}" for name, f in kind.fields.items())
        return f"{{ {inner} }}"
    raise ValueError(f"no sample for {kind.name}")
