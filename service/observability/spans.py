"""Traces of HTTP requests, their database queries and background jobs, exported over OTLP.

Imported only when an endpoint is configured (``service.observability.tracing``). The request id
is the link between logs and traces: the server span carries it as ``idv.request_id``, and every
log line written while a span is active carries the span's ``trace_id`` and ``span_id``.

Spans hold no personal data. Ours are named by route templates and job names and carry methods,
status codes and ids we make; the asyncpg instrumentation records statements (placeholders only,
our SQL never inlines values) and never their parameters. As a second line of defence, as for the
logs, only the attributes named in ``_EXPORTED_ATTRIBUTES`` leave the process, and exceptions
leave with their type only: their messages and the status descriptions the SDK makes of them may
quote input (asyncpg's do).

The server span is ours, made in ``service.http.context.RequestContext``, rather than Litestar's
OpenTelemetry plugin: that one wraps the app before routing, so it names spans by raw path, and
it records the full URL with its query string, the client's address and its user agent.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Sequence
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.propagators.textmap import Getter
from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, OTELResourceDetector, Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor, TracerProvider, sampling
from opentelemetry.sdk.trace import Span as SdkSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind, Status, StatusCode, TraceState
from opentelemetry.util.types import Attributes

from service.observability import context
from service.version import VERSION

logger = logging.getLogger(__name__)

REQUEST_ID = "idv.request_id"
JOB_NAME = "idv.job.name"
JOB_ID = "idv.job.id"
JOB_OUTCOME = "idv.job.outcome"

_EXPORTED_ATTRIBUTES = frozenset(
    {
        # Ours.
        REQUEST_ID,
        JOB_NAME,
        JOB_ID,
        JOB_OUTCOME,
        "http.request.method",
        "http.route",
        "http.response.status_code",
        "url.scheme",
        "error.type",
        # The asyncpg instrumentation's, in the old and in the stable database conventions.
        "db.system",
        "db.system.name",
        "db.name",
        "db.namespace",
        "db.user",
        "db.statement",
        "db.query.text",
        "net.peer.name",
        "net.peer.port",
        "net.transport",
        "server.address",
        "server.port",
        "network.transport",
    }
)
_EXPORTED_EVENT_ATTRIBUTES = frozenset({"exception.type", "exception.escaped"})


class Tracing:
    """The tracer provider of this process, and the spans idv makes with it."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self.tracer = provider.get_tracer("idv", VERSION)

    @classmethod
    def start(cls, exporter: SpanExporter | None = None) -> Tracing:
        protocol = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        if protocol not in (None, "", "http/protobuf"):
            logger.warning("traces are sent as http/protobuf whatever OTEL_EXPORTER_OTLP_PROTOCOL says")
        # service.name and service.version by default; OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win.
        resource = Resource.create({SERVICE_NAME: "idv", SERVICE_VERSION: VERSION}).merge(
            OTELResourceDetector().detect()
        )
        # The sampler OTEL_TRACES_SAMPLER names (the SDK reads it in this function only).
        provider = TracerProvider(resource=resource, sampler=_WithinWork(sampling._get_from_env_or_default()))
        # BatchSpanProcessor reads OTEL_BSP_*, OTLPSpanExporter the OTEL_EXPORTER_OTLP_* variables.
        provider.add_span_processor(_Redacting(BatchSpanProcessor(exporter or OTLPSpanExporter())))
        AsyncPGInstrumentor(capture_parameters=False).instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]
        context.read_trace_ids_with(_active_ids)
        logger.info("exporting traces over OTLP")
        return cls(provider)

    def shutdown(self) -> None:
        """Undo ``start`` and export what is left (the provider also does so at exit)."""
        AsyncPGInstrumentor().uninstrument()  # type: ignore[no-untyped-call]
        context.read_trace_ids_with(None)
        self.provider.shutdown()

    def flush(self) -> bool:
        return self.provider.force_flush()

    def request(self, scope: Any, request_id: str) -> RequestSpan:
        return RequestSpan(self.tracer, scope, request_id)

    @contextlib.contextmanager
    def job(self, name: str, job_id: int | None = None) -> Iterator[None]:
        """A span around one run of a job, its name and outcome; the job's queries are its children."""
        attributes: dict[str, str | int] = {JOB_NAME: name}
        if job_id is not None:
            attributes[JOB_ID] = job_id
        with self.tracer.start_as_current_span(
            f"job {name}", attributes=attributes, record_exception=False, set_status_on_exception=False
        ) as span:
            try:
                yield
            except Exception as exc:
                span.set_attributes({JOB_OUTCOME: "failed", "error.type": type(exc).__name__})
                span.set_status(Status(StatusCode.ERROR))
                raise
            except BaseException:
                span.set_attribute(JOB_OUTCOME, "cancelled")
                raise
            span.set_attribute(JOB_OUTCOME, "succeeded")


class RequestSpan:
    """The server span of one HTTP request, current while the app answers it.

    It continues the caller's trace when the request carries ``traceparent`` (OTEL_PROPAGATORS
    chooses the formats; ``none`` ignores them). It is named when the request is done, by the route
    template routing found, or by the method alone when none matched."""

    def __init__(self, tracer: trace.Tracer, scope: Any, request_id: str) -> None:
        parent = propagate.extract(scope["headers"], getter=_HEADERS)
        self.method = str(scope.get("method", ""))
        self.span = tracer.start_span(
            self.method,
            context=parent,
            kind=SpanKind.SERVER,
            attributes={
                REQUEST_ID: request_id,
                "http.request.method": self.method,
                "url.scheme": scope.get("scheme", "http"),
            },
            record_exception=False,
            set_status_on_exception=False,
        )
        self._token = otel_context.attach(trace.set_span_in_context(self.span, parent))

    def finish(self, route: str | None, status: int) -> None:
        otel_context.detach(self._token)
        if route is not None:
            self.span.update_name(f"{self.method} {route}")
            self.span.set_attribute("http.route", route)
        self.span.set_attribute("http.response.status_code", status)
        if status >= 500:
            self.span.set_status(Status(StatusCode.ERROR))
        self.span.end()


class _AsgiHeaders(Getter[Sequence[tuple[bytes, bytes]]]):
    def get(self, carrier: Sequence[tuple[bytes, bytes]], key: str) -> list[str] | None:
        name = key.lower().encode("latin-1")
        values = [value.decode("latin-1") for header, value in carrier if header == name]
        return values or None

    def keys(self, carrier: Sequence[tuple[bytes, bytes]]) -> list[str]:
        return [header.decode("latin-1") for header, _ in carrier]


_HEADERS = _AsgiHeaders()


def _active_ids() -> tuple[str, str] | None:
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None
    return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")


class _WithinWork(Sampler):
    """Requests and jobs as ``decide`` says; a query outside them (the job queue polls and beats
    its heartbeat every few seconds) is no trace of its own."""

    def __init__(self, decide: Sampler) -> None:
        self.decide = decide

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        if kind is SpanKind.CLIENT and not trace.get_current_span(parent_context).get_span_context().is_valid:
            return SamplingResult(Decision.DROP)
        return self.decide.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return f"WithinWork{{{self.decide.get_description()}}}"


class _Redacting(SpanProcessor):
    """Hands ``inner`` a copy of each span holding only what may leave the process."""

    def __init__(self, inner: SpanProcessor) -> None:
        self.inner = inner

    def on_start(self, span: SdkSpan, parent_context: Context | None = None) -> None:
        self.inner.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        self.inner.on_end(_redacted(span))

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


def _kept(attributes: Attributes, names: frozenset[str]) -> dict[str, Any]:
    return {key: value for key, value in (attributes or {}).items() if key in names}


def _redacted(span: ReadableSpan) -> ReadableSpan:
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=_kept(span.attributes, _EXPORTED_ATTRIBUTES),
        events=[
            Event(event.name, _kept(event.attributes, _EXPORTED_EVENT_ATTRIBUTES), event.timestamp)
            for event in span.events
        ],
        links=span.links,
        kind=span.kind,
        # The SDK describes a failure as "Type: message".
        status=Status(span.status.status_code),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )
