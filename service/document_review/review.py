"""Asking an operator to check the identity document by eye.

For people who refuse facial recognition: no biometric processing happens, so the biometric
consent is not needed, but the photos are identity data (that consent is). The operator compares
the photos with the verified real-name record, so that must exist. The photos are screened and
stripped like any upload, sealed, and erased once the case is decided.
"""

from __future__ import annotations

from uuid import UUID

from service.audit import Actor, AuditEntry
from service.audit.entries import DetailValue
from service.cases import store as cases
from service.cases.cases import conclude_checks, open_case
from service.cases.catalogue import CaseType, user_message
from service.cases.schemas import Evidence
from service.cases.states import CaseEvent
from service.consents.ledger import require_consent
from service.consents.purposes import ConsentPurpose
from service.document_review.schemas import DocumentReviewRequest, DocumentReviewStatus
from service.documents import store as documents
from service.documents.intake import ScreenedDocument, keep, screen_upload
from service.errors import Conflict
from service.realname import store as realname
from service.realname.store import VerificationStatus
from service.runtime import Runtime
from verification.uploads import IMAGE_KINDS


async def request_review(
    runtime: Runtime, account_id: UUID, body: DocumentReviewRequest, actor: Actor
) -> DocumentReviewStatus:
    photos: list[ScreenedDocument] = [await screen_upload(runtime, body.front, IMAGE_KINDS, "front")]
    if body.back is not None:
        photos.append(await screen_upload(runtime, body.back, IMAGE_KINDS, "back"))
    async with runtime.database.transaction() as conn:
        await require_consent(conn, runtime.policies, account_id, ConsentPurpose.IDENTITY_DATA)
        verified = await realname.live_for_account(conn, account_id)
        if verified is None or verified.status is not VerificationStatus.VERIFIED:
            raise Conflict(
                "real_name_required", "Verify your legal name and ID number first; the reviewer compares with them"
            )
        if await cases.open_of_subject(conn, account_id, [CaseType.DOCUMENT_REVIEW.value]):
            raise Conflict("review_open", "A document review is already under way")
        case = await open_case(
            conn,
            runtime.vault,
            case_type=CaseType.DOCUMENT_REVIEW,
            subject_account_id=account_id,
            evidence=[Evidence("real_name_case", str(verified.case_id), str(verified.case_id))],
            actor=actor,
        )
        cipher = await runtime.vault.open(conn, account_id)
        ids = [await keep(conn, cipher, photo) for photo in photos]
        await documents.link_to_case(conn, case.id, ids)
        # Always a person's decision: that is the point of this way.
        await conclude_checks(conn, case.id, CaseEvent.REFER, [], reason_code="checks_inconclusive")
        details: dict[str, DetailValue] = {"case": str(case.id), "photos": len(ids)}
        await runtime.audit.append(
            conn, AuditEntry(actor, "document_review.requested", "account", str(account_id), details)
        )
    return await latest(runtime, account_id)


async def latest(runtime: Runtime, account_id: UUID) -> DocumentReviewStatus:
    async with runtime.database.connection() as conn:
        own_cases = await cases.for_subject(conn, account_id)
    for own in own_cases:
        case = own.case
        if case.case_type is CaseType.DOCUMENT_REVIEW:
            return DocumentReviewStatus(case.state.value, case.id, user_message(case.reason_code), case.updated_at)
    return DocumentReviewStatus("none")
