"""Every GraphQL operation counted, timed and traced: name, type and outcome (``ok``, or the code of its
first error, or ``invalid`` when it could not be parsed or validated)."""

from __future__ import annotations

import time
from collections.abc import Iterator

from graphql import GraphQLError
from opentelemetry.trace import Span
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from ..observability import tracing
from ..observability.metrics import OPERATION_SECONDS, OPERATIONS, operation_label


def outcome(errors: list[GraphQLError] | None) -> str:
    if not errors:
        return "ok"
    code = (errors[0].extensions or {}).get("code")
    if code:
        return str(code)
    return "invalid" if errors[0].path is None else "error"


def _operation_type(context: ExecutionContext) -> str:
    try:
        return context.operation_type.value
    except (RuntimeError, ValueError, KeyError):  # no document, or no such operation in it
        return "unknown"


class ObserveOperation(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        with tracing.span("graphql.operation") as span:
            try:
                yield
            except GraphQLError as error:  # a request that fails to parse ends here
                self._record(span, started, [error])
                raise
            result = self.execution_context.result
            self._record(span, started, result.errors if result is not None else None)

    def _record(self, span: Span | None, started: float, errors: list[GraphQLError] | None) -> None:
        context = self.execution_context
        name = operation_label(context.operation_name)
        kind = _operation_type(context)
        errors = errors or context.pre_execution_errors
        ended = outcome(errors)
        if span is not None:
            span.update_name(f"graphql {kind} {name}")
            span.set_attributes(
                {"graphql.operation.name": name, "graphql.operation.type": kind, "graphql.outcome": ended}
            )
        OPERATIONS.labels(name, kind, ended).inc()
        OPERATION_SECONDS.labels(name, kind).observe(time.perf_counter() - started)
