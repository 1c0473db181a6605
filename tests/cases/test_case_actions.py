"""What a page may offer on a case (cases.access.case_actions) is what the decisions allow: the
same checks, read without acting. The console shows only these."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import service.capabilities  # noqa: F401 - registers the case types
from service.cases.access import case_actions
from service.cases.catalogue import REASONS, CaseType
from service.cases.records import Case
from service.cases.states import CaseState, DecisionKind
from service.operators.auth import OperatorPrincipal
from service.operators.roles import Role


def operator(*roles: Role) -> OperatorPrincipal:
    return OperatorPrincipal(
        uuid.uuid4(), uuid.uuid4(), frozenset(roles), datetime.now(UTC) + timedelta(hours=1), "192.0.2.1", None
    )


def case(
    case_type: CaseType = CaseType.REAL_NAME,
    state: CaseState = CaseState.IN_REVIEW,
    *,
    assignee: uuid.UUID | None = None,
    excluded: tuple[uuid.UUID, ...] = (),
    appealed: CaseType | None = None,
) -> Case:
    now = datetime.now(UTC)
    return Case(
        id=uuid.uuid4(),
        case_type=case_type,
        subject_account_id=uuid.uuid4(),
        state=state,
        priority=2,
        due_at=now + timedelta(hours=1),
        assignee_id=assignee,
        subject_is_child=False,
        parent_case_id=None,
        appealed_case_type=appealed,
        excluded_operator_ids=excluded,
        resubmissions=0,
        evidence_version=1,
        automated_results=[],
        reason_code=None,
        created_at=now,
        updated_at=now,
        closed_at=None,
    )


def test_a_reviewer_may_claim_reveal_and_decide_with_the_types_reasons() -> None:
    actions = case_actions(operator(Role.REVIEWER), case(), None)
    assert actions.may_claim and actions.may_reveal and actions.may_decide
    assert not actions.may_release and not actions.may_confirm
    offered = dict(actions.decisions)
    assert set(offered) == {DecisionKind.APPROVE, DecisionKind.REJECT, DecisionKind.REQUEST_RESUBMISSION}
    for decision, reasons in offered.items():
        assert reasons and all(decision in reason.decisions for reason in reasons)
    assert REASONS["original_decision_correct"] not in offered[DecisionKind.REJECT]


def test_nothing_is_offered_on_a_type_ones_roles_do_not_cover() -> None:
    for roles in ((Role.REVIEWER,), (Role.ADMIN,)):
        actions = case_actions(operator(*roles), case(CaseType.DATA_SUBJECT_REQUEST), uuid.uuid4())
        assert not (actions.may_claim or actions.may_reveal or actions.may_decide or actions.may_confirm)
        assert actions.decisions == ()


def test_a_case_someone_else_holds_is_not_decided_or_revealed_here() -> None:
    actions = case_actions(operator(Role.REVIEWER), case(assignee=uuid.uuid4()), None)
    assert not (actions.may_claim or actions.may_release or actions.may_decide or actions.may_reveal)


def test_ones_own_claim_can_be_released() -> None:
    me = operator(Role.REVIEWER)
    actions = case_actions(me, case(assignee=me.operator_id), None)
    assert actions.may_release and actions.may_decide and not actions.may_claim


def test_the_original_decider_may_not_decide_the_appeal() -> None:
    me = operator(Role.REVIEWER)
    appeal = case(CaseType.APPEAL, CaseState.APPEAL_OPEN, excluded=(me.operator_id,), appealed=CaseType.REAL_NAME)
    assert not case_actions(me, appeal, None).may_decide
    other = case_actions(operator(Role.REVIEWER), appeal, None)
    assert other.may_decide
    assert {decision for decision, _ in other.decisions} == {DecisionKind.UPHOLD, DecisionKind.OVERTURN}


def test_a_staged_decision_is_confirmed_by_another_senior_reviewer_only() -> None:
    senior = operator(Role.SENIOR_REVIEWER)
    waiting = case(state=CaseState.PENDING_SECOND_APPROVAL, assignee=uuid.uuid4())
    assert case_actions(senior, waiting, uuid.uuid4()).may_confirm
    assert not case_actions(senior, waiting, senior.operator_id).may_confirm  # one's own
    assert not case_actions(operator(Role.REVIEWER), waiting, uuid.uuid4()).may_confirm  # the role
    # While it waits, no decision is offered to anyone: the table has none from that state.
    assert case_actions(senior, case(state=CaseState.PENDING_SECOND_APPROVAL), uuid.uuid4()).decisions == ()


def test_a_closed_case_offers_nothing() -> None:
    actions = case_actions(operator(Role.REVIEWER), case(state=CaseState.APPROVED), None)
    assert not (actions.may_claim or actions.may_reveal or actions.may_decide or actions.may_release)
