"""Whether this process exports traces: only when an OTLP endpoint is configured.

Without one nothing is set up: no tracer provider, no instrumentation, and the OpenTelemetry
SDK is not even imported; requests and jobs check one ``None`` and go on. With one, see
``service.observability.spans``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter

    from service.observability.spans import Tracing

# The standard variables: the first for every signal, the second for traces alone.
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def exports_traces(environ: Mapping[str, str]) -> bool:
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return any(environ.get(name, "").strip() for name in ENDPOINT_VARIABLES)


def start_tracing(*, exporter: SpanExporter | None = None) -> Tracing | None:
    """Tracing configured by the standard ``OTEL_*`` variables, or None when no endpoint is set.

    ``exporter`` replaces the OTLP exporter (tests hand an in-memory one); everything else is
    what the service runs with."""
    if not exports_traces(os.environ):
        return None
    from service.observability.spans import Tracing

    return Tracing.start(exporter)
