"""The operators' side of cases: the queue, claims, the case view and revealing evidence.

Every read of a case is audited, and so is every reveal of a masked value with its reason.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from service.audit import AuditEntry, AuditTrail, record_digest
from service.audit.entries import ActorKind, DetailValue
from service.cases import store
from service.cases.access import (
    CaseActions,
    case_actions,
    case_to_reveal,
    ensure_may_decide,
    ensure_may_see,
    may_see,
    visible_case,
    workable_types,
)
from service.cases.cases import case_digest_fields, lock_case
from service.cases.records import Case, CaseHistoryEvent, QueueCount, QueuePosition
from service.cases.schemas import (
    AppealedCase,
    CaseDetail,
    CaseHistoryEntry,
    CaseSummary,
    EvidenceView,
    RevealedEvidence,
    RevealReason,
    StagedDecisionView,
)
from service.cases.states import OPEN_STATES, CaseState
from service.errors import Conflict, FieldProblem, NotFound, Rejected
from service.operators.auth import OperatorPrincipal
from service.runtime import Runtime
from service.vault import OwnerCipher
from service.vault.labels import FieldFamily, VaultField


def summary(case: Case) -> CaseSummary:
    return CaseSummary(
        case_id=case.id,
        case_type=case.case_type,
        state=case.state,
        priority=case.priority,
        due_at=case.due_at,
        subject_account_id=case.subject_account_id,
        subject_is_child=case.subject_is_child,
        assignee_id=case.assignee_id,
        created_at=case.created_at,
    )


@dataclass(frozen=True)
class QueuePage:
    cases: list[CaseSummary]
    # Where the next page starts (pass as ``after``); None when this page is the last.
    next_cursor: str | None


# A cursor is the last case's position in the queue's order (priority, due_at, id), encoded: clients
# pass it back as it is. It is a position, not a snapshot: a case decided meanwhile leaves the queue
# and one whose priority rose past the position is seen on the next first page, not on this walk.
def queue_cursor(case: CaseSummary) -> str:
    position = QueuePosition(case.priority, case.due_at, case.case_id)
    return base64.urlsafe_b64encode(msgspec.json.encode(position)).rstrip(b"=").decode()


def queue_position(cursor: str) -> QueuePosition:
    """The position a cursor names; `Rejected` (400, a problem on ``after``) for anything else."""
    try:
        position = msgspec.json.decode(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)), type=QueuePosition)
    except (ValueError, msgspec.DecodeError):
        position = None
    if position is None or not -32768 <= position.priority <= 32767 or position.due_at.tzinfo is None:
        raise Rejected(
            "invalid_parameters",
            "The request has invalid parameters",
            errors=[FieldProblem("after", "invalid_cursor", "pass the cursor of the previous page as it was given")],
        )
    return position


async def queue_page(
    runtime: Runtime,
    operator: OperatorPrincipal,
    *,
    case_type: str | None,
    state: CaseState | None,
    due_before: datetime | None,
    mine: bool,
    unassigned: bool,
    limit: int,
    after: str | None = None,
) -> QueuePage:
    """A page of the queue in its order (priority, due time, id), past the cursor ``after``."""
    position = queue_position(after) if after is not None else None
    states = [state.value] if state else [s.value for s in OPEN_STATES]
    async with runtime.database.connection() as conn:
        cases = await store.queue(
            conn,
            workable_types=[t.value for t in workable_types(operator)],
            case_type=case_type,
            states=states,
            due_before=due_before,
            assignee=operator.operator_id if mine else None,
            unassigned=unassigned,
            limit=limit + 1,  # one more tells whether there is a next page
            open_only=state is None or state in OPEN_STATES,
            any_open_state=state is None,
            after=position,
        )
    page = [summary(case) for case in cases[:limit]]
    return QueuePage(page, queue_cursor(page[-1]) if len(cases) > limit else None)


async def queue_counts(runtime: Runtime, operator: OperatorPrincipal) -> list[QueueCount]:
    """Per case type this operator may work: its open cases, how many are past due, how many unclaimed."""
    async with runtime.database.connection() as conn:
        return await store.open_counts(conn, [t.value for t in workable_types(operator)])


async def claim(runtime: Runtime, operator: OperatorPrincipal, case_id: UUID) -> CaseSummary:
    async with runtime.database.transaction() as conn:
        case = await lock_case(conn, case_id)
        ensure_may_decide(operator, case)
        if case.state not in OPEN_STATES:
            raise Conflict("case_closed", "This case is closed")
        await take_claim(conn, runtime.audit, operator, case)
        return summary(await lock_case(conn, case_id))


async def take_claim(conn: asyncpg.Connection, audit: AuditTrail, operator: OperatorPrincipal, case: Case) -> None:
    """Assign the locked case to the operator (the caller checked they may decide it), audited."""
    if case.assignee_id == operator.operator_id:
        return
    await store.assign(conn, case.id, operator.operator_id)
    await audit.append(
        conn,
        AuditEntry(
            operator.actor, "case.claimed", "case", str(case.id), before_hash=record_digest(case_digest_fields(case))
        ),
    )


async def release(runtime: Runtime, operator: OperatorPrincipal, case_id: UUID) -> CaseSummary:
    async with runtime.database.transaction() as conn:
        case = await lock_case(conn, case_id)
        ensure_may_see(operator, case)
        if case.assignee_id != operator.operator_id:
            raise Conflict("case_not_claimed_by_you", "You have not claimed this case")
        await store.assign(conn, case.id, None)
        await runtime.audit.append(conn, AuditEntry(operator.actor, "case.released", "case", str(case.id)))
        return summary(await lock_case(conn, case_id))


async def view(runtime: Runtime, operator: OperatorPrincipal, case_id: UUID) -> CaseDetail:
    detail, _ = await workbench(runtime, operator, case_id)
    return detail


async def workbench(runtime: Runtime, operator: OperatorPrincipal, case_id: UUID) -> tuple[CaseDetail, CaseActions]:
    """The case as ``view`` shows it (audited), with what this operator may do with it now."""
    async with runtime.database.transaction() as conn:
        case = await visible_case(conn, operator, case_id)
        cipher = await runtime.vault.open(conn, case.subject_account_id)
        evidence = await store.evidence(conn, case.id)
        events = await store.events(conn, case.id)
        staged = await store.pending_staged(conn, case.id)
        await runtime.audit.append(
            conn,
            AuditEntry(operator.actor, "case.viewed", "case", str(case.id), {"child": case.subject_is_child}),
        )
    detail = CaseDetail(
        summary=summary(case),
        parent_case_id=case.parent_case_id,
        resubmissions=case.resubmissions,
        evidence_version=case.evidence_version,
        evidence=[EvidenceView(item.name, item.masked, item.version) for item in evidence],
        automated_results=case.automated_results,
        history=_history(cipher, events),
        staged_decision=StagedDecisionView(
            staged_decision_id=staged.id,
            decision=staged.decision,
            reason_code=staged.reason_code,
            staged_by=staged.staged_by,
            staged_at=staged.staged_at,
            note=cipher.open_optional(VaultField.CASE_NOTE, staged.note),
        )
        if staged
        else None,
        excluded_from_deciding=operator.operator_id in case.excluded_operator_ids,
    )
    return detail, case_actions(operator, case, staged.staged_by if staged else None)


def _history(cipher: OwnerCipher, events: list[CaseHistoryEvent]) -> list[CaseHistoryEntry]:
    return [
        CaseHistoryEntry(
            event=e.event,
            from_state=e.from_state,
            to_state=e.to_state,
            actor_type=e.actor_type,
            actor_id=e.actor_id,
            reason_code=e.reason_code,
            note=cipher.open_optional(VaultField.CASE_NOTE, e.note),
            at=e.at,
        )
        for e in events
    ]


async def appealed_case(runtime: Runtime, operator: OperatorPrincipal, appeal: CaseDetail) -> AppealedCase | None:
    """The case an appeal is against, with the operators' decisions on it, to read beside the
    appeal (audited as a view of that case); None for a case that is not an appeal."""
    if appeal.parent_case_id is None:
        return None
    async with runtime.database.transaction() as conn:
        case = await visible_case(conn, operator, appeal.parent_case_id)
        cipher = await runtime.vault.open(conn, case.subject_account_id)
        events = await store.events(conn, case.id)
        details: dict[str, DetailValue] = {"child": case.subject_is_child, "beside_appeal": str(appeal.summary.case_id)}
        await runtime.audit.append(conn, AuditEntry(operator.actor, "case.viewed", "case", str(case.id), details))
    decisions = [e for e in events if e.actor_type is ActorKind.OPERATOR and e.reason_code is not None]
    return AppealedCase(summary(case), _history(cipher, decisions), case_actions(operator, case, None).may_reveal)


async def reveal(
    runtime: Runtime, operator: OperatorPrincipal, case_id: UUID, name: str, reason: RevealReason
) -> RevealedEvidence:
    async with runtime.database.transaction() as conn:
        case = await case_to_reveal(conn, operator, case_id)
        item = await store.evidence_item(conn, case.id, name)
        if item is None:
            raise NotFound("evidence_not_found", "This case has no such evidence")
        cipher = await runtime.vault.open(conn, case.subject_account_id)
        value = cipher.open_text(FieldFamily.CASE_EVIDENCE.of(name), item.value)
        await runtime.audit.append(
            conn,
            AuditEntry(
                operator.actor,
                "case.evidence_revealed",
                "case",
                str(case.id),
                {"evidence": name, "reason": reason.value, "child": case.subject_is_child},
            ),
        )
    return RevealedEvidence(name, value)


async def cases_of_subject(
    conn: asyncpg.Connection, operator: OperatorPrincipal, account_id: UUID
) -> list[CaseSummary]:
    """The account's cases, newest first, of the types this operator's roles cover (as
    ``visible_case`` allows one): an account's page lists no case its reader may not open."""
    return [summary(own.case) for own in await store.for_subject(conn, account_id) if may_see(operator, own.case)]
