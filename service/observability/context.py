"""The request id of the request being served, for logs and problem bodies, and the ids of the
active span while traces are exported."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# Set by service.observability.spans while traces are exported; None otherwise, so that logging
# never asks OpenTelemetry anything in a process that does not trace.
_trace_ids: Callable[[], tuple[str, str] | None] | None = None


def current_request_id() -> str | None:
    return request_id_var.get()


def current_trace_ids() -> tuple[str, str] | None:
    """The trace id and span id of the active span, if traces are exported and one is active."""
    return None if _trace_ids is None else _trace_ids()


def read_trace_ids_with(reader: Callable[[], tuple[str, str] | None] | None) -> None:
    global _trace_ids
    _trace_ids = reader
