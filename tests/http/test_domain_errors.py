"""Each kind of domain error answers with one status, its code, title, detail, field problems and
headers: exactly the problem the domain used to raise with an HTTP status by hand."""

from __future__ import annotations

import ast
import inspect

import msgspec
import pytest

from service import errors
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
    invalid_fields,
)
from service.http.problems import DOMAIN_STATUSES, ProblemError, domain_problem, problem_response
from service.sessions.throttle import AttemptsRefused

FIELD = FieldProblem("email", "invalid", "not an e-mail address")


@pytest.mark.parametrize(
    ("error", "before"),
    [
        (Rejected("invalid_second_factor", "Wrong"), ProblemError(400, "invalid_second_factor", "Wrong")),
        (Unauthenticated("invalid_credentials", "No"), ProblemError(401, "invalid_credentials", "No")),
        (
            Unauthenticated("unauthenticated", "Sign in first", challenge=True),
            ProblemError(401, "unauthenticated", "Sign in first", headers={"WWW-Authenticate": "Bearer"}),
        ),
        (
            Forbidden("consent_missing", "Consent", "grant it"),
            ProblemError(403, "consent_missing", "Consent", "grant it"),
        ),
        (NotFound("case_not_found", "No such case"), ProblemError(404, "case_not_found", "No such case")),
        (
            Conflict("identifier_taken", "Already registered", errors=[FIELD]),
            ProblemError(409, "identifier_taken", "Already registered", errors=[FIELD]),
        ),
        (Gone("challenge_expired", "Expired"), ProblemError(410, "challenge_expired", "Expired")),
        (TooLarge("upload_too_large", "Too large"), ProblemError(413, "upload_too_large", "Too large")),
        (
            invalid_fields(FIELD),
            ProblemError(422, "validation_failed", "The request has invalid fields", errors=[FIELD]),
        ),
        (Invalid("code_invalid", "The code is not right"), ProblemError(422, "code_invalid", "The code is not right")),
        (
            RateLimited("too_many_codes", "Too many", retry_after=30),
            ProblemError(429, "too_many_codes", "Too many", headers={"Retry-After": "30"}),
        ),
        (RateLimited("too_many_invitations", "Too many"), ProblemError(429, "too_many_invitations", "Too many")),
        (
            AttemptsRefused(7, by_address=True),
            ProblemError(
                429,
                "too_many_attempts",
                "Too many failed attempts",
                "Try again in 7 seconds.",
                headers={"Retry-After": "7"},
            ),
        ),
        (
            Unavailable("uploads_busy", "Busy", retry_after=2),
            ProblemError(503, "uploads_busy", "Busy", headers={"Retry-After": "2"}),
        ),
    ],
    ids=lambda value: type(value).__name__,
)
def test_a_domain_error_answers_as_the_problem_it_replaced(error: DomainError, before: ProblemError) -> None:
    after = domain_problem(error)
    expected = problem_response(before.status, before.code, before.title, before.detail, before.errors, before.headers)
    assert after.status_code == expected.status_code == before.status
    assert msgspec.json.encode(after.content) == msgspec.json.encode(expected.content)
    assert dict(after.headers) == dict(expected.headers)


def test_every_kind_of_domain_error_has_a_status() -> None:
    kinds = [
        kind
        for _, kind in inspect.getmembers(errors, inspect.isclass)
        if issubclass(kind, DomainError) and kind is not DomainError
    ]
    assert sorted(kinds, key=lambda kind: kind.__name__) == sorted(DOMAIN_STATUSES, key=lambda kind: kind.__name__)


def test_a_bare_domain_error_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        domain_problem(DomainError("oops", "Oops"))


def test_the_domain_errors_module_imports_nothing_http() -> None:
    tree = ast.parse(inspect.getsource(errors))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not {name for name in imported if name and name.startswith(("litestar", "service.http"))}
