"""Errors nobody planned for become ``INTERNAL`` with a fixed message: no stack trace, no exception
text (it may hold data) and no upstream detail reaches the client; the log gets the type and path.

With introspection off, no message suggests a name either: graphql-core appends "Did you mean ...?" to
errors about fields, arguments, enum values, input fields, types and variable values, which would let a
caller map the schema by typos. (Strawberry's ``disable_field_suggestions`` covers fields only.)

Written here rather than on Strawberry's MaskErrors, whose per-request check of the result is a runtime
Protocol ``isinstance``, slow on every request; this gateway has no streamed results to look into.
"""

from __future__ import annotations

import logging
import re
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
    return GraphQLError(
        MESSAGE, nodes=error.nodes, source=error.source, positions=error.positions, path=error.path,
        extensions={"code": ErrorCode.INTERNAL.value},
    )  # fmt: skip


SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def without_suggestion(error: GraphQLError) -> GraphQLError:
    message = SUGGESTION.sub("", error.message)
    if message == error.message:
        return error
    plain = GraphQLError(message, error.nodes, error.source, error.positions, error.path, error.original_error,
                         error.extensions)  # fmt: skip
    if plain.locations is None:  # a cached verdict keeps its locations without the syntax tree
        plain.locations = error.locations
    return plain


class MaskUnexpectedErrors(SchemaExtension):
    suggestions = True  # "Did you mean ...?" in messages

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if errors:
            internal = [error for error in errors if unexpected(error)]
            if internal:  # one line per operation, however many fields failed alike
                kinds = sorted({type(error.original_error).__name__ for error in internal})
                log.error("%d internal errors, first at %s: %s", len(internal), internal[0].path, ", ".join(kinds))
            errors = [masked(error) if unexpected(error) else error for error in errors]
            if not self.suggestions:
                errors = [without_suggestion(error) for error in errors]
            result.errors = errors  # type: ignore[union-attr]


class MaskErrorsAndSuggestions(MaskUnexpectedErrors):
    suggestions = False
