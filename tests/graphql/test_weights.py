"""The weigher visits each selection set of a document once, however often fragments are spread."""

from __future__ import annotations

from graphql import FragmentDefinitionNode, OperationDefinitionNode, SelectionSetNode, parse
from graphql.language import Visitor, visit

from gateway.graphql.connections import DEFAULT_PAGE_SIZE
from gateway.graphql.limits import Limits, Weigher, check_limits
from gateway.graphql.schema import build_schema
from gateway.settings import Settings
from tests.hostile import doubling_fragments

SCHEMA = build_schema(Settings())._schema
LIMITS = Limits.of(Settings(), DEFAULT_PAGE_SIZE, SCHEMA)


class CountingWeigher(Weigher):
    visits = 0

    def _merged(self, selections: SelectionSetNode, parent: object) -> object:  # type: ignore[override]
        self.visits += 1
        return super()._merged(selections, parent)  # type: ignore[arg-type]


def _selection_sets(document: object) -> int:
    class Count(Visitor):
        found = 0

        def enter_selection_set(self, *_: object) -> None:
            self.found += 1

    counter = Count()
    visit(document, counter)  # type: ignore[arg-type]
    return counter.found


def test_each_fragment_is_weighed_once() -> None:
    document = parse(doubling_fragments(1))
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    weigher = CountingWeigher(SCHEMA, fragments, LIMITS)
    [operation] = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    weight = weigher.operation(operation)
    assert weight.fields == 2 ** (len(fragments) - 1)  # the last fragment's one field, doubled by each other
    assert weigher.visits == _selection_sets(document)


def test_page_sizes_and_representations_multiply_the_cost() -> None:
    document = parse(
        'query($r: [_Any!]!) { customers(first: 50) { nodes { id email } } '
        "_entities(representations: $r) { ... on Customer { id email } } }"
    )
    errors, costs = check_limits(SCHEMA, document, LIMITS)
    assert errors == []
    # customers: 1 + 50 * (nodes 1 + id 1 + email 1); _entities at the most representations: 1 + 250 * 2
    assert costs[None].cost == (1 + 50 * 3) + (1 + LIMITS.max_entities * 2)
    assert costs[None].by_variables
    [operation] = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    exact = Weigher(SCHEMA, {}, LIMITS, {"r": [{}] * 3}).operation(operation)
    assert exact.cost == (1 + 50 * 3) + (1 + 3 * 2)


def test_a_float_page_size_counts_as_the_int_graphql_core_makes_it() -> None:
    """``first: $n`` with ``{"n": 100.0}`` ran at 100 while it was weighed as the default page of 10."""
    document = parse("query($n: Int) { customers(first: $n) { nodes { id email } } }")
    [operation] = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    exact = Weigher(SCHEMA, {}, LIMITS, {"n": 100.0}).operation(operation)
    assert exact.cost == 1 + 100 * 3
    assert Weigher(SCHEMA, {}, LIMITS, {"n": "many"}).operation(operation).cost == 1 + LIMITS.max_page * 3


def test_spreads_of_one_fragment_are_merged_once_and_counted_each_time() -> None:
    """500 spreads of a fragment of 833 aliases merged its keys 500 times over; now once, times 500."""
    aliases = " ".join(f"a{n}: __typename" for n in range(800))
    document = parse("{ " + "...F " * 500 + "} fragment F on Query { " + aliases + " }")
    errors, _ = check_limits(SCHEMA, document, LIMITS)
    assert any("has 400000 aliases" in error.message for error in errors)


def test_a_document_of_too_many_fragments_is_refused_first() -> None:
    """graphql-core compares the fragments spread in a selection set pairwise: 500 took 567 ms."""
    fragments = " ".join(f"fragment C{n} on Customer {{ id }}" for n in range(101))
    spreads = " ".join(f"...C{n}" for n in range(101))
    errors, costs = check_limits(SCHEMA, parse(f"{{ customers {{ nodes {{ {spreads} }} }} }} {fragments}"), LIMITS)
    assert [error.message for error in errors] == [
        "The document defines 101 fragments, over the limit of 100 (setting max_fragments)."
    ]
    assert costs == {}
