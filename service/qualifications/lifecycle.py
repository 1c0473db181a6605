"""Qualifications in force come to an end: expired by a scheduled job, or revoked by an operator.
Documents that are no longer needed are erased by the same job."""

from __future__ import annotations

from uuid import UUID

from service.audit import Actor, AuditEntry
from service.audit.entries import DetailValue
from service.documents import store as documents
from service.errors import Conflict, NotFound, invalid_field
from service.jobs.runner import ScheduledJob
from service.operators.auth import OperatorPrincipal
from service.qualifications import store
from service.qualifications.states import (
    IllegalQualificationTransition,
    QualificationEvent,
    QualificationState,
    next_state,
)
from service.runtime import Runtime

EXPIRER = Actor.system("qualifications.expiry")

# Why an operator revokes a qualification in force; the user reads the message.
REVOCATION_REASONS: dict[str, str] = {
    "employment_ended": "The organization told us you no longer hold this position.",
    "document_invalid": "A document this qualification relied on turned out not to be valid.",
    "issuer_revoked": "The issuer of the qualification revoked it.",
}


async def revoke(
    runtime: Runtime, operator: OperatorPrincipal, qualification_id: UUID, reason_code: str, note: str | None
) -> QualificationState:
    if reason_code not in REVOCATION_REASONS:
        raise invalid_field("reason_code", "reason_not_allowed", f"'{reason_code}' is not a revocation reason")
    async with runtime.database.transaction() as conn:
        row = await store.lock(conn, qualification_id)
        if row is None:
            raise NotFound("qualification_not_found", "No such qualification")
        try:
            after = next_state(row.status, QualificationEvent.REVOKE)
        except IllegalQualificationTransition:
            raise Conflict("not_in_force", "Only a qualification in force can be revoked") from None
        await store.set_state(conn, qualification_id, after, end_reason=reason_code)
        details: dict[str, DetailValue] = {"reason_code": reason_code, "noted": note is not None}
        await runtime.audit.append(
            conn, AuditEntry(operator.actor, "qualification.revoked", "qualification", str(qualification_id), details)
        )
    return after


async def expire_and_erase(runtime: Runtime) -> tuple[int, int]:
    """(qualifications expired, documents erased)."""
    today = runtime.settings.today()
    async with runtime.database.transaction() as conn:
        due = await store.due_to_expire(conn, today)
        for qualification_id in due:
            await store.set_state(conn, qualification_id, QualificationState.EXPIRED, end_reason="validity_ended")
            await runtime.audit.append(
                conn, AuditEntry(EXPIRER, "qualification.expired", "qualification", str(qualification_id))
            )
        unneeded = await store.documents_no_longer_needed(conn, runtime.settings.case_appeal_window)
        erased = await documents.erase(conn, unneeded)
    return len(due), erased


def expiry_schedule(runtime: Runtime) -> ScheduledJob:
    async def run() -> None:
        await expire_and_erase(runtime)

    return ScheduledJob("qualifications.expire", "7 * * * *", run)
