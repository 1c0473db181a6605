"""Operators opening the documents of a case: only while it is open, only by someone who may
decide it, with a reason, and audited like any revealed value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from service.audit import AuditEntry
from service.cases import store as cases
from service.cases.access import ensure_may_decide, ensure_may_see
from service.cases.cases import Case, case_not_found
from service.cases.schemas import RevealReason
from service.cases.states import OPEN_STATES
from service.documents import store
from service.http.problems import ProblemError
from service.operators.auth import OperatorPrincipal
from service.runtime import Runtime
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
    media_type: str
    content: bytes


async def _case(conn: asyncpg.Connection, operator: OperatorPrincipal, case_id: UUID) -> Case:
    row = await cases.fetch(conn, case_id)
    if row is None:
        raise case_not_found()
    case = Case.from_row(row)
    ensure_may_see(operator, case)
    return case


async def list_documents(runtime: Runtime, operator: OperatorPrincipal, case_id: UUID) -> list[DocumentSummary]:
    async with runtime.database.connection() as conn:
        await _case(conn, operator, case_id)
        rows = await store.for_case(conn, case_id)
    return [
        DocumentSummary(r["id"], r["kind"], r["byte_size"], r["width"], r["height"], r["created_at"], r["deleted"])
        for r in rows
    ]


async def open_document(
    runtime: Runtime, operator: OperatorPrincipal, case_id: UUID, document_id: UUID, reason: RevealReason
) -> OpenedDocument:
    async with runtime.database.transaction() as conn:
        case = await _case(conn, operator, case_id)
        ensure_may_decide(operator, case)
        if case.state not in OPEN_STATES:
            raise ProblemError(409, "case_closed", "Documents of a closed case are not shown")
        row = await store.content_for_case(conn, case.id, document_id)
        if row is None or row["content"] is None:
            raise ProblemError(404, "document_not_found", "This case has no such document")
        cipher = await runtime.vault.open(conn, case.subject_account_id)
        content = cipher.open("document.content", row["content"])
        details = {"document_id": str(document_id), "reason": reason.value, "child": case.subject_is_child}
        await runtime.audit.append(
            conn, AuditEntry(operator.actor, "case.document_opened", "case", str(case.id), details)
        )
    return OpenedDocument(UploadKind(row["kind"]).media_type, content)
