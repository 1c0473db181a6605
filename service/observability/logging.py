"""JSON logs, one object per line, with the request id (and the trace id while a span is active).

Personal data, codes, tokens and passwords are never passed to a logger; as a second line of
defence, exception messages are left out (they may quote input) and only the exception type
and the stack frames are written.
"""

from __future__ import annotations

import logging
import sys
import time
import traceback
from datetime import UTC, datetime
from typing import Any

import msgspec

from service.observability.context import current_request_id, current_trace_ids

_STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_encoder = msgspec.json.Encoder()
# Loggers whose arguments we know carry no personal data; others log their template only.
_TRUSTED_FORMATTERS = ("service", "uvicorn")
# Loggers whose stacks say nothing the error type does not: asyncpg's pool retries its floor of
# connections with a stack each time while the database is down.
_STACKLESS = ("asyncpg.pool",)


def _safe(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_safe(v) for v in value]
    return str(value)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage() if record.name.startswith(_TRUSTED_FORMATTERS) else record.msg,
        }
        if (request_id := current_request_id()) is not None:
            entry["request_id"] = request_id
        if (trace_ids := current_trace_ids()) is not None:
            entry["trace_id"], entry["span_id"] = trace_ids
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and key != "color_message" and not key.startswith("_"):
                entry[key] = _safe(value)
        if record.exc_info and record.exc_info[0] is not None:
            kind, _, tb = record.exc_info
            entry["error"] = kind.__qualname__
            if not record.name.startswith(_STACKLESS):
                entry["stack"] = "".join(traceback.format_tb(tb))
        return _encoder.encode(entry).decode()


def configure_logging(level: str = "INFO", stream: Any = None) -> None:
    """Route every logger (ours, uvicorn's, pgqueuer's, asyncpg's) through the JSON formatter."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "pgqueuer", "litestar"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # uvicorn's access log prints raw paths and query strings; ours logs route templates.
    logging.getLogger("uvicorn.access").disabled = True


class Throttle:
    """One warning for a burst of the same trouble: the first at once, then at most one per
    ``seconds`` saying how many were not written (a database outage must not write a line for
    every request it fails)."""

    def __init__(self, logger: logging.Logger, *, seconds: float) -> None:
        self.logger = logger
        self.seconds = seconds
        self._last: float | None = None
        self._suppressed = 0

    def warning(self, message: str, **extra: Any) -> None:
        now = time.monotonic()
        if self._last is not None and now - self._last < self.seconds:
            self._suppressed += 1
            return
        self.logger.warning(message, extra={**extra, "suppressed": self._suppressed})
        self._last, self._suppressed = now, 0
