"""HTTP for operators to list and open the documents of a case."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Response, get
from litestar.params import FromPath, FromQuery

from service.cases.access import refusals_audited
from service.cases.schemas import RevealReason
from service.documents.access import DocumentSummary, list_documents, open_document
from service.http.dependencies import CurrentRuntime
from service.http.evidence import EVIDENCE_HEADERS
from service.operators.auth import allow, operator_guard
from service.operators.roles import CASE_WORKERS
from service.operators.routes import CurrentOperator

# A document is personal data shown to one operator (its headers: service.http.evidence). It is a
# download (attachment), never shown inline in the service's origin.


def _as_attachment(document_id: UUID, kind: str) -> str:
    # Only characters the service chose: nothing from the upload (whose file name is never kept).
    return f'attachment; filename="document-{document_id}.{kind}"'


class CaseDocumentController(Controller):
    path = "/v1/operator/cases/{case_id:uuid}/documents"
    tags = ["review cases"]
    guards = [operator_guard]

    @get("/", summary="The documents of a case (sizes and kinds)", opt=allow(CASE_WORKERS))
    async def list_all(
        self, runtime: CurrentRuntime, operator: CurrentOperator, case_id: FromPath[UUID]
    ) -> list[DocumentSummary]:
        async with refusals_audited(runtime.audit, operator, case_id):
            return await list_documents(runtime, operator, case_id)

    @get(
        "/{document_id:uuid}",
        summary="Open one document, giving a reason (audited)",
        opt=allow(CASE_WORKERS),
        media_type="application/octet-stream",
    )
    async def open_one(
        self,
        runtime: CurrentRuntime,
        operator: CurrentOperator,
        case_id: FromPath[UUID],
        document_id: FromPath[UUID],
        reason: FromQuery[RevealReason],
    ) -> Response[bytes]:
        async with refusals_audited(runtime.audit, operator, case_id):
            document = await open_document(runtime, operator, case_id, document_id, reason)
        headers = {**EVIDENCE_HEADERS, "content-disposition": _as_attachment(document_id, document.kind)}
        return Response(document.content, media_type=document.media_type, headers=headers)
