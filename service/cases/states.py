"""The review-case state machine, as data. Every change goes through ``next_state``."""

from __future__ import annotations

from enum import StrEnum


class CaseState(StrEnum):
    SUBMITTED = "submitted"
    AUTO_CHECKS = "auto_checks"
    IN_REVIEW = "in_review"
    RESUBMISSION_REQUESTED = "resubmission_requested"
    PENDING_SECOND_APPROVAL = "pending_second_approval"
    APPEAL_OPEN = "appeal_open"
    APPROVED = "approved"
    REJECTED = "rejected"
    UPHELD = "upheld"
    OVERTURNED = "overturned"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class CaseEvent(StrEnum):
    OPEN = "open"
    OPEN_APPEAL = "open_appeal"
    START_CHECKS = "start_checks"
    AUTO_APPROVE = "auto_approve"
    AUTO_REJECT = "auto_reject"
    REFER = "refer"
    # Decisions an operator takes (also the names of DecisionKind).
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_RESUBMISSION = "request_resubmission"
    UPHOLD = "uphold"
    OVERTURN = "overturn"
    # Four eyes: a staged decision takes effect only through its confirmation event, so a
    # direct decision can never act on a case that waits for a second operator.
    STAGE = "stage"
    CONFIRM_APPROVE = "confirm_approve"
    CONFIRM_REJECT = "confirm_reject"
    CONFIRM_REQUEST_RESUBMISSION = "confirm_request_resubmission"
    CONFIRM_UPHOLD = "confirm_uphold"
    CONFIRM_OVERTURN = "confirm_overturn"
    SEND_BACK = "send_back"
    EVIDENCE_CHANGED = "evidence_changed"
    # The user, or time.
    RESUBMIT = "resubmit"
    OVERTURNED_ON_APPEAL = "overturned_on_appeal"
    WITHDRAW = "withdraw"
    EXPIRE = "expire"


class DecisionKind(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_RESUBMISSION = "request_resubmission"
    UPHOLD = "uphold"
    OVERTURN = "overturn"

    @property
    def event(self) -> CaseEvent:
        return CaseEvent(self.value)

    @property
    def confirmation(self) -> CaseEvent:
        return CaseEvent(f"confirm_{self.value}")


class IllegalCaseTransition(Exception):
    def __init__(self, state: CaseState | None, event: CaseEvent) -> None:
        super().__init__(f"{event} is not allowed in state {state}")
        self.state = state
        self.event = event


S, E = CaseState, CaseEvent
OPEN_STATES = frozenset(
    {S.SUBMITTED, S.AUTO_CHECKS, S.IN_REVIEW, S.RESUBMISSION_REQUESTED, S.PENDING_SECOND_APPROVAL, S.APPEAL_OPEN}
)

# (state before, event) -> state after. A missing pair is an illegal transition.
TRANSITIONS: dict[tuple[CaseState | None, CaseEvent], CaseState] = {
    (None, E.OPEN): S.SUBMITTED,
    (None, E.OPEN_APPEAL): S.APPEAL_OPEN,
    (S.SUBMITTED, E.START_CHECKS): S.AUTO_CHECKS,
    (S.AUTO_CHECKS, E.AUTO_APPROVE): S.APPROVED,
    (S.AUTO_CHECKS, E.AUTO_REJECT): S.REJECTED,
    (S.AUTO_CHECKS, E.REFER): S.IN_REVIEW,
    (S.IN_REVIEW, E.APPROVE): S.APPROVED,
    (S.IN_REVIEW, E.REJECT): S.REJECTED,
    (S.IN_REVIEW, E.REQUEST_RESUBMISSION): S.RESUBMISSION_REQUESTED,
    (S.IN_REVIEW, E.UPHOLD): S.UPHELD,
    (S.IN_REVIEW, E.OVERTURN): S.OVERTURNED,
    (S.IN_REVIEW, E.STAGE): S.PENDING_SECOND_APPROVAL,
    (S.APPEAL_OPEN, E.UPHOLD): S.UPHELD,
    (S.APPEAL_OPEN, E.OVERTURN): S.OVERTURNED,
    (S.APPEAL_OPEN, E.STAGE): S.PENDING_SECOND_APPROVAL,
    (S.PENDING_SECOND_APPROVAL, E.CONFIRM_APPROVE): S.APPROVED,
    (S.PENDING_SECOND_APPROVAL, E.CONFIRM_REJECT): S.REJECTED,
    (S.PENDING_SECOND_APPROVAL, E.CONFIRM_REQUEST_RESUBMISSION): S.RESUBMISSION_REQUESTED,
    (S.PENDING_SECOND_APPROVAL, E.CONFIRM_UPHOLD): S.UPHELD,
    (S.PENDING_SECOND_APPROVAL, E.CONFIRM_OVERTURN): S.OVERTURNED,
    (S.PENDING_SECOND_APPROVAL, E.SEND_BACK): S.IN_REVIEW,
    (S.PENDING_SECOND_APPROVAL, E.EVIDENCE_CHANGED): S.IN_REVIEW,
    (S.RESUBMISSION_REQUESTED, E.RESUBMIT): S.SUBMITTED,
    (S.REJECTED, E.OVERTURNED_ON_APPEAL): S.APPROVED,
    # Not while a decision waits for its second operator: withdrawing must not dodge it.
    **{(state, E.WITHDRAW): S.WITHDRAWN for state in OPEN_STATES - {S.PENDING_SECOND_APPROVAL}},
    **{(state, E.EXPIRE): S.EXPIRED for state in OPEN_STATES},
}


def next_state(state: CaseState | None, event: CaseEvent) -> CaseState:
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise IllegalCaseTransition(state, event) from None


def is_closed(state: CaseState) -> bool:
    return state not in OPEN_STATES
