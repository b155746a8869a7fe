"""Parsed and validated documents, cached by their text and bounded in bytes.

One extension for both steps: Strawberry's ParserCache, MaxTokensLimiter, ValidationCache and
AddValidationRules did the same work with twice the per-request hook overhead, bounded their caches by
entries (a cache of a thousand 100 KB documents holds gigabytes), and keyed validation by the parsed
document, whose hash walks the whole syntax tree on every request. Validation depends only on the
document, the schema and the rules, which are fixed for a schema, so the text is a sound key.

- A valid document is kept whole, weighed by its lexical tokens (each token costs up to about 620 bytes
  of syntax tree with its locations, measured with tracemalloc; ``BYTES_PER_TOKEN`` leaves room for the
  sub-selections execution collects per document) and its text (kept in its source and its strings).
- A refused document keeps only its verdict: the error messages with their locations, and a skeleton
  of its operations (name and type, no selections) so that a repeat is answered exactly as the first.
- Sub-selections collected by execution live in the entry of their document, so they go when it goes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    OperationDefinitionNode,
    SelectionSetNode,
    TokenKind,
    parse,
    validate,
)
from graphql.execution.collect_fields import CollectedFields
from graphql.validation import ASTValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from ..observability.metrics import DOCUMENT_CACHE_BYTES, DOCUMENT_CACHE_ENTRIES
from .limits import Limits, OperationWeight, Spent, charge, check_limits

# The operation name the client sent (Strawberry's execution context falls back to the first operation's).
SENT_OPERATION_NAME: ContextVar[str | None] = ContextVar("sent_operation_name", default=None)
BYTES_PER_TOKEN = 1_000
# Strawberry's own rules beside graphql-core's (as its validate_document adds them).
STRAWBERRY_RULES = (MaybeNullValidationRule, OneOfInputValidationRule)
# Each error is located by scanning the source from its start: 100 errors (graphql-core's default) in a
# 100 KB document cost 100 ms. Twenty say enough.
MAX_VALIDATION_ERRORS = 20
MAX_INTEGER_CHARACTERS = 20  # -9223372036854775808
VERDICT_BYTES = 400  # an entry without its document, before the text of its errors
SubfieldKey = tuple[Any, ...]


@dataclass
class Entry:
    document: DocumentNode  # the whole document, or for a refused one its skeleton
    errors: list[GraphQLError]  # empty when the document is valid
    costs: dict[str | None, OperationWeight]
    size: int  # bytes, as weighed
    # Per operation node: (return type, field node ids) -> fields collected under them; None when
    # collections may vary between requests (a directive can depend on variables).
    subfields: dict[int, dict[SubfieldKey, CollectedFields]] | None = field(default=None)


class DocumentCache:
    """Least recently used documents, at most ``max_bytes`` of them as weighed."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._by_operation: dict[int, Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, query: str) -> Entry | None:
        entry = self._entries.get(query)
        if entry is not None:
            self._entries.move_to_end(query)
        return entry

    def put(self, query: str, entry: Entry) -> None:
        if entry.size > self.max_bytes or query in self._entries:
            return
        self._entries[query] = entry
        self.size += entry.size
        if entry.subfields is not None:
            for operation in _operations(entry.document):
                self._by_operation[id(operation)] = entry
        while self.size > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self.size -= evicted.size
            for operation in _operations(evicted.document):
                self._by_operation.pop(id(operation), None)
        DOCUMENT_CACHE_BYTES.set(self.size)
        DOCUMENT_CACHE_ENTRIES.set(len(self._entries))

    def subfields_of(self, operation: OperationDefinitionNode) -> dict[SubfieldKey, CollectedFields] | None:
        """The shared collections of a cached operation; None for one that is not cached or whose
        collections may vary. The entry holds the operation's node, so its id cannot be reused."""
        entry = self._by_operation.get(id(operation))
        if entry is None or entry.subfields is None:
            return None
        return entry.subfields.setdefault(id(operation), {})


def _operations(document: DocumentNode) -> Iterator[OperationDefinitionNode]:
    return (d for d in document.definitions if isinstance(d, OperationDefinitionNode))


def scan_tokens(document: DocumentNode) -> tuple[int, GraphQLError | None]:
    """How many lexical tokens the document has (they stay linked from its locations, so they are
    its weight), and an error for an integer too long to be one this API takes: every integer here fits
    in 64 bits, and Python refuses to convert one of over 4,300 digits at all."""
    count = 0
    token = document.loc.start_token if document.loc is not None else None
    while token is not None:
        count += 1
        if token.kind is TokenKind.INT and token.value is not None and len(token.value) > MAX_INTEGER_CHARACTERS:
            source = document.loc.source if document.loc is not None else None
            message = f"An integer of {len(token.value)} digits is over 64 bits; no argument here takes one."
            return count, GraphQLError(message, source=source, positions=[token.start])
        token = token.next
    return count, None


def _detached(error: GraphQLError) -> GraphQLError:
    """The error as the client sees it, without the syntax tree and source it points into."""
    copy = GraphQLError(error.message, extensions=error.extensions)
    copy.locations = error.locations
    return copy


def _skeleton(document: DocumentNode) -> DocumentNode:
    """The document's operations with their names and types and nothing selected."""
    empty = SelectionSetNode(selections=())
    operations = tuple(
        OperationDefinitionNode(
            operation=o.operation, name=o.name, variable_definitions=(), directives=(), selection_set=empty
        )
        for o in _operations(document)
    )
    return DocumentNode(definitions=operations)


def refused(document: DocumentNode, errors: list[GraphQLError]) -> Entry:
    errors = [_detached(error) for error in errors]
    size = VERDICT_BYTES * (1 + len(document.definitions)) + sum(len(e.message) for e in errors)
    return Entry(_skeleton(document), errors, {}, size)


def _single_operation_error(document: DocumentNode, operation_name: str | None) -> GraphQLError | None:
    if operation_name is None and sum(1 for _ in _operations(document)) > 1:
        return GraphQLError("Must provide operation name if query contains multiple operations.")
    return None


def _chosen(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode | None:
    for operation in _operations(document):
        if operation_name is None or (operation.name is not None and operation.name.value == operation_name):
            return operation
    return None


def cached_documents(
    cache: DocumentCache, max_tokens: int, limits: Limits, rules: Sequence[type[ASTValidationRule]]
) -> Callable[[], SchemaExtension]:
    """Parsing refuses a document of more than ``max_tokens`` lexical tokens while it reads it; the
    limits are checked before Strawberry's validation rules and ``rules``, which only run when they pass."""

    class CachedDocuments(SchemaExtension):
        entry: Entry | None = None

        def on_parse(self) -> Iterator[None]:
            context = self.execution_context
            query = context.query
            if query is not None:
                self.entry = cache.get(query)
                if self.entry is None:
                    context.graphql_document = parse(query, max_tokens=max_tokens)
                else:
                    context.graphql_document = self.entry.document
                    if self.entry.errors:
                        context.pre_execution_errors = self.entry.errors
                if error := _single_operation_error(context.graphql_document, SENT_OPERATION_NAME.get()):
                    context.pre_execution_errors = [error]
            yield

        def on_validate(self) -> Iterator[None]:
            context = self.execution_context
            document = context.graphql_document
            if context.pre_execution_errors is not None or document is None:
                yield
                return
            entry = self.entry or self._validated(context.query, document)
            errors = entry.errors
            operation = _chosen(document, context.operation_name)
            weight = entry.costs.get(operation.name.value if operation and operation.name else None)
            if not errors and operation is not None and weight is not None:
                spent = getattr(context.context, "spent", None)  # the request's (a batch shares it)
                spent = spent if isinstance(spent, Spent) else Spent()
                over = charge(context.schema._schema, document, operation, weight, limits, context.variables, spent)
                errors = [over] if over is not None else errors
            context.pre_execution_errors = errors
            yield

        def _validated(self, query: str | None, document: DocumentNode) -> Entry:
            schema = self.execution_context.schema._schema
            tokens, long_integer = scan_tokens(document)
            errors, costs = check_limits(schema, document, limits) if long_integer is None else ([long_integer], {})
            if not errors:
                all_rules = (*self.execution_context.validation_rules, *STRAWBERRY_RULES, *rules)
                errors = validate(schema, document, all_rules, max_errors=MAX_VALIDATION_ERRORS)
            if errors:
                if query is not None:
                    cache.put(query, refused(document, errors))
                return Entry(document, errors, costs, 0)  # this request answers with the original errors
            subfields: dict[int, dict[SubfieldKey, CollectedFields]] | None = None
            if query is not None and "@" not in query:
                subfields = {}
            entry = Entry(document, [], costs, tokens * BYTES_PER_TOKEN + 2 * len(query or ""), subfields)
            if query is not None:
                cache.put(query, entry)
            return entry

    return CachedDocuments
