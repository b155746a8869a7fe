"""The document cache as a unit: what a refused document keeps, what "seen" means for the budget, and the
key of the introspection answers."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc

from graphql import GraphQLError, parse

from gateway.graphql.document_cache import ByteBudget, DocumentCache, refused, scan_tokens
from gateway.graphql.schema import build_schema
from gateway.settings import Settings


def test_a_refused_document_keeps_only_a_small_verdict() -> None:
    """Its skeleton reused the operation's name node, whose location held the whole chain of tokens: a
    5 KB document weighed at 842 bytes held 790 KB."""
    query = "query Q1 { nope(a: [" + "[] " * 1600 + "]) }"
    tracemalloc.start()
    document = parse(query)
    scan_tokens(document)
    entry = refused(query, document, [GraphQLError("Cannot query field 'nope' on type 'Query'.")])
    del document
    gc.collect()
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert held < 20_000
    assert entry.size >= len(query)  # the key, the query's text, is weighed too


def test_a_document_seen_lately_is_admitted_after_it_left_the_cache() -> None:
    """Seven large documents flushed the cache, and an app's document seen before got 503."""
    cache = DocumentCache(max_bytes=1, new_bytes=ByteBudget(per_s=0.001, burst=10_000))
    app_query = "{ customers(first: 5) { totalCount } }"
    assert cache.admit(app_query)
    assert len(cache) == 0  # never kept: the cache holds nothing here
    flood = [f"{{ f{n}x{'_' * 2000} }}" for n in range(10)]
    assert [cache.admit(query) for query in flood].count(False) > 0  # the budget is spent
    assert cache.admit(app_query)


def test_undeclared_variables_do_not_make_an_introspection_new() -> None:
    """Variables the operation does not declare change nothing, so they are not part of the answer's key:
    a varying unused variable had made each full introspection a miss (28 ms each)."""
    schema = build_schema(Settings())
    assert schema.documents is not None
    query = "{ __schema { queryType { name } } }"
    for n in range(3):
        result = asyncio.run(schema.execute(query, variable_values={"v": n}))
        assert result.errors is None
    assert len(schema.documents.introspection_answers) == 1
