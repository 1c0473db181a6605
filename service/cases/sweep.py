"""The scheduled sweep over overdue cases.

A case waiting for the user's resubmission past its due time expires; a case waiting for an
operator past its SLA is escalated to the top priority (people decide it, never the clock).
"""

from __future__ import annotations

from dataclasses import dataclass

from service.audit import Actor, AuditEntry
from service.cases import store
from service.cases.cases import lock_case, transition
from service.cases.states import CaseEvent, CaseState
from service.jobs.runner import ScheduledJob
from service.runtime import Runtime

SWEEPER = Actor.system("cases.sweep")
WAITING_FOR_USER = [CaseState.RESUBMISSION_REQUESTED.value]
WAITING_FOR_OPERATOR = [
    CaseState.IN_REVIEW.value,
    CaseState.APPEAL_OPEN.value,
    CaseState.PENDING_SECOND_APPROVAL.value,
]
BATCH = 200


@dataclass(frozen=True)
class SweepResult:
    expired: int
    escalated: int


async def sweep_overdue(runtime: Runtime) -> SweepResult:
    expired = escalated = 0
    while True:
        async with runtime.database.transaction() as conn:
            ids = await store.lock_overdue(conn, WAITING_FOR_USER, BATCH)
            for case_id in ids:
                case = await lock_case(conn, case_id)
                await transition(conn, case, CaseEvent.EXPIRE, SWEEPER, reason_code="expired_without_response")
        expired += len(ids)
        if len(ids) < BATCH:
            break
    while True:
        async with runtime.database.transaction() as conn:
            overdue = await store.lock_overdue(conn, WAITING_FOR_OPERATOR, BATCH, below_top_priority=True)
            raised = await store.escalate(conn, overdue)
            for case_id in raised:
                await runtime.audit.append(conn, AuditEntry(SWEEPER, "case.escalated", "case", str(case_id)))
        escalated += len(raised)
        if len(overdue) < BATCH:
            break
    return SweepResult(expired, escalated)


def sweep_schedule(runtime: Runtime) -> ScheduledJob:
    async def run() -> None:
        await sweep_overdue(runtime)

    return ScheduledJob("cases.sweep_overdue", "*/15 * * * *", run)
