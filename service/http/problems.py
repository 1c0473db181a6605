"""RFC 9457 problem details: every error leaves the service as application/problem+json
with a stable ``code``, per-field messages where they apply, and never a stack trace."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    ClientException,
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    SerializationException,
    TooManyRequestsException,
    ValidationException,
)
from litestar.exceptions.http_exceptions import MethodNotAllowedException, RequestEntityTooLarge

from service.database.pool import database_unavailability
from service.http.requests import ClientDisconnected
from service.observability.context import current_request_id
from service.observability.logging import Throttle

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldProblem(msgspec.Struct, frozen=True):
    field: str
    code: str
    message: str


class Problem(msgspec.Struct, omit_defaults=True):
    """The body of every error response."""

    type: str
    title: str
    status: int
    code: str
    detail: str | None = None
    request_id: str | None = None
    errors: list[FieldProblem] | None = None


class ProblemError(Exception):
    """Raise from domain code to answer with a problem; nothing in the transaction is kept."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str | None = None,
        *,
        errors: Sequence[FieldProblem] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.errors = list(errors)
        self.headers = dict(headers or {})


def invalid_fields(*errors: FieldProblem, detail: str | None = None) -> ProblemError:
    return ProblemError(422, "validation_failed", "The request has invalid fields", detail, errors=errors)


def invalid_field(field: str, code: str, message: str) -> ProblemError:
    return invalid_fields(FieldProblem(field, code, message))


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    errors: Sequence[FieldProblem] = (),
    headers: Mapping[str, str] | None = None,
) -> Response[Problem]:
    body = Problem(
        type=f"urn:idv:problem:{code}",
        title=title,
        status=status,
        code=code,
        detail=detail,
        request_id=current_request_id(),
        errors=list(errors) or None,
    )
    return Response(
        body,
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers={"cache-control": "no-store", **(headers or {})},
    )


_BACKTICKED = re.compile(r"`([^`]+)`")


def _field_problems(extra: Any) -> list[FieldProblem]:
    """Turn Litestar/msgspec validation messages into field problems (they never echo values)."""
    problems: list[FieldProblem] = []
    for item in extra if isinstance(extra, list) else []:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", "invalid value"))
        key = str(item.get("key") or "body")
        code = "invalid"
        if message.startswith("Object contains unknown field"):
            match = _BACKTICKED.search(message)
            key, code, message = (match.group(1) if match else key), "unknown_field", "unknown field"
        elif message.startswith("Object missing required field"):
            match = _BACKTICKED.search(message)
            key, code, message = (match.group(1) if match else key), "required", "this field is required"
        elif key == "data" and message == "'data'":
            key, code, message = "body", "required", "a JSON request body is required"
        elif "matching regex" in message:
            code, message = "invalid_characters", "contains characters that are not allowed"
        elif "<=" in message or ">=" in message or "length" in message:
            code = "out_of_range"
        if key == "data":
            key = "body"
        problems.append(FieldProblem(key, code, message))
    return problems


# Seconds a client should wait before trying again while the database cannot be reached.
RETRY_AFTER_SECONDS = 5
_unavailable_log = Throttle(logger, seconds=30)


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    if isinstance(exc, ProblemError):
        return problem_response(exc.status, exc.code, exc.title, exc.detail, exc.errors, exc.headers)
    if isinstance(exc, ValidationException):
        return problem_response(
            422, "validation_failed", "The request has invalid fields", errors=_field_problems(exc.extra)
        )
    if isinstance(exc, RequestEntityTooLarge):
        return problem_response(413, "body_too_large", "The request body is too large")
    if isinstance(exc, NotFoundException):
        return problem_response(404, "not_found", "Not found")
    if isinstance(exc, MethodNotAllowedException):
        return problem_response(405, "method_not_allowed", "Method not allowed", headers=exc.headers)
    if isinstance(exc, TooManyRequestsException):
        headers = dict(exc.headers or {})
        if "RateLimit-Reset" in headers:
            headers["Retry-After"] = headers["RateLimit-Reset"]
        return problem_response(429, "rate_limited", "Too many requests", headers=headers)
    if isinstance(exc, NotAuthorizedException):
        return problem_response(401, "unauthenticated", "Authentication required")
    if isinstance(exc, PermissionDeniedException):
        return problem_response(403, "forbidden", "Not allowed")
    if isinstance(exc, SerializationException) or (isinstance(exc, ClientException) and exc.status_code == 400):
        # A client's mistake (or probe): worth a line, never a stack.
        cause = exc.__cause__.__cause__ if isinstance(exc.__cause__, SerializationException) else exc.__cause__
        logger.info("malformed request body", extra={"error": type(cause or exc).__name__})
        return problem_response(400, "malformed_body", "The request body is not valid JSON")
    if isinstance(exc, ClientDisconnected):
        logger.info("client disconnected before sending the whole body")
        return problem_response(499, "client_disconnected", "The client closed the connection")
    if (cause := database_unavailability(exc)) is not None:
        _unavailable_log.warning("database unavailable", error=type(cause).__name__)
        return problem_response(
            503,
            "service_unavailable",
            "The service is unavailable, try again shortly",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, HTTPException) and exc.status_code < 500:
        return problem_response(exc.status_code, f"http_{exc.status_code}", str(exc.detail))
    # The message of an unexpected error may quote personal data: log its type and frames only.
    logger.error("unhandled error", exc_info=exc)
    return problem_response(500, "internal_error", "Internal error")
