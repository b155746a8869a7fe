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
- Sub-selections collected by the lean engine (``execution.py``, with ``lean_execution``) live in the entry
  of their document, so they go when it goes.
- Documents not seen lately come out of a budget of bytes and CPU (``DocumentCache.admit``, ``spend``),
  and those over 1 KB are parsed and validated on a worker thread, off the event loop.
- Answers of introspection-only operations are kept (a few), the same for every caller.
- Each operation's cost, as charged, is reported in its response's ``extensions.cost``.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    NameNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    TokenKind,
    parse,
    validate,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.execution.collect_fields import CollectedFields
from graphql.validation import ASTValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from ..observability.metrics import DOCUMENT_CACHE_BYTES, DOCUMENT_CACHE_ENTRIES
from .limits import Limits, OperationWeight, Spent, charge, check_limits, cost_report

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


class ByteBudget:
    """A token bucket of bytes: ``per_s`` a second, up to ``burst`` saved."""

    def __init__(self, per_s: float, burst: float) -> None:
        self.per_s = per_s
        self.burst = burst
        self.level = burst
        self.updated = time.monotonic()

    def take(self, size: int) -> bool:
        self._refill()
        if size > self.level:
            return False
        self.level -= size
        return True

    def spend(self, size: int) -> None:
        """Takes ``size`` whatever is left (the level may go below zero): work found out after admission."""
        self._refill()
        self.level -= size

    def _refill(self) -> None:
        now = time.monotonic()
        self.level = min(self.burst, self.level + (now - self.updated) * self.per_s)
        self.updated = now


class DocumentCache:
    """Least recently used documents, at most ``max_bytes`` of them as weighed; and a budget of the bytes
    of documents it has not seen that requests may bring in (``admit``)."""

    def __init__(self, max_bytes: int, new_bytes: ByteBudget | None = None, *, keep_subfields: bool = True) -> None:
        self.max_bytes = max_bytes
        self.new_bytes = new_bytes
        self.keep_subfields = keep_subfields  # for the lean engine's sub-selections (``execution.py``)
        self.size = 0
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._by_operation: dict[int, Entry] = {}
        self._seen: OrderedDict[bytes, None] = OrderedDict()  # digests of documents admitted lately
        # Answers of operations that select introspection only, which are the same for every caller:
        # GraphiQL and code generators send the same introspection again and again (25 ms of CPU each).
        self.introspection_answers: OrderedDict[tuple[str, str | None, bytes], dict[str, Any]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def admit(self, query: str) -> bool:
        """Whether a request may bring this document: one seen lately (cached, or evicted but among the last
        ``SEEN_REMEMBERED``), always; a new one, while the budget lasts. Floods of distinct documents then
        cost a bounded share of the process, and an app's documents are never refused."""
        if query in self._entries or self.new_bytes is None:
            return True
        digest = hashlib.blake2b(query.encode(), digest_size=16).digest()
        if digest in self._seen:
            self._seen.move_to_end(digest)
            return True
        if not self.new_bytes.take(len(query)):
            return False
        self._seen[digest] = None
        if len(self._seen) > SEEN_REMEMBERED:
            self._seen.popitem(last=False)
        return True

    def spend(self, cpu_s: float) -> None:
        """Charges work found out after admission: CPU beyond what the document's size paid for."""
        if self.new_bytes is not None:
            self.new_bytes.spend(int(cpu_s * BYTES_PER_CPU_SECOND))

    def introspection_answer(self, key: tuple[str, str | None, bytes]) -> dict[str, Any] | None:
        answer = self.introspection_answers.get(key)
        if answer is not None:
            self.introspection_answers.move_to_end(key)
        return answer

    def keep_introspection_answer(self, key: tuple[str, str | None, bytes], data: dict[str, Any]) -> None:
        self.introspection_answers[key] = data
        if len(self.introspection_answers) > MAX_INTROSPECTION_ANSWERS:
            self.introspection_answers.popitem(last=False)

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
    """How many lexical tokens the document has, and an error for an integer too long to be one this API
    takes (every integer here fits in 64 bits, and Python refuses to convert one of over 4,300 digits).

    The tokens are unlinked as they are counted: nothing reads the chain once the document is parsed, yet it
    kept every token alive from any node's location (refused documents kept all of theirs through their
    operation names), and a chain of links is garbage only the cycle collector can free."""
    count = 0
    too_long: GraphQLError | None = None
    token = document.loc.start_token if document.loc is not None else None
    while token is not None:
        count += 1
        if too_long is None and token.kind is TokenKind.INT and len(token.value or "") > MAX_INTEGER_CHARACTERS:
            source = document.loc.source if document.loc is not None else None
            message = f"An integer of {len(token.value or '')} digits is over 64 bits; no argument here takes one."
            too_long = GraphQLError(message, source=source, positions=[token.start])
        following = token.next
        token.prev = token.next = None
        token = following
    return count, too_long


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
            operation=o.operation, name=NameNode(value=o.name.value) if o.name else None,  # no location kept
            variable_definitions=(), directives=(), selection_set=empty,
        )
        for o in _operations(document)
    )
    return DocumentNode(definitions=operations)


def refused(query: str, document: DocumentNode, errors: list[GraphQLError]) -> Entry:
    """The verdict on a refused document, weighed with its text, which is the cache's key."""
    errors = [_detached(error) for error in errors]
    size = VERDICT_BYTES * (1 + len(document.definitions)) + sum(len(e.message) for e in errors) + len(query)
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


# A new document longer than this is parsed and validated on a worker thread: the 150 ms a 100 KB one takes
# would otherwise stall every request on the event loop (the thread yields the interpreter every 5 ms).
OFF_LOOP_CHARACTERS = 1_024
SWITCH_INTERVAL_S = 0.0005
SEEN_REMEMBERED = 20_000  # digests of admitted documents (16 bytes each, about 2 MB with the table)
# The budget of new documents is in bytes because a document's size is known before it is parsed; what it
# really costs is CPU, about 1 ms per KB for ordinary documents but up to 25 for some shapes, so the CPU its
# parsing and validation took, beyond that rate, is charged after.
BYTES_PER_CPU_SECOND = 1_000_000
MAX_INTROSPECTION_ANSWERS = 8  # about 100 KB of JSON each for this schema
T = TypeVar("T")


def judge(
    schema: GraphQLSchema, document: DocumentNode, limits: Limits, rules: Sequence[type[ASTValidationRule]]
) -> tuple[int, list[GraphQLError], dict[str | None, OperationWeight]]:
    """A new document's tokens, errors and operation weights: the limits first, graphql-core's rules only
    when they pass. Reads nothing but its arguments, so it may run on a worker thread."""
    tokens, long_integer = scan_tokens(document)
    if long_integer is not None:
        return tokens, [long_integer], {}
    errors, costs = check_limits(schema, document, limits)
    if not errors:
        errors = validate(schema, document, rules, max_errors=MAX_VALIDATION_ERRORS)
    return tokens, errors, costs


def _introspection_key(
    query: str | None, document: DocumentNode | None, operation_name: str | None, variables: Any
) -> tuple[str, str | None, bytes] | None:
    """The answer cache's key for an operation whose every root field is introspection; else None."""
    if query is None or document is None:
        return None
    operation = _chosen(document, operation_name)
    if operation is None or operation.operation is not OperationType.QUERY:
        return None
    roots = operation.selection_set.selections
    if not roots or not all(isinstance(s, FieldNode) and s.name.value.startswith("__") for s in roots):
        return None
    declared = {definition.variable.name.value for definition in operation.variable_definitions or ()}
    used = {name: value for name, value in (variables or {}).items() if name in declared}  # others change nothing
    try:
        arguments = orjson.dumps(used, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None
    return query, operation_name, arguments


def _timed(work: Callable[[], T]) -> tuple[T | BaseException, float]:
    """The work's result, or what it raised, and the CPU time its thread spent on it."""
    started = time.thread_time()
    try:
        outcome: T | BaseException = work()
    except Exception as error:  # charged, then raised again by the caller
        outcome = error
    return outcome, time.thread_time() - started


def cached_documents(
    cache: DocumentCache, max_tokens: int, limits: Limits, rules: Sequence[type[ASTValidationRule]]
) -> Callable[[], SchemaExtension]:
    """Parsing refuses a document of more than ``max_tokens`` lexical tokens while it reads it; the
    limits are checked before Strawberry's validation rules and ``rules``, which only run when they pass."""
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="new-documents")
    # While the worker parses, the event loop waits for the interpreter at each wake-up: at most this long,
    # not the default 5 ms (a request wakes the loop four to six times). With one thread runnable, as almost
    # always, the interval changes nothing.
    sys.setswitchinterval(SWITCH_INTERVAL_S)

    async def off_loop(size: int, work: Callable[[], T], paid: int = 0) -> T:
        """``work``, on the worker thread when the document is long; its CPU beyond what ``paid`` bytes of the
        budget of new documents stood for is charged to it."""
        measured = partial(_timed, work)
        if size <= OFF_LOOP_CHARACTERS:
            outcome, cpu_s = measured()
        else:
            outcome, cpu_s = await asyncio.get_running_loop().run_in_executor(worker, measured)
        cache.spend(max(0.0, cpu_s - paid / BYTES_PER_CPU_SECOND))
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    class CachedDocuments(SchemaExtension):
        entry: Entry | None = None
        cost: int | None = None  # as charged, once the operation has been weighed

        async def on_parse(self) -> AsyncIterator[None]:
            context = self.execution_context
            query = context.query
            if query is not None:
                self.entry = cache.get(query)
                if self.entry is None:
                    try:
                        context.graphql_document = await off_loop(
                            len(query), partial(parse, query, max_tokens=max_tokens), paid=len(query)
                        )
                    except GraphQLError:
                        # Strawberry turns a syntax error into the operation's error only when its own parse
                        # raises it (over a socket, one raised here was lost, or logged with a traceback): it
                        # parses again, up to the error, within the same token limit.
                        context.parse_options = {**context.parse_options, "max_tokens": max_tokens}
                        yield
                        return
                else:
                    context.graphql_document = self.entry.document
                    if self.entry.errors:
                        context.pre_execution_errors = self.entry.errors
                if error := _single_operation_error(context.graphql_document, SENT_OPERATION_NAME.get()):
                    context.pre_execution_errors = [error]
            yield

        async def on_validate(self) -> AsyncIterator[None]:
            context = self.execution_context
            document = context.graphql_document
            if context.pre_execution_errors is not None or document is None:
                yield
                return
            entry = self.entry or await self._validated(context.query, document)
            errors = entry.errors
            operation = _chosen(document, context.operation_name)
            weight = entry.costs.get(operation.name.value if operation and operation.name else None)
            if not errors and operation is not None and weight is not None:
                spent = getattr(context.context, "spent", None)  # the request's (a batch shares it)
                spent = spent if isinstance(spent, Spent) else Spent()
                schema = context.schema._schema
                self.cost, over = charge(schema, document, operation, weight, limits, context.variables, spent)
                errors = [over] if over is not None else errors
            context.pre_execution_errors = errors
            yield

        def get_results(self) -> dict[str, Any]:
            """``extensions.cost`` of every weighed operation, executed or refused for its cost."""
            return {} if self.cost is None else {"cost": cost_report(self.cost, limits)}

        def on_execute(self) -> Iterator[None]:
            """An operation of introspection only is answered from the cache when it has run before with the
            same text, name and variables."""
            context = self.execution_context
            key = _introspection_key(context.query, context.graphql_document, context.operation_name, context.variables)
            if key is not None and (data := cache.introspection_answer(key)) is not None:
                context.result = GraphQLExecutionResult(data=data, errors=None)
            yield
            result = context.result
            if key is not None and isinstance(result, GraphQLExecutionResult) and not result.errors and result.data:
                cache.keep_introspection_answer(key, result.data)

        async def _validated(self, query: str | None, document: DocumentNode) -> Entry:
            schema = self.execution_context.schema._schema
            all_rules = (*self.execution_context.validation_rules, *STRAWBERRY_RULES, *rules)
            work = partial(judge, schema, document, limits, all_rules)
            tokens, errors, costs = await off_loop(len(query or ""), work)
            if cache.new_bytes is not None:  # an introspection costs ~1 ms per 1,000 of its weight, as 1 KB does
                cache.new_bytes.spend(sum(weight.introspection for weight in costs.values()))
            if errors:
                if query is not None:
                    cache.put(query, refused(query, document, errors))
                return Entry(document, errors, costs, 0)  # this request answers with the original errors
            subfields: dict[int, dict[SubfieldKey, CollectedFields]] | None = None
            if query is not None and "@" not in query and cache.keep_subfields:
                subfields = {}
            entry = Entry(document, [], costs, tokens * BYTES_PER_TOKEN + 2 * len(query or ""), subfields)
            if query is not None:
                cache.put(query, entry)
            return entry

    return CachedDocuments
