"""The weigher visits each selection set of a document once, however often fragments are spread."""

from __future__ import annotations

from graphql import FragmentDefinitionNode, OperationDefinitionNode, SelectionSetNode, parse
from graphql.language import Visitor, visit

from gateway.graphql.customers import DEFAULT_PAGE_SIZE
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
