"""Operators comparing the two photos of a face case in the grey band: only while the case is
open and theirs to decide, with a reason, audited."""

from __future__ import annotations

from uuid import UUID

from service.audit import AuditEntry
from service.cases import store as cases
from service.cases.access import ensure_may_decide, ensure_may_see
from service.cases.cases import Case, case_not_found
from service.cases.schemas import RevealReason
from service.cases.states import OPEN_STATES
from service.face import store
from service.face.keys import biometric_key_owner
from service.http.problems import ProblemError
from service.operators.auth import OperatorPrincipal
from service.runtime import Runtime

ROLES = ("document", "live")


async def open_face_image(
    runtime: Runtime, operator: OperatorPrincipal, case_id: UUID, role: str, reason: RevealReason
) -> bytes:
    async with runtime.database.transaction() as conn:
        row = await cases.fetch(conn, case_id)
        if row is None:
            raise case_not_found()
        case = Case.from_row(row)
        ensure_may_see(operator, case)
        ensure_may_decide(operator, case)
        if case.state not in OPEN_STATES:
            raise ProblemError(409, "case_closed", "Images of a closed case are not shown")
        sample = await store.sample_for_case(conn, case.id, role)
        if sample is None:
            raise ProblemError(404, "image_not_found", "This case keeps no such image")
        cipher = await runtime.vault.open(conn, biometric_key_owner(sample["verification_id"]))
        image = cipher.open(f"face.sample.{role}", sample["content"])
        details = {"image": role, "reason": reason.value, "child": case.subject_is_child}
        await runtime.audit.append(
            conn, AuditEntry(operator.actor, "case.face_image_opened", "case", str(case.id), details)
        )
    return image
