"""The case state machine is a table; these tests read it like a reviewer would."""

from __future__ import annotations

import pytest

from service.cases.catalogue import CASE_TYPES, REASONS
from service.cases.states import (
    OPEN_STATES,
    TRANSITIONS,
    CaseEvent,
    CaseState,
    DecisionKind,
    IllegalCaseTransition,
    next_state,
)

S, E = CaseState, CaseEvent


@pytest.mark.parametrize(
    ("state", "event", "after"),
    [
        (None, E.OPEN, S.SUBMITTED),
        (S.SUBMITTED, E.START_CHECKS, S.AUTO_CHECKS),
        (S.AUTO_CHECKS, E.AUTO_APPROVE, S.APPROVED),
        (S.AUTO_CHECKS, E.AUTO_REJECT, S.REJECTED),
        (S.AUTO_CHECKS, E.REFER, S.IN_REVIEW),
        (S.IN_REVIEW, E.APPROVE, S.APPROVED),
        (S.IN_REVIEW, E.REJECT, S.REJECTED),
        (S.IN_REVIEW, E.REQUEST_RESUBMISSION, S.RESUBMISSION_REQUESTED),
        (S.IN_REVIEW, E.STAGE, S.PENDING_SECOND_APPROVAL),
        (S.PENDING_SECOND_APPROVAL, E.CONFIRM_APPROVE, S.APPROVED),
        (S.PENDING_SECOND_APPROVAL, E.CONFIRM_REJECT, S.REJECTED),
        (S.PENDING_SECOND_APPROVAL, E.SEND_BACK, S.IN_REVIEW),
        (None, E.OPEN_APPEAL, S.APPEAL_OPEN),
        (S.APPEAL_OPEN, E.UPHOLD, S.UPHELD),
        (S.APPEAL_OPEN, E.OVERTURN, S.OVERTURNED),
        (S.IN_REVIEW, E.WITHDRAW, S.WITHDRAWN),
        (S.RESUBMISSION_REQUESTED, E.EXPIRE, S.EXPIRED),
    ],
)
def test_the_transitions_the_issue_asks_for(state: CaseState | None, event: CaseEvent, after: CaseState) -> None:
    assert next_state(state, event) is after


def test_closed_cases_stay_closed_except_a_rejection_overturned_on_appeal() -> None:
    closed = set(CaseState) - OPEN_STATES
    leaving_closed = {(s, e) for (s, e) in TRANSITIONS if s in closed}
    assert leaving_closed == {(S.REJECTED, E.OVERTURNED_ON_APPEAL)}
    for state in closed:
        for event in (E.APPROVE, E.REJECT, E.WITHDRAW, E.EXPIRE, E.STAGE):
            with pytest.raises(IllegalCaseTransition):
                next_state(state, event)


def test_no_decision_skips_review_or_a_waiting_second_approval() -> None:
    for decision in DecisionKind:
        for state in (S.SUBMITTED, S.AUTO_CHECKS, S.RESUBMISSION_REQUESTED, S.PENDING_SECOND_APPROVAL):
            with pytest.raises(IllegalCaseTransition):
                next_state(state, decision.event)


def test_every_decision_has_reasons_and_every_type_is_decidable() -> None:
    for decision in DecisionKind:
        assert any(decision in reason.decisions for reason in REASONS.values()), decision
    for case_type, spec in CASE_TYPES.items():
        assert spec.workers and spec.decisions, case_type
    for reason in REASONS.values():
        assert reason.user_message and reason.internal
        assert reason.user_message != reason.internal
