"""The federation version the schema links (setting ``federation_version``) has every directive it imports;
the default is the lowest that has them, so that every router composes it (Hive Gateway's composer stops at
v2.9). No servers: the schema is built in-process, as ``_service { sdl }`` prints it."""

from __future__ import annotations

import functools
import inspect
from typing import get_args

import pytest
import strawberry.federation.schema_directives as federation_directives
from graphql import ConstDirectiveNode, ListValueNode, ObjectValueNode, StringValueNode, parse, visit
from graphql.language import Visitor
from strawberry.printer import print_schema

from gateway.graphql.schema import build_schema
from gateway.settings import FederationVersion, Settings

Version = tuple[int, int]

# The first federation version of each directive (https://specs.apollo.dev/federation/).
FIRST_VERSION: dict[str, Version] = {
    **dict.fromkeys(
        ("key", "shareable", "external", "requires", "provides", "override", "inaccessible", "tag", "extends"), (2, 0)
    ),
    "composeDirective": (2, 1),
    "interfaceObject": (2, 3),
    "authenticated": (2, 5),
    "requiresScopes": (2, 5),
    "policy": (2, 6),
    "context": (2, 8),
    "fromContext": (2, 8),
    "cost": (2, 9),
    "listSize": (2, 9),
}
FEDERATION_URL = "https://specs.apollo.dev/federation/v"


def version_of(text: str) -> Version:
    major, minor = text.split(".")
    return int(major), int(minor)


@functools.cache
def served_sdl(version: str | None = None) -> str:
    """``_service { sdl }`` of the schema built with ``federation_version`` (None: the default)."""
    settings = Settings() if version is None else Settings(federation_version=version)  # type: ignore[arg-type]
    return print_schema(build_schema(settings))


def federation_link(sdl: str) -> tuple[Version, dict[str, str]]:
    """The linked federation version, and what the link imports: ``{name in the spec: name in the schema}``."""
    document = parse(sdl)
    links = [
        directive
        for definition in document.definitions
        if definition.kind == "schema_definition"
        for directive in definition.directives or ()  # type: ignore[attr-defined]
        if directive.name.value == "link"
    ]
    found: list[tuple[Version, dict[str, str]]] = []
    for link in links:
        arguments = {argument.name.value: argument.value for argument in link.arguments or ()}
        url = arguments["url"]
        assert isinstance(url, StringValueNode)
        if not url.value.startswith(FEDERATION_URL):
            continue
        imports: dict[str, str] = {}
        listed = arguments.get("import")
        assert listed is None or isinstance(listed, ListValueNode)
        for item in listed.values if listed else ():
            if isinstance(item, StringValueNode):
                imports[item.value.lstrip("@")] = item.value.lstrip("@")
            else:
                assert isinstance(item, ObjectValueNode)
                fields = {field.name.value: field.value for field in item.fields}
                name, alias = fields["name"], fields.get("as", fields["name"])
                assert isinstance(name, StringValueNode)
                assert isinstance(alias, StringValueNode)
                imports[name.value.lstrip("@")] = alias.value.lstrip("@")
        found.append((version_of(url.value.removeprefix(FEDERATION_URL)), imports))
    assert len(found) == 1, f"one federation @link expected, found {len(found)}"
    return found[0]


def directives_used(sdl: str) -> set[str]:
    """Every directive applied anywhere in the SDL, but @link itself."""
    used: set[str] = set()

    class Collect(Visitor):
        def enter_const_directive(self, node: ConstDirectiveNode, *_: object) -> None:
            used.add(node.name.value)

        enter_directive = enter_const_directive

    visit(parse(sdl), Collect())
    return used - {"link"}


def test_the_default_links_the_lowest_version_with_every_imported_directive() -> None:
    linked, imports = federation_link(served_sdl())
    assert linked == version_of(Settings().federation_version) == (2, 0)
    assert imports, "the schema imports @key at least"
    unknown = set(imports) - set(FIRST_VERSION)
    assert not unknown, f"directives missing from FIRST_VERSION: {unknown}"
    assert linked == max(FIRST_VERSION[name] for name in imports)


@pytest.mark.parametrize("version", get_args(FederationVersion))
def test_every_imported_directive_exists_in_the_configured_version(version: str) -> None:
    linked, imports = federation_link(served_sdl(version))
    assert linked == version_of(version)
    too_new = {name: FIRST_VERSION[name] for name in imports if FIRST_VERSION[name] > linked}
    assert not too_new, f"federation v{version} lacks {too_new}"


def test_every_federation_directive_the_schema_applies_is_imported() -> None:
    _linked, imports = federation_link(served_sdl())
    applied = directives_used(served_sdl())
    assert "key" in applied
    federation = {name for name in FIRST_VERSION if name in applied or name in imports.values()}
    assert federation <= set(imports.values()), f"applied but not imported: {federation - set(imports.values())}"
    # Nothing else but GraphQL's own directives.
    assert applied - set(imports.values()) <= {"deprecated", "specifiedBy", "oneOf"}


def test_strawberry_agrees_with_the_table() -> None:
    """Strawberry refuses a directive newer than the linked version by its own table: the same one."""
    minimums = {
        directive.imported_from.name: directive.minimum_version
        for _name, directive in inspect.getmembers(federation_directives, inspect.isclass)
        if issubclass(directive, federation_directives.FederationDirective)
        and directive is not federation_directives.FederationDirective
        and hasattr(directive, "minimum_version")
    }
    assert minimums
    for name, minimum in minimums.items():
        assert FIRST_VERSION.get(name) == minimum, name
