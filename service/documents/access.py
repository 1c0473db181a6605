"""Operators opening the documents of a case: only while it is open, only by someone who may
decide it, with a reason, and audited like any revealed value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import msgspec

from service.audit import AuditEntry
from service.cases.access import case_to_reveal, visible_case
from service.cases.schemas import RevealReason
from service.documents import store
from service.errors import NotFound
from service.operators.auth import OperatorPrincipal
from service.runtime import Runtime
from service.vault.labels import VaultField
from verification.uploads import UploadKind


class DocumentSummary(msgspec.Struct):
    document_id: UUID
    kind: str
    byte_size: int
    width: int | None
    height: int | None
    uploaded_at: datetime
    deleted: bool


@dataclass(frozen=True)
class OpenedDocument:
    kind: str  # jpeg, png or pdf
    media_type: str
    content: bytes


async def list_documents(runtime: Runtime, operator: OperatorPrincipal, case_id: UUID) -> list[DocumentSummary]:
    async with runtime.database.connection() as conn:
        await visible_case(conn, operator, case_id)
        rows = await store.for_case(conn, case_id)
    return [DocumentSummary(r.id, r.kind, r.byte_size, r.width, r.height, r.created_at, r.deleted) for r in rows]


async def open_document(
    runtime: Runtime, operator: OperatorPrincipal, case_id: UUID, document_id: UUID, reason: RevealReason
) -> OpenedDocument:
    async with runtime.database.transaction() as conn:
        case = await case_to_reveal(conn, operator, case_id)
        row = await store.content_for_case(conn, case.id, document_id)
        if row is None or row.content is None:
            raise NotFound("document_not_found", "This case has no such document")
        cipher = await runtime.vault.open(conn, case.subject_account_id)
        content = cipher.open(VaultField.DOCUMENT_CONTENT, row.content)
        details = {"document_id": str(document_id), "reason": reason.value, "child": case.subject_is_child}
        await runtime.audit.append(
            conn, AuditEntry(operator.actor, "case.document_opened", "case", str(case.id), details)
        )
    kind = UploadKind(row.kind)
    return OpenedDocument(kind.value, kind.media_type, content)
