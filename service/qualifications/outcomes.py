"""What a qualification case's outcome does to the qualification."""

from __future__ import annotations

import asyncpg

from service.cases.records import Case
from service.cases.states import CaseState
from service.qualifications import store
from service.qualifications.states import (
    IllegalQualificationTransition,
    QualificationEvent,
    next_state,
)

EVENT_FOR_CASE_STATE: dict[CaseState, QualificationEvent] = {
    CaseState.APPROVED: QualificationEvent.APPROVE,
    CaseState.REJECTED: QualificationEvent.REJECT,
    CaseState.RESUBMISSION_REQUESTED: QualificationEvent.REOPEN,
    CaseState.WITHDRAWN: QualificationEvent.WITHDRAW,
    CaseState.EXPIRED: QualificationEvent.WITHDRAW,
}

_END_REASONS = {CaseState.WITHDRAWN: "withdrawn_by_user", CaseState.EXPIRED: "expired_without_response"}


async def qualification_case_changed(conn: asyncpg.Connection, case: Case, after: CaseState) -> None:
    event = EVENT_FOR_CASE_STATE.get(after)
    row = await store.lock_for_case(conn, case.id) if event else None
    if event is None or row is None:
        return
    try:
        state = next_state(row.status, event)
    except IllegalQualificationTransition:
        return
    decided = event in (QualificationEvent.APPROVE, QualificationEvent.REJECT)
    end_reason = _END_REASONS.get(after)
    await store.set_state(conn, row.id, state, decided=decided, end_reason=end_reason)
