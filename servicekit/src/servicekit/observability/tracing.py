"""OpenTelemetry set-up and W3C trace-context propagation through Kafka headers."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)

_installed = False


class JsonLinesSpanExporter(SpanExporter):
    """Appends one JSON object per finished span to a file (used by end-to-end tests and demos)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[str] = path.open("a", encoding="utf-8")

    def export(self, spans: Iterable[ReadableSpan]) -> SpanExportResult:
        for span in spans:
            self._fh.write(span.to_json(indent=None) + "\n")
        self._fh.flush()
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self._fh.close()


def setup_tracing(service_name: str, exporter: str) -> None:
    """`exporter`: "none", or "jsonl:<path>". Once per process."""
    global _installed
    if _installed or exporter == "none":
        return
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if exporter.startswith("jsonl:"):
        provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter(Path(exporter[6:]))))
    else:
        raise ValueError(f"unknown trace exporter {exporter!r}; use none or jsonl:<path>")
    trace.set_tracer_provider(provider)
    _installed = True


NO_TRACE_HEADERS = "{}"


def tracing_enabled() -> bool:
    """Whether spans are recorded in this process (an SDK tracer provider is installed)."""
    return isinstance(trace.get_tracer_provider(), TracerProvider)


def current_trace_headers() -> str:
    """The active span's W3C context as a JSON object, for an outbox row's headers."""
    # Most rows are written outside any trace when tracing is off and no upstream context came
    # in; skipping the propagator then saves a measurable share of a hop's time.
    if not trace.get_current_span().get_span_context().is_valid:
        return NO_TRACE_HEADERS
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return json.dumps(carrier, separators=(",", ":"))


def context_from_kafka_headers(headers: Iterable[tuple[str, bytes]]) -> context.Context:
    carrier: dict[str, str] = {}
    for k, v in headers:
        if k in ("traceparent", "tracestate"):
            try:
                carrier[k] = v.decode("ascii")
            except UnicodeDecodeError:
                continue
    return propagate.extract(carrier)


def trace_id_hex() -> str | None:
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


@contextlib.contextmanager
def continue_trace(headers_json: str, name: str) -> Iterator[None]:
    """Work done later for an event (a provider's answer over HTTP, a webhook delivery) joins the
    trace of the event it belongs to, whose W3C context was stored as JSON headers. With tracing
    on, the work gets a span of its own under that context; either way, events emitted inside
    carry it on."""
    carrier = {} if headers_json == NO_TRACE_HEADERS else json.loads(headers_json)
    parent = propagate.extract(carrier)
    if tracing_enabled():
        with trace.get_tracer("servicekit").start_as_current_span(name, context=parent):
            yield
        return
    token = context.attach(parent)
    try:
        yield
    finally:
        context.detach(token)
