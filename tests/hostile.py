"""Hostile GraphQL documents of about 2 KB, one generator per shape that has made GraphQL servers slow:
each takes a variant number, so that every document sent is new to the gateway's caches."""

from __future__ import annotations

from collections.abc import Callable

SIZE = 2_000


def _fill(unit: Callable[[int], str], wrap: Callable[[str], str], size: int = SIZE) -> str:
    """As many units as fit in ``size`` characters once wrapped."""
    parts: list[str] = []
    while len(wrap(" ".join([*parts, unit(len(parts))]))) <= size:
        parts.append(unit(len(parts)))
    return wrap(" ".join(parts))


def doubling_fragments(variant: int) -> str:
    """Each fragment spreads the next one twice: 2^levels fields once expanded."""
    levels = 0
    while True:
        document = _doubling(levels + 1, variant)
        if len(document) > SIZE:
            return _doubling(levels, variant)
        levels += 1


def _doubling(levels: int, variant: int) -> str:
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels))
    return f"query Q{variant} {{ ...F0 }} {chain} fragment F{levels} on Query {{ __typename }}"


def conflicting_fields(variant: int) -> str:
    """One response key selected again and again with different arguments: pairwise merge checks."""
    return _fill(lambda n: f'customer(id: "{variant}-{n}") {{ id }}', lambda body: f"{{ {body} }}")


def conflicts_in_fragments(variant: int) -> str:
    """The same, each selection in a fragment of its own, all spread into one selection set."""
    return _fill(
        lambda n: f'fragment C{n} on Query {{ customer(id: "{variant}-{n}") {{ id }} }}',
        lambda body: "{ " + " ".join(f"...C{n}" for n in range(body.count("fragment "))) + " } " + body,
    )


def merged_subselections(variant: int) -> str:
    """One response key with the same arguments, as often as allowed: the sub-selections of the merged
    fields are compared pairwise."""
    state = "state { activeMeters { id meterId } grantedBenefits { id } }"
    return "{ " + " ".join(f'customer(id: "{variant}") {{ id email name {state} }}' for _ in range(29)) + " }"


def unknown_fields(variant: int) -> str:
    """Misspelt fields: each error computes "Did you mean" suggestions."""
    return _fill(lambda n: f"custmer{variant}x{n}", lambda body: f"{{ {body} }}")


def repeated_directives(variant: int) -> str:
    return _fill(lambda n: "@skip(if: false)", lambda body: f"query Q{variant} {{ __typename {body} }}")


def unused_variables(variant: int) -> str:
    return _fill(lambda n: f"$v{n}: Int", lambda body: f"query Q{variant}({body}) {{ __typename }}")


def many_operations(variant: int) -> str:
    return _fill(lambda n: f"query Q{variant}x{n} {{ __typename }}", lambda body: body)


def nested_lists(variant: int) -> str:
    depth = (SIZE - 60) // 2
    return f"{{ customers(first: {'[' * depth}{variant}{']' * depth}) {{ totalCount }} }}"


def long_list(variant: int) -> str:
    return _fill(lambda n: str(n + variant), lambda body: f"{{ customers(first: [{body}]) {{ totalCount }} }}")


def nested_introspection(variant: int) -> str:
    """Types, their fields, those fields' types and their fields, and so on: the answer multiplies."""
    inner = "name"
    for _ in range(4):
        inner = f"fields {{ name type {{ name {inner} }} }}"
    return f"query Q{variant} {{ __schema {{ types {{ {inner} }} }} }}"


def many_aliases(variant: int) -> str:
    return _fill(lambda n: f'a{variant}x{n}: customer(id: "{n}") {{ id }}', lambda body: f"{{ {body} }}")


def deep_unknown_fields(variant: int) -> str:
    depth = (SIZE - 20) // 5
    return "{ " + f"a{variant} {{ " * depth + "b" + " }" * depth + " }"


def fragment_cycle(variant: int) -> str:
    return _fill(
        lambda n: f"fragment R{n} on Query {{ ...R{n + 1} __typename }}",
        lambda body: f"query Q{variant} {{ ...R0 }} {body} fragment R{body.count('fragment ')} on Query {{ ...R0 }}",
    )


def benign(variant: int) -> str:
    """A query an app might send, of the same size: aliased pages of customers."""
    return _fill(
        lambda n: f"p{variant}x{n}: customers(first: 5) {{ totalCount nodes {{ id email name }} }}",
        lambda body: f"query Page{variant} {{ {body} }}",
    )


SHAPES: dict[str, Callable[[int], str]] = {
    "doubling_fragments": doubling_fragments,
    "conflicting_fields": conflicting_fields,
    "conflicts_in_fragments": conflicts_in_fragments,
    "merged_subselections": merged_subselections,
    "unknown_fields": unknown_fields,
    "repeated_directives": repeated_directives,
    "unused_variables": unused_variables,
    "many_operations": many_operations,
    "nested_lists": nested_lists,
    "long_list": long_list,
    "nested_introspection": nested_introspection,
    "many_aliases": many_aliases,
    "deep_unknown_fields": deep_unknown_fields,
    "fragment_cycle": fragment_cycle,
}
