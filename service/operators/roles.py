"""Operator roles. Each endpoint names the roles it allows; nothing is implied by another role."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    REVIEWER = "reviewer"
    # May also confirm decisions another operator staged (four eyes).
    SENIOR_REVIEWER = "senior_reviewer"
    # Data-subject requests and minors' data.
    PRIVACY_OFFICER = "privacy_officer"
    # Operators and configuration; no access to cases.
    ADMIN = "admin"


ANY_ROLE = frozenset(Role)
CASE_WORKERS = frozenset({Role.REVIEWER, Role.SENIOR_REVIEWER, Role.PRIVACY_OFFICER})
# Each case type narrows this further (service/cases/catalogue.py: confirmers).
SECOND_APPROVERS = frozenset({Role.SENIOR_REVIEWER, Role.PRIVACY_OFFICER})
ADMINS = frozenset({Role.ADMIN})
AUDIT_READERS = frozenset({Role.ADMIN, Role.PRIVACY_OFFICER})
