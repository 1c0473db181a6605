"""The retention categories and their default periods: the one list that `IDV_RETENTION` is
checked against (service/settings.py) and that service/lifecycle/retention.py gives a count and a
purge to each of. It imports nothing of the service, so the settings can read it without the runtime."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from enum import StrEnum


class Retained(StrEnum):
    SESSIONS = "sessions"
    ONE_TIME_CODES = "one_time_codes"
    OUTBOX_MESSAGES = "outbox_messages"
    SIGN_IN_THROTTLE = "sign_in_throttle"
    CLOSED_CASE_EVIDENCE = "closed_case_evidence"
    LEGAL_HOLD = "legal_hold"
    GUARDIAN_INVITATIONS = "guardian_invitations"
    AUDIT_ORIGINS = "audit_origins"
    TERMINATED_ACCOUNTS = "terminated_accounts"


DEFAULT_PERIODS: Mapping[Retained, timedelta] = {
    Retained.SESSIONS: timedelta(days=90),
    Retained.ONE_TIME_CODES: timedelta(days=1),
    Retained.OUTBOX_MESSAGES: timedelta(days=30),
    Retained.SIGN_IN_THROTTLE: timedelta(days=1),
    Retained.CLOSED_CASE_EVIDENCE: timedelta(days=3 * 365),
    # After the erasure.
    Retained.LEGAL_HOLD: timedelta(days=3 * 365),
    # After acceptance or expiry.
    Retained.GUARDIAN_INVITATIONS: timedelta(days=30),
    # Network logs are kept at least six months (Cybersecurity Law, Art. 21): 184 days is the
    # longest six calendar months; a month's key goes once its last entry is that old.
    Retained.AUDIT_ORIGINS: timedelta(days=184),
    # After the termination.
    Retained.TERMINATED_ACCOUNTS: timedelta(days=3 * 365),
}
if set(DEFAULT_PERIODS) != set(Retained):
    raise ImportError("every retention category has a default period")
