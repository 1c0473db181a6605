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
from litestar.utils.scope.state import ScopeState

from service.database.pool import database_unavailability
from service.errors import (
    Conflict,
    DomainError,
    FieldProblem,
    Forbidden,
    Gone,
    Invalid,
    NotFound,
    RateLimited,
    Rejected,
    TooLarge,
    Unauthenticated,
    Unavailable,
)
from service.http.requests import ClientDisconnected
from service.i18n.catalogues import translations
from service.i18n.languages import Language, request_language
from service.observability.context import current_request_id
from service.observability.logging import Throttle

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"


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
    """Raise at the HTTP edge (routes, request parsing) to answer with a problem; domain code raises
    `service.errors` instead. Nothing in the transaction is kept."""

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


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    errors: Sequence[FieldProblem] = (),
    headers: Mapping[str, str] | None = None,
) -> Response[Problem]:
    # Titles, details and field messages are written in English where they are raised and read here
    # in the request's language (Accept-Language, else IDV_DEFAULT_LANGUAGE); codes never change.
    language = request_language.get() or Language.ZH_CN
    catalogue = translations(language)
    body = Problem(
        type=f"urn:idv:problem:{code}",
        title=catalogue.text(title),
        status=status,
        code=code,
        detail=catalogue.text(detail) if detail else detail,
        request_id=current_request_id(),
        errors=[FieldProblem(e.field, e.code, catalogue.text(e.message)) for e in errors] or None,
    )
    return Response(
        body,
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers={"cache-control": "no-store", "content-language": language.value, **(headers or {})},
    )


_BACKTICKED = re.compile(r"`([^`]+)`")
_AT_PATH = re.compile(r" - at `\$(.*)`$")


def _join(key: str, suffix: str) -> str:
    if not key or key == "body":
        return suffix.lstrip(".")
    return key + (suffix if suffix.startswith((".", "[")) else f".{suffix}")


def field_problem(key: str, message: str) -> FieldProblem:
    """One field's problem from a msgspec message (msgspec messages never echo values)."""
    code = "invalid"
    if (at := _AT_PATH.search(message)) is not None:
        message, key = message[: at.start()], _join(key, at.group(1))
    if message.startswith(("Object contains unknown field", "Object missing required field")):
        match = _BACKTICKED.search(message)
        key = _join(key, match.group(1)) if match else key
        if message.startswith("Object contains"):
            code, message = "unknown_field", "unknown field"
        else:
            code, message = "required", "this field is required"
    elif message.startswith("Invalid enum value"):
        message = "not one of the allowed values"  # msgspec's message quotes the value sent
    elif "matching regex" in message:
        code, message = "invalid_characters", "contains characters that are not allowed"
    elif "<=" in message or ">=" in message or "length" in message:
        code = "out_of_range"
    return FieldProblem(key or "body", code, message)


def _field_problems(extra: Any) -> list[FieldProblem]:
    """Turn Litestar/msgspec validation messages into field problems."""
    problems: list[FieldProblem] = []
    for item in extra if isinstance(extra, list) else []:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", "invalid value"))
        key = str(item.get("key") or "body")
        if key == "data" and message == "'data'":
            problems.append(FieldProblem("body", "required", "a JSON request body is required"))
            continue
        problems.append(field_problem("body" if key == "data" else key, message))
    return problems


def body_problems(struct: type[msgspec.Struct], body: Any) -> list[FieldProblem]:
    """Every problem of a JSON object meant for ``struct``, field by field: msgspec stops at the
    first, and a client fixing a form should learn all of them at once."""
    if not isinstance(body, dict):
        return []
    problems: list[FieldProblem] = []
    fields = msgspec.structs.fields(struct)
    for field in fields:
        if field.encode_name not in body:
            if field.required:
                problems.append(FieldProblem(field.encode_name, "required", "this field is required"))
            continue
        try:
            # Lax, as Litestar converts bodies: the same answer, only complete.
            msgspec.convert(body[field.encode_name], field.type, strict=False)
        except msgspec.ValidationError as exc:
            problems.append(field_problem(field.encode_name, str(exc)))
    if struct.__struct_config__.forbid_unknown_fields:
        known = {field.encode_name for field in fields}
        problems += [FieldProblem(str(name), "unknown_field", "unknown field") for name in body if name not in known]
    return problems


def _validation_problem(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Problem]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    if any(isinstance(item, dict) and item.get("source") in _PARAMETER_SOURCES for item in extra):
        return problem_response(
            400, "invalid_parameters", "The request has invalid parameters", errors=_field_problems(extra)
        )
    errors = _field_problems(extra)
    data = request.route_handler.parsed_fn_signature.parameters.get("data")
    body = ScopeState.from_scope(request.scope).json
    if data is not None and isinstance(data.annotation, type) and issubclass(data.annotation, msgspec.Struct):
        errors = body_problems(data.annotation, body) or errors
    return problem_response(422, "validation_failed", "The request has invalid fields", errors=errors)


_PARAMETER_SOURCES = frozenset({"query", "path", "header", "cookie"})
# Seconds a client should wait before trying again while the database cannot be reached.
RETRY_AFTER_SECONDS = 5
_unavailable_log = Throttle(logger, seconds=30)


# The one place a domain error gets its HTTP status; a subclass answers as the nearest kind listed.
DOMAIN_STATUSES: dict[type[DomainError], int] = {
    Rejected: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    TooLarge: 413,
    Invalid: 422,
    RateLimited: 429,
    Unavailable: 503,
}


def domain_status(exc: DomainError) -> int:
    for kind in type(exc).__mro__:
        if kind in DOMAIN_STATUSES:
            return DOMAIN_STATUSES[kind]
    raise TypeError(f"{type(exc).__name__} has no HTTP status: raise one of the kinds in service.errors")


def domain_problem(exc: DomainError) -> Response[Problem]:
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimited | Unavailable) and exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, Unauthenticated) and exc.challenge:
        headers["WWW-Authenticate"] = "Bearer"
    return problem_response(domain_status(exc), exc.code, exc.title, exc.detail, exc.errors, headers)


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    if isinstance(exc, DomainError):
        return domain_problem(exc)
    if isinstance(exc, ProblemError):
        return problem_response(exc.status, exc.code, exc.title, exc.detail, exc.errors, exc.headers)
    if isinstance(exc, ValidationException):
        return _validation_problem(request, exc)
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
