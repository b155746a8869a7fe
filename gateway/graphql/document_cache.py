"""Parsing and validation, each cached by the query's text, with the query limits applied.

One extension per step, not four: Strawberry's ParserCache and MaxTokensLimiter, ValidationCache and
AddValidationRules did the same work with twice the per-request hook overhead, and Strawberry's
ValidationCache keys its cache by the parsed document, whose hash walks the whole syntax tree on every
request. A string's hash is computed once and kept by Python; validation depends only on the document,
the schema and the rules, which are fixed for a schema, so the text is a sound key.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence

from graphql import DocumentNode, GraphQLError, parse
from graphql.validation import ASTValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

MAXSIZE = 1024


@functools.lru_cache(maxsize=MAXSIZE)
def _parse(query: str, max_tokens: int) -> DocumentNode:
    return parse(query, max_tokens=max_tokens)


def cached_parsing(max_tokens: int) -> Callable[[], SchemaExtension]:
    """Parsing refuses a document of more than ``max_tokens`` lexical tokens while it reads it."""

    class CachedParsing(SchemaExtension):
        def on_parse(self) -> Iterator[None]:
            context = self.execution_context
            if context.query is not None:
                context.graphql_document = _parse(context.query, max_tokens)
            yield

    return CachedParsing


def cached_validation(rules: Sequence[type[ASTValidationRule]]) -> Callable[[], SchemaExtension]:
    """Strawberry's own rules plus ``rules`` (the query limits)."""
    results: OrderedDict[str, list[GraphQLError]] = OrderedDict()

    class CachedValidation(SchemaExtension):
        def on_validate(self) -> Iterator[None]:
            context = self.execution_context
            query = context.query
            errors = results.get(query) if query is not None else None
            if errors is None:
                assert context.graphql_document is not None  # validation runs only after a parse
                all_rules = (*context.validation_rules, *rules)
                errors = validate_document(context.schema._schema, context.graphql_document, all_rules)
                if query is not None:
                    results[query] = errors
                    if len(results) > MAXSIZE:
                        results.popitem(last=False)
            elif query is not None:
                results.move_to_end(query)
            context.pre_execution_errors = errors
            yield

    return CachedValidation
