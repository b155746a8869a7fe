"""Errors nobody planned for become ``INTERNAL`` with a fixed message: no stack trace, no exception
text (it may hold data) and no upstream detail reaches the client; the log gets the type and path.

Written here rather than on Strawberry's MaskErrors, whose per-request check of the result is a runtime
Protocol ``isinstance``, slow on every request; this gateway has no streamed results to look into.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from .errors import ErrorCode

MESSAGE = "Internal error."
log = logging.getLogger("gateway.graphql")


def unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


def masked(error: GraphQLError) -> GraphQLError:
    log.error("internal error at %s: %s", error.path, type(error.original_error).__name__)
    return GraphQLError(
        MESSAGE, nodes=error.nodes, source=error.source, positions=error.positions, path=error.path,
        extensions={"code": ErrorCode.INTERNAL.value},
    )  # fmt: skip


class MaskUnexpectedErrors(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = [masked(error) if unexpected(error) else error for error in errors]  # type: ignore[union-attr]
