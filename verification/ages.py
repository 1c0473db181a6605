"""Who counts as a minor or a child, per jurisdiction.

An age profile says below which age a guardian must consent for the person, and below which the
person is a child whose every piece of data is sensitive. Ages are completed years on the date in
the service's time zone; someone born on 29 February turns a year older on 1 March in common
years (see ``birth_dates.age_on``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from verification.birth_dates import age_on


class AgeBand(StrEnum):
    ADULT = "adult"
    # Not an adult, but old enough to consent alone under the profile (the GDPR's 16-17, say).
    MINOR = "minor"
    # A guardian must consent for them.
    GUARDED_MINOR = "guarded_minor"
    # A guardian must consent, and all their data is sensitive.
    CHILD = "child"


@dataclass(frozen=True)
class AgeProfile:
    name: str
    adult_age: int
    guardian_consent_under: int
    child_under: int

    def __post_init__(self) -> None:
        if not 0 < self.child_under <= self.guardian_consent_under <= self.adult_age:
            raise ValueError("need 0 < child_under <= guardian_consent_under <= adult_age")

    def band(self, birth_date: date, today: date) -> AgeBand:
        age = age_on(birth_date, today)
        if age < self.child_under:
            return AgeBand.CHILD
        if age < self.guardian_consent_under:
            return AgeBand.GUARDED_MINOR
        if age < self.adult_age:
            return AgeBand.MINOR
        return AgeBand.ADULT

    def adult_on(self, birth_date: date) -> date:
        """The first day the person counts as an adult."""
        return _anniversary(birth_date, self.adult_age)


def _anniversary(birth_date: date, years: int) -> date:
    try:
        return birth_date.replace(year=birth_date.year + years)
    except ValueError:  # 29 February in a common year
        return date(birth_date.year + years, 3, 1)


# China's PIPL (children under 14 are sensitive) with the Minors Protection Law's guardian consent
# under 18; COPPA's 13 for both. The GDPR profile takes the member state's age of digital consent.
PIPL = AgeProfile("pipl", adult_age=18, guardian_consent_under=18, child_under=14)
COPPA = AgeProfile("coppa", adult_age=18, guardian_consent_under=13, child_under=13)


def gdpr(digital_consent_age: int) -> AgeProfile:
    if not 13 <= digital_consent_age <= 16:
        raise ValueError("the GDPR lets member states set the age of digital consent between 13 and 16")
    return AgeProfile("gdpr", adult_age=18, guardian_consent_under=digital_consent_age, child_under=digital_consent_age)


def profile_named(name: str, digital_consent_age: int = 16) -> AgeProfile:
    if name == "pipl":
        return PIPL
    if name == "coppa":
        return COPPA
    if name == "gdpr":
        return gdpr(digital_consent_age)
    raise ValueError(f"unknown age profile {name!r} (pipl, gdpr, coppa)")
