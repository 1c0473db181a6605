"""Age bands at their boundaries: birthdays today, yesterday, tomorrow, 29 February."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verification.ages import COPPA, PIPL, AgeBand, AgeProfile, gdpr, profile_named
from verification.birth_dates import age_on

birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31))


@given(birth_dates, st.integers(min_value=0, max_value=100))
def test_on_the_birthday_a_year_is_completed_and_not_the_day_before(born: date, years: int) -> None:
    birthday = PIPL.adult_on(born) if years == 18 else _anniversary(born, years)
    assert age_on(born, birthday) == years
    if years > 0:
        assert age_on(born, birthday - timedelta(days=1)) == years - 1
    assert age_on(born, birthday + timedelta(days=1)) == years


def _anniversary(born: date, years: int) -> date:
    try:
        return born.replace(year=born.year + years)
    except ValueError:
        return date(born.year + years, 3, 1)


@given(birth_dates)
def test_pipl_bands_change_exactly_on_the_14th_and_18th_birthdays(born: date) -> None:
    fourteen, eighteen = _anniversary(born, 14), PIPL.adult_on(born)
    assert PIPL.band(born, fourteen - timedelta(days=1)) is AgeBand.CHILD
    assert PIPL.band(born, fourteen) is AgeBand.GUARDED_MINOR
    assert PIPL.band(born, eighteen - timedelta(days=1)) is AgeBand.GUARDED_MINOR
    assert PIPL.band(born, eighteen) is AgeBand.ADULT


def test_born_on_29_february_becomes_adult_on_1_march_in_a_common_year() -> None:
    born = date(2008, 2, 29)
    assert PIPL.adult_on(born) == date(2026, 3, 1)
    assert PIPL.band(born, date(2026, 2, 28)) is AgeBand.GUARDED_MINOR
    assert PIPL.band(born, date(2026, 3, 1)) is AgeBand.ADULT
    # In a leap year the birthday itself counts.
    assert age_on(date(2012, 2, 29), date(2024, 2, 29)) == 12


@pytest.mark.parametrize(
    ("profile", "age", "band"),
    [
        (COPPA, 12, AgeBand.CHILD),
        (COPPA, 13, AgeBand.MINOR),
        (gdpr(16), 15, AgeBand.CHILD),
        (gdpr(16), 16, AgeBand.MINOR),
        (gdpr(13), 13, AgeBand.MINOR),
        (PIPL, 13, AgeBand.CHILD),
        (PIPL, 17, AgeBand.GUARDED_MINOR),
        (PIPL, 18, AgeBand.ADULT),
    ],
)
def test_profiles(profile: AgeProfile, age: int, band: AgeBand) -> None:
    # Born on 1 June, so on 22 November the age is exactly ``age``.
    assert profile.band(date(2026 - age, 6, 1), date(2026, 11, 22)) is band


def test_unknown_profiles_and_out_of_range_consent_ages_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown"):
        profile_named("mars")
    with pytest.raises(ValueError, match="between 13 and 16"):
        gdpr(12)
