"""What can go wrong in the domain, named by meaning. Domain code raises these and knows nothing of
HTTP; `service.http.problems` turns each class into its problem+json response, once.

Every error carries a stable ``code`` clients branch on, a ``title`` and ``detail`` safe to show to
the person (never a personal value), and the problems of individual fields where they apply. Nothing
in the transaction that raised one is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import msgspec

from verification.errors import InvalidValue

__all__ = [
    "Conflict",
    "DomainError",
    "FieldChecks",
    "FieldProblem",
    "Forbidden",
    "Gone",
    "Invalid",
    "NotFound",
    "RateLimited",
    "Rejected",
    "TooLarge",
    "Unauthenticated",
    "Unavailable",
    "checking",
    "invalid_field",
    "invalid_fields",
]

P = ParamSpec("P")
T = TypeVar("T")


class FieldProblem(msgspec.Struct, frozen=True):
    field: str
    code: str
    message: str


class DomainError(Exception):
    """The base of every domain error; raise one of its kinds, never this."""

    def __init__(
        self, code: str, title: str, detail: str | None = None, *, errors: Sequence[FieldProblem] = ()
    ) -> None:
        super().__init__(code)
        self.code = code
        self.title = title
        self.detail = detail
        self.errors = list(errors)


class Invalid(DomainError):
    """What was sent cannot be used as it is: fix it and send it again."""


class Rejected(DomainError):
    """The request is refused as a whole for what it carries (a wrong code while enrolling)."""


class Unauthenticated(DomainError):
    """Who is asking is not established. ``challenge``: no (valid) credentials came with the request,
    so the answer invites the client to sign in, rather than refusing the ones it sent."""

    def __init__(self, code: str, title: str, detail: str | None = None, *, challenge: bool = False) -> None:
        super().__init__(code, title, detail)
        self.challenge = challenge


class Forbidden(DomainError):
    """Who is asking is known and may not do this. Refusals to operators are audited by this type."""


class NotFound(DomainError):
    """No such thing, or none this principal may know of."""


class Conflict(DomainError):
    """The thing exists but its state does not allow this now."""


class Gone(DomainError):
    """The thing existed and has expired."""


class TooLarge(DomainError):
    """What was sent is larger than the service accepts."""


class RateLimited(DomainError):
    """Too many of these, too soon; ``retry_after`` (seconds) says when to try again, if known."""

    def __init__(self, code: str, title: str, detail: str | None = None, *, retry_after: int | None = None) -> None:
        super().__init__(code, title, detail)
        self.retry_after = retry_after


class Unavailable(DomainError):
    """The service cannot do this right now, through no fault of the request."""

    def __init__(self, code: str, title: str, detail: str | None = None, *, retry_after: int | None = None) -> None:
        super().__init__(code, title, detail)
        self.retry_after = retry_after


def invalid_fields(*errors: FieldProblem, detail: str | None = None) -> Invalid:
    return Invalid("validation_failed", "The request has invalid fields", detail, errors=errors)


def invalid_field(field: str, code: str, message: str) -> Invalid:
    return invalid_fields(FieldProblem(field, code, message))


@contextmanager
def checking(field: str) -> Iterator[None]:
    """One field checked alone (in sync or async code): its `InvalidValue` becomes an `Invalid` at once.

    with checking("password"):
        password_hash = await passwords.hash_new(password)
    """
    try:
        yield
    except InvalidValue as exc:
        raise invalid_field(field, exc.code, exc.message) from None


class FieldChecks:
    """Runs the checks of a form field by field and collects every `InvalidValue` as that field's
    problem, so a client fixing a form learns all of them at once:

        checks = FieldChecks()
        name = checks.check("legal_name", normalize_legal_name, body.legal_name)
        checks.problem("document_type", "required", "say which document the number is from")
        checks.raise_if_any()  # one Invalid with the problems in the order they were found
    """

    def __init__(self) -> None:
        self.problems: list[FieldProblem] = []

    def check(self, field: str, check: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | None:
        """``check(*args, **kwargs)``, or None with the field's problem kept when it raises `InvalidValue`."""
        try:
            return check(*args, **kwargs)
        except InvalidValue as exc:
            self.problems.append(FieldProblem(field, exc.code, exc.message))
            return None

    def problem(self, field: str, code: str, message: str) -> None:
        self.problems.append(FieldProblem(field, code, message))

    def raise_if_any(self) -> None:
        if self.problems:
            raise invalid_fields(*self.problems)
