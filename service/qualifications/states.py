"""The qualification state machine, as data."""

from __future__ import annotations

from enum import StrEnum


class QualificationState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    REVOKED = "revoked"


class QualificationEvent(StrEnum):
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    # An operator asked for better documents: editable again until resubmitted.
    REOPEN = "reopen"
    WITHDRAW = "withdraw"
    EXPIRE = "expire"
    REVOKE = "revoke"


Q, E = QualificationState, QualificationEvent

TRANSITIONS: dict[tuple[QualificationState, QualificationEvent], QualificationState] = {
    (Q.DRAFT, E.SUBMIT): Q.SUBMITTED,
    (Q.DRAFT, E.WITHDRAW): Q.WITHDRAWN,
    (Q.SUBMITTED, E.APPROVE): Q.APPROVED,
    (Q.SUBMITTED, E.REJECT): Q.REJECTED,
    (Q.SUBMITTED, E.REOPEN): Q.DRAFT,
    (Q.SUBMITTED, E.WITHDRAW): Q.WITHDRAWN,
    # A rejection overturned on appeal.
    (Q.REJECTED, E.APPROVE): Q.APPROVED,
    (Q.APPROVED, E.EXPIRE): Q.EXPIRED,
    (Q.APPROVED, E.REVOKE): Q.REVOKED,
}

# Documents of qualifications in these states are no longer needed (rejected ones are kept
# through the appeal window; see jobs.py).
ENDED = frozenset({Q.WITHDRAWN, Q.EXPIRED, Q.REVOKED})


class IllegalQualificationTransition(Exception):
    pass


def next_state(state: QualificationState, event: QualificationEvent) -> QualificationState:
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise IllegalQualificationTransition(f"{event} is not allowed in {state}") from None
