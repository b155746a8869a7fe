"""Cheap refusals of abusive queries, before any resolver runs: depth, aliases, tokens, cost.

The validation rules are built once per schema and run by the cached validation (``document_cache``),
so its cache keeps its hits; the token limit is applied by the cached parse.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    VariableNode,
)
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule

from ..settings import Settings

PAGE_ARGUMENTS = ("first", "last")


def create_cost_rule(max_cost: int, default_page: int, max_page: int) -> type[ValidationRule]:
    """Every field costs 1; the selections under a paged field cost as many times as it may return
    items (``first``/``last``, the page maximum when given as a variable)."""

    class CostRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            cost = self._cost(node.selection_set, frozenset())
            if cost > max_cost:
                name = node.name.value if node.name else "anonymous"
                self.report_error(GraphQLError(
                    f"Operation '{name}' costs {cost}, over the limit of {max_cost} (setting max_cost); "
                    "ask for fewer items per page or fewer nested fields.", node))  # fmt: skip

        def _cost(self, selections: SelectionSetNode | None, fragments: frozenset[str]) -> int:
            if selections is None:
                return 0
            total = 0
            for selection in selections.selections:
                if isinstance(selection, FieldNode):
                    total += 1 + self._page(selection) * self._cost(selection.selection_set, fragments)
                elif isinstance(selection, InlineFragmentNode):
                    total += self._cost(selection.selection_set, fragments)
                elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in fragments:
                    fragment = self.context.get_fragment(selection.name.value)
                    if fragment is not None:
                        total += self._cost(fragment.selection_set, fragments | {selection.name.value})
            return total

        @staticmethod
        def _page(field: FieldNode) -> int:
            for argument in field.arguments or ():
                if argument.name.value in PAGE_ARGUMENTS:
                    if isinstance(argument.value, IntValueNode):
                        return max(1, min(int(argument.value.value), max_page))
                    if isinstance(argument.value, VariableNode):
                        return max_page
            return default_page if field.name.value == "customers" else 1

    return CostRule


def limit_rules(settings: Settings, default_page: int) -> list[type[ASTValidationRule]]:
    """The validation rules of the limits, built once per schema (the token limit applies while parsing)."""
    rules: list[type[ASTValidationRule]] = [
        depth_rule(settings.max_depth, None),
        aliases_rule(settings.max_aliases),
        create_cost_rule(settings.max_cost, default_page, settings.max_page_size),
    ]
    if not settings.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return rules
