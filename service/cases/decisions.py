"""Operators' decisions, with four eyes where configured.

A decision that needs a second pair of eyes is staged: the case waits in
``pending_second_approval`` until a different senior reviewer confirms it (or sends it back).
Evidence that changes after staging cancels the staged decision (see cases.replace_evidence);
confirming also checks the evidence version, in case the change raced the confirmation.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from uuid import UUID

import asyncpg

from service.audit import AuditEntry, record_digest
from service.audit.entries import DetailValue
from service.cases import store
from service.cases.access import ensure_may_confirm, ensure_may_decide, ensure_may_see
from service.cases.cases import case_digest_fields, lock_case, transition
from service.cases.catalogue import ALWAYS_FOUR_EYES, CASE_TYPES, REASONS, CaseType
from service.cases.outcomes import FALSE_INFORMATION_REASON
from service.cases.queue import take_claim
from service.cases.records import Case, StagedDecision
from service.cases.schemas import DecisionOutcome
from service.cases.states import CaseEvent, CaseState, DecisionKind
from service.errors import Conflict, Forbidden, invalid_field
from service.operators.auth import OperatorPrincipal
from service.runtime import Runtime
from service.settings import Settings
from service.vault.labels import VaultField

# What an appeal's outcome amounts to for the case appealed: overturning a rejection approves it.
_AMOUNTS_TO = {DecisionKind.OVERTURN: DecisionKind.APPROVE, DecisionKind.UPHOLD: DecisionKind.REJECT}


def needs_second_approval(settings: Settings, case: Case, decision: DecisionKind, reason_code: str) -> bool:
    four_eyes = settings.four_eyes_decisions
    effect = _AMOUNTS_TO.get(decision, decision)
    return (
        # Suspending or ending an account is drastic: never on one operator's word, whatever the settings.
        reason_code == FALSE_INFORMATION_REASON
        or case.case_type in ALWAYS_FOUR_EYES
        or decision.value in four_eyes
        or effect.value in four_eyes
        or (case.subject_is_child and "child_data" in four_eyes)
    )


# Case types whose refusals the subject reads in the operator's own words (rights requests).
EXPLAINED_TO_SUBJECT = frozenset({CaseType.DATA_SUBJECT_REQUEST})


def _check_decision(settings: Settings, case: Case, decision: DecisionKind, reason_code: str, note: str | None) -> None:
    if case.case_type in EXPLAINED_TO_SUBJECT and decision is DecisionKind.REJECT and not (note and note.strip()):
        raise invalid_field("note", "reasons_required", "a refused rights request needs written reasons")
    if decision not in CASE_TYPES[case.case_type].decisions:
        raise invalid_field(
            "decision", "decision_not_allowed", f"a {case.case_type} case cannot be decided '{decision}'"
        )
    reason = REASONS.get(reason_code)
    if reason is None or decision not in reason.decisions:
        raise invalid_field("reason_code", "reason_not_allowed", f"'{reason_code}' is not a reason for '{decision}'")
    if decision is DecisionKind.REQUEST_RESUBMISSION and case.resubmissions >= settings.case_max_resubmissions:
        raise Conflict(
            "resubmission_cap_reached", "This case has had all the resubmissions allowed; approve or reject it"
        )


async def _apply_effects(conn: asyncpg.Connection, case: Case, state: CaseState, operator: OperatorPrincipal) -> None:
    """What a final decision does beyond the case itself."""
    if case.case_type is CaseType.APPEAL and state is CaseState.OVERTURNED and case.parent_case_id is not None:
        parent = await lock_case(conn, case.parent_case_id)
        ensure_may_see(operator, parent)
        await transition(
            conn, parent, CaseEvent.OVERTURNED_ON_APPEAL, operator.actor, reason_code=case.reason_code or None
        )


def _audit(
    operator: OperatorPrincipal, action: str, case: Case, after: CaseState, details: Mapping[str, DetailValue]
) -> AuditEntry:
    return AuditEntry(
        operator.actor,
        action,
        "case",
        str(case.id),
        details,
        before_hash=record_digest(case_digest_fields(case)),
        after_hash=record_digest(case_digest_fields(case, after)),
    )


async def decide(
    runtime: Runtime,
    operator: OperatorPrincipal,
    case_id: UUID,
    decision: DecisionKind,
    reason_code: str,
    note: str | None,
    *,
    claim: bool = False,
) -> DecisionOutcome:
    async with runtime.database.transaction() as conn:
        # The row lock makes two operators deciding at once take turns; the second finds the
        # case already decided and is refused by the transition table.
        case = await lock_case(conn, case_id)
        ensure_may_decide(operator, case)
        _check_decision(runtime.settings, case, decision, reason_code, note)
        # Whoever decides holds the case: the queue shows who works what, and nobody decides a
        # case from a list of ids without having taken it (and so opened it) first.
        if case.assignee_id is None:
            if not claim:
                raise Conflict(
                    "case_not_claimed",
                    "Claim the case before deciding it",
                    "or send claim: true with the decision",
                )
            await take_claim(conn, runtime.audit, operator, case)
        cipher = await runtime.vault.open(conn, case.subject_account_id)
        sealed_note = cipher.seal_text(VaultField.CASE_NOTE, note) if note else None
        if needs_second_approval(runtime.settings, case, decision, reason_code):
            staged_id = uuid.uuid4()
            after = await transition(
                conn, case, CaseEvent.STAGE, operator.actor, reason_code=reason_code, note=sealed_note
            )
            await store.stage(
                conn,
                staged_id=staged_id,
                case_id=case.id,
                decision=decision,
                reason_code=reason_code,
                note=sealed_note,
                staged_by=operator.operator_id,
                evidence_version=case.evidence_version,
            )
            details = {"decision": decision.value, "reason_code": reason_code, "staged_decision_id": str(staged_id)}
            await runtime.audit.append(conn, _audit(operator, "case.decision_staged", case, after, details))
            return DecisionOutcome(case.id, after, staged=True, staged_decision_id=staged_id)
        after = await transition(conn, case, decision.event, operator.actor, reason_code=reason_code, note=sealed_note)
        await _apply_effects(conn, await lock_case(conn, case.id), after, operator)
        details = {"decision": decision.value, "reason_code": reason_code}
        await runtime.audit.append(conn, _audit(operator, "case.decided", case, after, details))
        return DecisionOutcome(case.id, after, staged=False)


async def _staged_for_second_operator(
    conn: asyncpg.Connection, operator: OperatorPrincipal, case_id: UUID
) -> tuple[Case, StagedDecision]:
    """The locked case and its staged decision, if this operator may act on it as the second."""
    case = await lock_case(conn, case_id)
    ensure_may_confirm(operator, case)
    staged = await store.pending_staged(conn, case.id)
    if staged is None:
        raise Conflict("nothing_staged", "No decision is waiting for confirmation on this case")
    if staged.staged_by == operator.operator_id:
        raise Forbidden("four_eyes_same_operator", "A different operator must confirm your decision")
    return case, staged


async def confirm(runtime: Runtime, operator: OperatorPrincipal, case_id: UUID) -> DecisionOutcome:
    async with runtime.database.transaction() as conn:
        case, staged = await _staged_for_second_operator(conn, operator, case_id)
        resolver = f"operator:{operator.operator_id}"
        if staged.evidence_version != case.evidence_version:
            await store.resolve_staged(conn, staged.id, "cancelled", resolver)
            after = await transition(conn, case, CaseEvent.EVIDENCE_CHANGED, operator.actor)
            details = {"staged_decision_id": str(staged.id), "cause": "evidence_changed"}
            await runtime.audit.append(conn, _audit(operator, "case.staged_decision_cancelled", case, after, details))
            evidence_changed = True
        else:
            decision = staged.decision
            after = await transition(
                conn,
                case,
                decision.confirmation,
                operator.actor,
                reason_code=staged.reason_code,
                note=staged.note,
            )
            await store.resolve_staged(conn, staged.id, "confirmed", resolver)
            await _apply_effects(conn, await lock_case(conn, case.id), after, operator)
            details = {"staged_decision_id": str(staged.id), "decision": decision.value}
            await runtime.audit.append(conn, _audit(operator, "case.decision_confirmed", case, after, details))
            evidence_changed = False
    if evidence_changed:
        # Raised after the commit: the cancellation itself must stay recorded.
        raise Conflict(
            "evidence_changed", "The evidence changed after the decision was staged; the case is back in review"
        )
    return DecisionOutcome(case.id, after, staged=False)


async def send_back(runtime: Runtime, operator: OperatorPrincipal, case_id: UUID, note: str | None) -> DecisionOutcome:
    async with runtime.database.transaction() as conn:
        case, staged = await _staged_for_second_operator(conn, operator, case_id)
        cipher = await runtime.vault.open(conn, case.subject_account_id)
        sealed_note = cipher.seal_text(VaultField.CASE_NOTE, note) if note else None
        after = await transition(conn, case, CaseEvent.SEND_BACK, operator.actor, note=sealed_note)
        await store.resolve_staged(conn, staged.id, "sent_back", f"operator:{operator.operator_id}")
        details = {"staged_decision_id": str(staged.id)}
        await runtime.audit.append(conn, _audit(operator, "case.staged_decision_sent_back", case, after, details))
        return DecisionOutcome(case.id, after, staged=False)
