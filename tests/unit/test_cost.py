"""The cost rule (``gateway.graphql.limits``): paged fields found from the schema, priced by the page the
request asks for or one default page; what ``extensions.cost`` reports. Pure functions, no servers."""

from __future__ import annotations

from dataclasses import replace

from graphql import OperationDefinitionNode, build_schema, parse

from gateway.graphql.connections import DEFAULT_PAGE_SIZE
from gateway.graphql.limits import Limits, Spent, Weigher, charge, check_limits, cost_report, paged_fields
from gateway.graphql.schema import build_schema as build_gateway_schema
from gateway.settings import Settings

SCHEMA = build_schema("""
type Query {
  widgets(first: Int, last: Int): WidgetConnection!
  gadgets: [Widget!]!
  widget(id: ID): Widget
}
type WidgetConnection { nodes: [Widget!]! totalCount: Int! }
type Widget { id: ID! name: String parts(first: Int): WidgetConnection! }
""")
LIMITS = Limits(
    max_depth=10, max_aliases=10, max_cost=1000, max_repeated_field=10, max_fragments=10, max_page=100,
    default_page=10, max_entities=50,
)  # fmt: skip


def _cost(query: str, variables: dict[str, object] | None = None) -> int:
    """The operation's cost, with its variables' values when given, else at their maxima."""
    document = parse(query)
    [operation] = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    weight = Weigher(SCHEMA, {}, LIMITS, variables).operation(operation)
    return weight.cost - weight.introspection


def test_every_field_with_first_or_last_is_paged() -> None:
    assert paged_fields(SCHEMA) == {"Query.widgets", "Widget.parts"}


def test_the_gateways_lists_are_all_found_paged() -> None:
    found = paged_fields(build_gateway_schema(Settings())._schema)
    assert {"Query.customers", "CustomerPortal.orders"} <= found


def test_a_paged_field_without_a_page_size_costs_the_default_page() -> None:
    # widgets 1 + 10 items x (nodes 1 + id 1)
    assert _cost("{ widgets { nodes { id } } }") == 1 + 10 * 2
    assert _cost("{ widget { parts { nodes { id } } } }") == 1 + 1 + 10 * 2


def test_a_paged_field_costs_the_page_it_asks_for() -> None:
    assert _cost("{ widgets(first: 3) { nodes { id } } }") == 1 + 3 * 2
    assert _cost("{ widgets(last: 5) { nodes { id name } } }") == 1 + 5 * 3
    assert _cost("{ widgets(first: 5000) { nodes { id } } }") == 1 + 100 * 2  # at most the largest page
    assert _cost("{ widgets(first: 0) { totalCount } }") == 1 + 1 * 1  # every selection costs something


def test_nested_pages_multiply() -> None:
    assert _cost("{ widgets(first: 4) { nodes { parts(first: 5) { nodes { id } } } } }") == 1 + 4 * (1 + 1 + 5 * 2)


def test_a_variable_page_size_is_weighed_at_its_maximum_then_exactly() -> None:
    query = "query($n: Int) { widgets(first: $n) { nodes { id } } }"
    assert _cost(query) == 1 + 100 * 2
    assert _cost(query, {"n": 7}) == 1 + 7 * 2
    assert _cost(query, {"n": None}) == 1 + 10 * 2  # null: the default page
    assert _cost(query, {}) == 1 + 100 * 2  # left out: its default may be anything up to the maximum


def test_a_list_that_is_not_paged_costs_its_fields_once() -> None:
    assert _cost("{ gadgets { id name } }") == 3


def test_every_list_of_the_gateway_costs_one_default_page_without_a_size() -> None:
    """Every connection reads ``DEFAULT_PAGE_SIZE`` items when no size is given, and the cost rule prices
    each so: the customer portal's orders as the customers."""
    schema = build_gateway_schema(Settings())._schema
    limits = Limits.of(Settings(), DEFAULT_PAGE_SIZE, schema)
    for query, above in (("{ customers { nodes { id } } }", 0), ("{ customerPortal { orders { nodes { id } } } }", 1)):
        _, weights = check_limits(schema, parse(query), limits)
        assert weights[None].cost == above + 1 + DEFAULT_PAGE_SIZE * 2, query


def test_charge_reports_the_cost_it_charged_whether_or_not_it_fits() -> None:
    document = parse("query($n: Int) { widgets(first: $n) { nodes { id } } }")
    errors, weights = check_limits(SCHEMA, document, LIMITS)
    assert errors == []
    [operation] = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    spent = Spent()
    assert charge(SCHEMA, document, operation, weights[None], LIMITS, {"n": 20}, spent) == (41, None)
    small = replace(LIMITS, max_cost=40)
    cost, error = charge(SCHEMA, document, operation, weights[None], small, {"n": 20}, Spent())
    assert cost == 41
    assert error is not None
    assert "costs 41" in error.message
    assert spent.cost == 41


def test_the_cost_report_names_the_requested_cost_and_the_limit() -> None:
    assert cost_report(41, LIMITS) == {"requested": 41, "limit": 1000}
