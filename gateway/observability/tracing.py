"""OpenTelemetry tracing, on when ``tracing`` is set: a span per GraphQL operation, per dataloader batch and
per upstream attempt (with W3C ``traceparent`` sent upstream). Off, it costs one boolean test per span site.

``otlp`` exports over OTLP/HTTP to where the standard ``OTEL_EXPORTER_OTLP_*`` variables say; ``console``
prints spans as JSON, for a quick look."""

from __future__ import annotations

from collections.abc import MutableMapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

_tracer: trace.Tracer | None = None
_provider: TracerProvider | None = None


def configure_tracing(mode: str, service_name: str) -> None:
    if mode == "off":
        return
    exporter: SpanExporter
    if mode == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    else:
        exporter = ConsoleSpanExporter()
    use_exporter(exporter, service_name)


def use_exporter(exporter: SpanExporter | None, service_name: str = "customer-gateway") -> None:
    """Spans go to ``exporter`` from now on; None turns tracing off again (tests use both)."""
    global _tracer, _provider
    if exporter is None:
        _tracer = _provider = None
        return
    _provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    _provider.add_span_processor(BatchSpanProcessor(exporter))
    _tracer = _provider.get_tracer("gateway")


def shutdown() -> None:
    """Flushes spans still buffered; called when the server stops."""
    if _provider is not None:
        _provider.shutdown()


_OFF: AbstractContextManager[None] = nullcontext()


def span(
    name: str, kind: trace.SpanKind = trace.SpanKind.INTERNAL, attributes: dict[str, Any] | None = None
) -> AbstractContextManager[trace.Span | None]:
    """A current span when tracing is on, else a shared do-nothing context (no work, no allocation)."""
    if _tracer is None:
        return _OFF
    return _tracer.start_as_current_span(name, kind=kind, attributes=attributes)


def inject(headers: MutableMapping[str, str]) -> None:
    """Adds ``traceparent`` for the current span, so the upstream's spans can join the trace."""
    if _tracer is not None:
        propagate.inject(headers)
