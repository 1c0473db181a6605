"""Operators comparing the two photos of a face case in the grey band: only while the case is
open and theirs to decide, with a reason, audited."""

from __future__ import annotations

from uuid import UUID

from service.audit import AuditEntry
from service.cases.access import case_to_reveal
from service.cases.schemas import RevealReason
from service.errors import NotFound
from service.face import store
from service.face.keys import biometric_key_owner
from service.operators.auth import OperatorPrincipal
from service.runtime import Runtime
from service.vault.labels import FieldFamily

# Every image a face case keeps is re-encoded as a JPEG before it is sealed (verification._encode).
IMAGE_MEDIA_TYPE = "image/jpeg"


async def face_image_roles(runtime: Runtime, operator: OperatorPrincipal, case_id: UUID) -> list[str]:
    """Which images the case under review keeps (names only: the document and every frame)."""
    async with runtime.database.connection() as conn:
        case = await case_to_reveal(conn, operator, case_id)
        return await store.sample_roles_for_case(conn, case.id)


async def open_face_image(
    runtime: Runtime, operator: OperatorPrincipal, case_id: UUID, role: str, reason: RevealReason
) -> bytes:
    async with runtime.database.transaction() as conn:
        case = await case_to_reveal(conn, operator, case_id)
        sample = await store.sample_for_case(conn, case.id, role)
        if sample is None:
            raise NotFound("image_not_found", "This case keeps no such image")
        cipher = await runtime.vault.open(conn, biometric_key_owner(sample.verification_id))
        image = cipher.open(FieldFamily.FACE_SAMPLE.of(role), sample.content)
        details = {"image": role, "reason": reason.value, "child": case.subject_is_child}
        await runtime.audit.append(
            conn, AuditEntry(operator.actor, "case.face_image_opened", "case", str(case.id), details)
        )
    return image
