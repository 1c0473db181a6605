"""The subject's side of cases: seeing one's own, withdrawing, appealing, resubmitting."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from service.audit import Actor, AuditEntry
from service.cases import store
from service.cases.cases import case_not_found, lock_case, open_case, replace_evidence, transition
from service.cases.catalogue import CaseType, SubjectRight, subject_may, user_message
from service.cases.decisions import EXPLAINED_TO_SUBJECT
from service.cases.records import Case
from service.cases.schemas import Evidence, OwnCase
from service.cases.states import CaseEvent, CaseState
from service.errors import Conflict
from service.runtime import Runtime
from service.settings import Settings
from service.vault import Vault
from service.vault.labels import VaultField


def _can_appeal(settings: Settings, case: Case, appeal_case_id: UUID | None, now: datetime) -> bool:
    return (
        subject_may(case.case_type, SubjectRight.APPEAL)
        and case.state is CaseState.REJECTED
        and appeal_case_id is None
        and case.closed_at is not None
        and now - case.closed_at <= settings.case_appeal_window
    )


async def _explanation(conn: asyncpg.Connection, runtime: Runtime, case: Case) -> str | None:
    """The written reasons of a decided rights request, which its subject reads as written."""
    if case.case_type not in EXPLAINED_TO_SUBJECT or case.closed_at is None:
        return None
    note = await store.final_note(conn, case.id)
    if note is None:
        return None
    cipher = await runtime.vault.open(conn, case.subject_account_id)
    return cipher.open_text(VaultField.CASE_NOTE, note)


async def own_cases(runtime: Runtime, account_id: UUID) -> list[OwnCase]:
    now = datetime.now(UTC)
    result = []
    async with runtime.database.connection() as conn:
        visible = [own for own in await store.for_subject(conn, account_id) if _visible(own.case)]
        explanations = {own.case.id: await _explanation(conn, runtime, own.case) for own in visible}
    for own in visible:
        case = own.case
        result.append(
            OwnCase(
                case_id=case.id,
                case_type=case.case_type,
                state=case.state,
                message=user_message(case.reason_code),
                created_at=case.created_at,
                updated_at=case.updated_at,
                can_appeal=_can_appeal(runtime.settings, case, own.appeal_case_id, now),
                appeal_case_id=own.appeal_case_id,
                parent_case_id=case.parent_case_id,
                due_at=None if case.closed_at else case.due_at,
                explanation=explanations[case.id],
            )
        )
    return result


def _visible(case: Case) -> bool:
    """Cases against the person (termination) show only once decided; their own requests always."""
    return case.closed_at is not None or subject_may(case.case_type, SubjectRight.SEE_OPEN)


async def _own_locked(conn: asyncpg.Connection, account_id: UUID, case_id: UUID) -> Case:
    case = await lock_case(conn, case_id)
    if case.subject_account_id != account_id or not _visible(case):
        # The same answer as for a case that does not exist: ids of others' cases reveal nothing,
        # and neither do ids of cases the subject may not see yet.
        raise case_not_found()
    return case


async def appeal(runtime: Runtime, actor: Actor, account_id: UUID, case_id: UUID, statement: str) -> UUID:
    """Open an appeal against a rejection, to be judged by someone who did not decide it."""
    async with runtime.database.transaction() as conn:
        case = await _own_locked(conn, account_id, case_id)
        existing = await store.appeal_of(conn, case.id)
        if not _can_appeal(runtime.settings, case, existing, datetime.now(UTC)):
            raise Conflict(
                "appeal_not_possible",
                "Only a rejection can be appealed, once, within the appeal window",
            )
        deciders = await store.deciders(conn, case.id)
        opened = await open_case(
            conn,
            runtime.vault,
            case_type=CaseType.APPEAL,
            subject_account_id=account_id,
            evidence=[Evidence("statement", statement, f"appeal statement, {len(statement)} characters")],
            actor=actor,
            subject_is_child=case.subject_is_child,
            priority=max(1, case.priority - 1),
            parent_case_id=case.id,
            appealed_case_type=case.case_type,
            excluded_operator_ids=deciders,
        )
        await runtime.audit.append(
            conn, AuditEntry(actor, "case.appealed", "case", str(case.id), {"appeal_case_id": str(opened.id)})
        )
        return opened.id


async def withdraw(runtime: Runtime, actor: Actor, account_id: UUID, case_id: UUID) -> CaseState:
    async with runtime.database.transaction() as conn:
        case = await _own_locked(conn, account_id, case_id)
        if not subject_may(case.case_type, SubjectRight.WITHDRAW):
            raise Conflict("withdrawal_not_possible", f"A {case.case_type} case cannot be withdrawn")
        return await transition(conn, case, CaseEvent.WITHDRAW, actor, reason_code="withdrawn_by_user")


async def resubmit(runtime: Runtime, actor: Actor, account_id: UUID, case_id: UUID, evidence: list[Evidence]) -> Case:
    """New evidence after an operator asked for it; the case starts over at its checks.
    Verification capabilities call this from their own resubmission endpoints."""
    async with runtime.database.transaction() as conn:
        case = await _own_locked(conn, account_id, case_id)
        return await resubmit_case(conn, runtime.vault, runtime.settings, case, evidence, actor)


async def resubmit_case(
    conn: asyncpg.Connection, vault: Vault, settings: Settings, case: Case, evidence: list[Evidence], actor: Actor
) -> Case:
    """``resubmit`` in the caller's transaction, for a case already locked and known to be the caller's."""
    if case.resubmissions >= settings.case_max_resubmissions:
        raise Conflict("resubmission_cap_reached", "No more resubmissions are allowed for this case")
    await transition(conn, case, CaseEvent.RESUBMIT, actor)
    await store.count_resubmission(conn, case.id)
    await replace_evidence(conn, vault, await lock_case(conn, case.id), evidence, actor)
    resubmitted = await lock_case(conn, case.id)
    await transition(conn, resubmitted, CaseEvent.START_CHECKS, Actor.system("cases"))
    return await lock_case(conn, case.id)
