"""The case model and the one way a case changes state; opening cases and changing evidence.

Other capabilities (real-name, face, minors, rights requests) open cases here and report
their automated checks; operators and users move them on through decisions.py and subjects.py.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import msgspec

from service.audit import Actor
from service.cases import store
from service.cases.catalogue import CASE_TYPES, RESUBMISSION_WINDOW, CaseType
from service.cases.outcomes import case_changed
from service.cases.records import Case
from service.cases.schemas import AutomatedResult, Evidence
from service.cases.states import CaseEvent, CaseState, IllegalCaseTransition, is_closed, next_state
from service.errors import Conflict, NotFound
from service.vault import OwnerCipher, Vault
from service.vault.labels import FieldFamily


def case_not_found() -> NotFound:
    return NotFound("case_not_found", "No such case")


def case_digest_fields(case: Case, state: CaseState | None = None) -> dict[str, str | int | None]:
    """The fields the audit's before/after hashes cover."""
    return {
        "state": (state or case.state).value,
        "assignee_id": str(case.assignee_id) if case.assignee_id else None,
        "evidence_version": case.evidence_version,
        "resubmissions": case.resubmissions,
    }


async def lock_case(conn: asyncpg.Connection, case_id: UUID) -> Case:
    case = await store.lock(conn, case_id)
    if case is None:
        raise case_not_found()
    return case


async def transition(
    conn: asyncpg.Connection,
    case: Case,
    event: CaseEvent,
    actor: Actor,
    *,
    reason_code: str | None = None,
    note: bytes | None = None,
) -> CaseState:
    """Move a (locked) case along the transition table and record the event."""
    try:
        after = next_state(case.state, event)
    except IllegalCaseTransition:
        raise Conflict(
            "illegal_transition", "The case cannot do that now", f"'{event}' is not allowed in '{case.state}'"
        ) from None
    # What the user reads follows decisions in force: staging and its undoing leave it alone.
    shown_reason = case.reason_code if event in KEEPS_SHOWN_REASON else reason_code
    await store.set_state(conn, case.id, after, shown_reason, is_closed(after))
    if after is CaseState.RESUBMISSION_REQUESTED:
        # The user now has a while to answer; the sweep job expires the case after that.
        await store.set_due(conn, case.id, datetime.now(UTC) + RESUBMISSION_WINDOW)
    elif event is CaseEvent.RESUBMIT:
        await store.set_due(conn, case.id, datetime.now(UTC) + CASE_TYPES[case.case_type].sla)
    await store.add_event(
        conn,
        case_id=case.id,
        from_state=case.state,
        to_state=after,
        event=event,
        actor_type=actor.kind.value,
        actor_id=actor.id,
        reason_code=reason_code,
        note=note,
    )
    await case_changed(conn, case, event, after, reason_code, actor)
    return after


KEEPS_SHOWN_REASON = frozenset({CaseEvent.STAGE, CaseEvent.SEND_BACK, CaseEvent.EVIDENCE_CHANGED})


def seal_evidence(cipher: OwnerCipher, evidence: list[Evidence]) -> list[tuple[str, bytes, str]]:
    return [
        (item.name, cipher.seal_text(FieldFamily.CASE_EVIDENCE.of(item.name), item.value), item.masked)
        for item in evidence
    ]


async def open_case(
    conn: asyncpg.Connection,
    vault: Vault,
    *,
    case_type: CaseType,
    subject_account_id: UUID,
    evidence: list[Evidence],
    actor: Actor,
    subject_is_child: bool = False,
    priority: int = 2,
    parent_case_id: UUID | None = None,
    appealed_case_type: CaseType | None = None,
    excluded_operator_ids: list[UUID] | None = None,
    due_in: timedelta | None = None,
) -> Case:
    """Open a case in the caller's transaction. Appeals open in ``appeal_open``; every other
    type is submitted and goes straight to its automated checks."""
    case_id = uuid.uuid4()
    appeal = case_type is CaseType.APPEAL
    opening = CaseEvent.OPEN_APPEAL if appeal else CaseEvent.OPEN
    state = next_state(None, opening)
    due_at = datetime.now(UTC) + (due_in or CASE_TYPES[case_type].sla)
    await store.insert(
        conn,
        case_id=case_id,
        case_type=case_type,
        subject_account_id=subject_account_id,
        state=state,
        priority=priority,
        due_at=due_at,
        subject_is_child=subject_is_child,
        parent_case_id=parent_case_id,
        appealed_case_type=appealed_case_type,
        excluded_operator_ids=excluded_operator_ids or [],
        automated_results="[]",
    )
    await store.add_event(
        conn,
        case_id=case_id,
        from_state=None,
        to_state=state,
        event=opening,
        actor_type=actor.kind.value,
        actor_id=actor.id,
        reason_code=None,
        note=None,
    )
    cipher = await vault.open(conn, subject_account_id)
    await store.put_evidence(conn, case_id, seal_evidence(cipher, evidence), 1)
    case = await lock_case(conn, case_id)
    if not appeal:
        await transition(conn, case, CaseEvent.START_CHECKS, Actor.system("cases"))
        case = await lock_case(conn, case_id)
    return case


AUTOMATED_OUTCOMES = frozenset({CaseEvent.AUTO_APPROVE, CaseEvent.AUTO_REJECT, CaseEvent.REFER})


async def conclude_checks(
    conn: asyncpg.Connection,
    case_id: UUID,
    outcome: CaseEvent,
    results: list[AutomatedResult],
    *,
    reason_code: str | None = None,
    engine: str = "checks",
) -> CaseState:
    """Record what the automated checks found and where that leaves the case."""
    if outcome not in AUTOMATED_OUTCOMES:
        raise ValueError(f"{outcome} is not an automated outcome")
    case = await lock_case(conn, case_id)
    await store.set_automated_results(conn, case_id, msgspec.json.encode(results).decode())
    return await transition(conn, case, outcome, Actor.system(engine), reason_code=reason_code)


async def add_automated_results(
    conn: asyncpg.Connection, case_id: UUID, results: list[AutomatedResult], actor: Actor
) -> Case:
    """More automated results for an open case after its checks concluded (a person's face compared
    during an assisted recovery), after the ones it holds. A decision staged before is cancelled, as
    for new evidence: the second operator must not confirm what the first one never saw."""
    case = await lock_case(conn, case_id)
    if case.closed_at is not None:
        raise Conflict("case_closed", "This case is already decided")
    await store.set_automated_results(conn, case_id, msgspec.json.encode([*case.automated_results, *results]).decode())
    staged = await store.pending_staged(conn, case.id)
    if staged is not None:
        await store.resolve_staged(conn, staged.id, "cancelled", actor.label)
        await transition(conn, case, CaseEvent.EVIDENCE_CHANGED, actor)
    return await lock_case(conn, case_id)


async def replace_evidence(
    conn: asyncpg.Connection, vault: Vault, case: Case, evidence: list[Evidence], actor: Actor
) -> int:
    """New evidence for a locked case. A decision staged on the old evidence is cancelled: the
    second operator must not confirm what the first one never saw."""
    version = await store.bump_evidence_version(conn, case.id)
    cipher = await vault.open(conn, case.subject_account_id)
    await store.drop_evidence_except(conn, case.id, [item.name for item in evidence])
    await store.put_evidence(conn, case.id, seal_evidence(cipher, evidence), version)
    staged = await store.pending_staged(conn, case.id)
    if staged is not None:
        await store.resolve_staged(conn, staged.id, "cancelled", actor.label)
        await transition(conn, case, CaseEvent.EVIDENCE_CHANGED, actor)
    return version
