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
# Look an account up by e-mail, phone or ID number and see its states, cases and restrictions:
# those who act on accounts (senior reviewers restrict, lift and propose termination) and those who
# answer the people's data-rights requests (privacy officers must find the requester's account).
# Not reviewers: they reach a person through the cases handed to them, and a search over every
# account would let any of them test whether an address is a customer. Not admins (no personal data).
ACCOUNT_READERS = frozenset({Role.SENIOR_REVIEWER, Role.PRIVACY_OFFICER})
# Restrict an account and lift the restriction; propose its termination (a second operator confirms).
ACCOUNT_MEASURES = frozenset({Role.SENIOR_REVIEWER})
