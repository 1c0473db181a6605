"""Birth dates people declare: real calendar dates in a plausible range."""

from __future__ import annotations

from datetime import date

from verification.errors import InvalidValue

MAX_AGE_YEARS = 130


def age_on(birth_date: date, today: date) -> int:
    """Completed years; someone born on 29 February turns a year older on 1 March in common years."""
    had_birthday = (today.month, today.day) >= (birth_date.month, birth_date.day)
    return today.year - birth_date.year - (0 if had_birthday else 1)


def check_birth_date(birth_date: date, today: date) -> date:
    if birth_date > today:
        raise InvalidValue("in_future", "birth date cannot be in the future")
    if age_on(birth_date, today) > MAX_AGE_YEARS:
        raise InvalidValue("implausible", f"birth date is more than {MAX_AGE_YEARS} years ago")
    return birth_date
