"""The field-check collector: every field's problem, in the order checked, in one `Invalid`."""

from __future__ import annotations

import pytest

from service.errors import FieldChecks, FieldProblem, Invalid, checking
from verification.errors import InvalidValue


def _refuse(code: str, message: str) -> str:
    raise InvalidValue(code, message)


def test_checks_that_pass_give_their_values_and_raise_nothing() -> None:
    checks = FieldChecks()
    assert checks.check("display_name", lambda: "Lee") == "Lee"
    checks.raise_if_any()


def test_every_failed_check_is_kept_in_order_and_raised_once() -> None:
    checks = FieldChecks()
    assert checks.check("legal_name", lambda: _refuse("too_long", "at most 50 characters")) is None
    assert checks.check("birth_date", lambda: "2000-01-01") == "2000-01-01"
    checks.problem("document_type", "required", "say which document the new number is from")
    assert checks.check("id_number", lambda: _refuse("checksum", "the check digit is wrong")) is None
    with pytest.raises(Invalid) as raised:
        checks.raise_if_any()
    assert (raised.value.code, raised.value.title) == ("validation_failed", "The request has invalid fields")
    assert raised.value.errors == [
        FieldProblem("legal_name", "too_long", "at most 50 characters"),
        FieldProblem("document_type", "required", "say which document the new number is from"),
        FieldProblem("id_number", "checksum", "the check digit is wrong"),
    ]


def test_other_exceptions_are_not_field_problems() -> None:
    checks = FieldChecks()
    with pytest.raises(ZeroDivisionError):
        checks.check("amount", lambda: 1 // 0)


def test_a_field_checked_alone_is_invalid_at_once() -> None:
    with pytest.raises(Invalid) as raised, checking("password"):
        _refuse("too_short", "at least 10 characters")
    assert raised.value.errors == [FieldProblem("password", "too_short", "at least 10 characters")]
    with checking("password"):
        pass  # nothing raised: nothing to report
