"""Which operator may work which case: the case type's roles (an appeal's are those of the case
appealed), appeals' excluded deciders, claims, and who may confirm a staged decision."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from service.audit import AuditEntry, AuditTrail
from service.cases import store
from service.cases.cases import case_not_found
from service.cases.catalogue import CASE_TYPES, REASONS, CaseType, CaseTypeSpec, ReasonCode
from service.cases.records import Case
from service.cases.states import OPEN_STATES, TRANSITIONS, DecisionKind
from service.errors import Conflict, Forbidden
from service.operators.auth import OperatorPrincipal


def spec_for(case: Case) -> CaseTypeSpec:
    return CASE_TYPES[case.appealed_case_type or case.case_type]


def workable_types(operator: OperatorPrincipal) -> list[CaseType]:
    return [case_type for case_type, spec in CASE_TYPES.items() if operator.has_any(spec.workers)]


async def visible_case(conn: asyncpg.Connection, operator: OperatorPrincipal, case_id: UUID) -> Case:
    """The case, if this operator's roles cover its type."""
    case = await store.fetch(conn, case_id)
    if case is None:
        raise case_not_found()
    ensure_may_see(operator, case)
    return case


async def case_to_reveal(conn: asyncpg.Connection, operator: OperatorPrincipal, case_id: UUID) -> Case:
    """The case whose personal values (masked evidence, documents, photos) this operator may see in
    clear now: only while it is open, and only by someone who may decide it."""
    case = await visible_case(conn, operator, case_id)
    ensure_may_decide(operator, case)
    if case.state not in OPEN_STATES:
        raise Conflict("case_closed", "Personal values of a closed case are not shown")
    return case


@dataclass(frozen=True)
class CaseActions:
    """What this operator may do with the case now, by the same checks the decisions make: what a
    page (the console's) offers, never a second copy of the rules."""

    may_claim: bool
    may_release: bool
    may_decide: bool
    may_confirm: bool
    # Reveal a masked value (with a reason, audited): as ``case_to_reveal`` allows.
    may_reveal: bool
    # Each decision the case's type allows in its state, with the reason codes for it.
    decisions: tuple[tuple[DecisionKind, tuple[ReasonCode, ...]], ...]


def _passes(check: Callable[[], None]) -> bool:
    try:
        check()
    except (Forbidden, Conflict):
        return False
    return True


def case_actions(operator: OperatorPrincipal, case: Case, staged_by: UUID | None) -> CaseActions:
    may_work = case.state in OPEN_STATES and _passes(lambda: ensure_may_decide(operator, case))
    decisions = tuple(
        (decision, tuple(reason for reason in REASONS.values() if decision in reason.decisions))
        for decision in sorted(CASE_TYPES[case.case_type].decisions)
        if (case.state, decision.event) in TRANSITIONS
    )
    return CaseActions(
        may_claim=may_work and case.assignee_id is None,
        may_release=case.state in OPEN_STATES and case.assignee_id == operator.operator_id,
        may_decide=may_work and bool(decisions),
        may_confirm=staged_by is not None
        and staged_by != operator.operator_id
        and _passes(lambda: ensure_may_confirm(operator, case)),
        may_reveal=may_work,
        decisions=decisions if may_work else (),
    )


def ensure_may_see(operator: OperatorPrincipal, case: Case) -> None:
    if not operator.has_any(spec_for(case).workers):
        raise Forbidden("case_type_not_allowed", "Your roles do not cover this type of case")


def may_see(operator: OperatorPrincipal, case: Case) -> bool:
    return _passes(lambda: ensure_may_see(operator, case))


def ensure_may_decide(operator: OperatorPrincipal, case: Case) -> None:
    ensure_may_see(operator, case)
    if operator.operator_id in case.excluded_operator_ids:
        raise Forbidden("excluded_from_case", "You decided the original case; another operator must review the appeal")
    if case.assignee_id not in (None, operator.operator_id):
        raise Conflict("case_claimed_by_other", "Another operator has claimed this case")


def ensure_may_confirm(operator: OperatorPrincipal, case: Case) -> None:
    """A second approver confirms what the claimant staged, so claims do not bind them."""
    ensure_may_see(operator, case)
    if operator.operator_id in case.excluded_operator_ids:
        raise Forbidden("excluded_from_case", "You decided the original case")
    if not operator.has_any(spec_for(case).confirmers):
        raise Forbidden("cannot_confirm_this_type", "Your roles cannot confirm decisions on this type of case")


@asynccontextmanager
async def refusals_audited(audit: AuditTrail, operator: OperatorPrincipal, case_id: UUID) -> AsyncIterator[None]:
    """Record every refusal to work a case, as the guard records refused endpoints."""
    try:
        yield
    except Forbidden as exc:
        await audit.append_alone(
            AuditEntry(operator.actor, "operator.access_denied", "case", str(case_id), {"code": exc.code})
        )
        raise
