"""Certifying a qualification: declare it, prove the work e-mail, add documents, submit for review.

Nothing here decides: an operator approves or rejects the case (outcomes.py applies that). The
automated checks only record what they could establish (the credit code's check character, the
work e-mail confirmed) for the operator to see.
"""

from __future__ import annotations

import collections
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import date, timedelta
from uuid import UUID

import asyncpg

from service.accounts.masking import mask_email
from service.audit import Actor, AuditEntry
from service.cases.cases import conclude_checks, lock_case, open_case, transition
from service.cases.catalogue import CaseType
from service.cases.records import Case
from service.cases.schemas import AutomatedResult, Evidence
from service.cases.states import CaseEvent, is_closed
from service.cases.subjects import resubmit_case
from service.contacts.codes import CodeCheck, check_purpose_code, send_purpose_code
from service.documents import store as documents
from service.documents.intake import keep, screen_upload
from service.errors import Conflict, FieldChecks, Invalid, NotFound
from service.qualifications import store
from service.qualifications.schemas import DocumentReceipt, QualificationRequest, QualificationView
from service.qualifications.states import (
    IllegalQualificationTransition,
    QualificationEvent,
    QualificationState,
    next_state,
)
from service.runtime import Runtime
from service.vault import BlindIndex, OwnerCipher
from service.vault.labels import IndexPurpose, VaultField
from verification.contacts import normalize_email
from verification.credit_codes import parse_credit_code
from verification.text import clean_text

WORK_EMAIL_PURPOSE = "verify_work_email"


def work_email_code_purpose(index: BlindIndex, address: str) -> str:
    """Codes for a work e-mail are kept (and throttled: once a minute, five an hour) per address,
    so declaring another qualification with another work e-mail is not held up by the last one,
    while one address cannot be flooded by starting qualification after qualification."""
    return f"{WORK_EMAIL_PURPOSE}:{index.digest(IndexPurpose.WORK_EMAIL_CODE, address.casefold()).hex()[:32]}"


MAX_DOCUMENTS = 5
LONGEST_VALIDITY = timedelta(days=50 * 366)
_FIELDS = ("organization_name", "credit_code", "job_title", "work_email")


def _validate(body: QualificationRequest, today: date) -> dict[str, str]:
    values: dict[str, str] = {}
    checks = FieldChecks()
    normalizers = {
        "organization_name": lambda v: clean_text(v, min_length=2, max_length=100, label="organization name"),
        "credit_code": lambda v: parse_credit_code(v).code,
        "job_title": lambda v: clean_text(v, min_length=1, max_length=100, label="job title"),
        "work_email": normalize_email,
    }
    for name, normalize in normalizers.items():
        if (value := checks.check(name, normalize, getattr(body, name))) is not None:
            values[name] = value
    if body.valid_until <= today:
        checks.problem("valid_until", "in_the_past", "the qualification must still be valid")
    elif body.valid_until - today > LONGEST_VALIDITY:
        checks.problem("valid_until", "implausible", "the end of validity is too far away")
    checks.raise_if_any()
    return values


def qualification_not_found() -> NotFound:
    return NotFound("qualification_not_found", "No such qualification")


async def _own(conn: asyncpg.Connection, account_id: UUID, qualification_id: UUID) -> store.Qualification:
    row = await store.lock_own(conn, account_id, qualification_id)
    if row is None:
        raise qualification_not_found()
    return row


def _require(row: store.Qualification, state: QualificationState, action: str) -> None:
    if row.status != state:
        raise Conflict("qualification_not_editable", f"A {row.status} qualification cannot {action}")


async def start(runtime: Runtime, account_id: UUID, body: QualificationRequest, actor: Actor) -> QualificationView:
    values = _validate(body, runtime.settings.today())
    qualification_id = uuid.uuid4()
    async with runtime.database.transaction() as conn:
        cipher = await runtime.vault.open(conn, account_id)
        inserted = await store.insert(
            conn,
            qualification_id=qualification_id,
            account_id=account_id,
            **{name: cipher.seal_text(VaultField.qualification(name), values[name]) for name in _FIELDS},
            valid_until=body.valid_until,
        )
        if not inserted:
            raise Conflict("qualification_open", "Finish or withdraw the qualification you are preparing first")
        index = runtime.vault.blind_index
        purpose = work_email_code_purpose(index, values["work_email"])
        await send_purpose_code(conn, index, cipher, purpose, WORK_EMAIL_PURPOSE, values["work_email"])
        await runtime.audit.append(
            conn, AuditEntry(actor, "qualification.started", "qualification", str(qualification_id))
        )
    return await view(runtime, account_id, qualification_id)


async def resend_work_email_code(runtime: Runtime, account_id: UUID, qualification_id: UUID) -> None:
    async with runtime.database.transaction() as conn:
        row = await _own(conn, account_id, qualification_id)
        _require(row, QualificationState.DRAFT, "have its work e-mail confirmed")
        if row.work_email_verified_at is not None:
            raise Conflict("already_verified", "The work e-mail is already confirmed")
        cipher = await runtime.vault.open(conn, account_id)
        address = cipher.open_text(VaultField.QUALIFICATION_WORK_EMAIL, row.work_email)
        index = runtime.vault.blind_index
        await send_purpose_code(
            conn, index, cipher, work_email_code_purpose(index, address), WORK_EMAIL_PURPOSE, address
        )


async def verify_work_email(runtime: Runtime, account_id: UUID, qualification_id: UUID, code: str) -> QualificationView:
    async with runtime.database.transaction() as conn:
        row = await _own(conn, account_id, qualification_id)
        _require(row, QualificationState.DRAFT, "have its work e-mail confirmed")
        cipher = await runtime.vault.open(conn, account_id)
        purpose = work_email_code_purpose(
            runtime.vault.blind_index, cipher.open_text(VaultField.QUALIFICATION_WORK_EMAIL, row.work_email)
        )
        result = await check_purpose_code(conn, runtime.vault.blind_index, account_id, purpose, code)
        if result is CodeCheck.ACCEPTED:
            await store.mark_work_email_verified(conn, qualification_id)
    # Outside the transaction: the spent attempt is committed before we answer.
    if result is CodeCheck.WRONG:
        raise Invalid("code_invalid", "The code is not right")
    if result is CodeCheck.NONE_LIVE:
        raise Invalid("code_expired", "There is no valid code: ask for a new one")
    return await view(runtime, account_id, qualification_id)


def _too_many_documents() -> Conflict:
    return Conflict("too_many_documents", f"At most {MAX_DOCUMENTS} documents per qualification")


async def _room_for_document(
    conn: asyncpg.Connection, account_id: UUID, qualification_id: UUID, others_screening: int
) -> None:
    """404 unless it is one's own qualification, 409 unless it is a draft with room for one more document
    beside those stored and ``others_screening`` uploads being screened for it."""
    row = await _own(conn, account_id, qualification_id)
    _require(row, QualificationState.DRAFT, "take documents")
    if len(await store.document_ids(conn, qualification_id)) + others_screening >= MAX_DOCUMENTS:
        raise _too_many_documents()


# Uploads under way in this process, per qualification, from before their first check until they are stored or
# refused. Each counts those that were under way when it started against the cap, so parallel uploads cannot
# make the process decode more files than a qualification has room for. (A replica counts its own; the cap is
# checked again, against the database alone, when a document is stored.)
_uploading: collections.Counter[UUID] = collections.Counter()


@contextlib.contextmanager
def _upload_under_way(qualification_id: UUID) -> Iterator[int]:
    """Count this upload as under way while the block runs; yields how many others were when it started."""
    others = _uploading[qualification_id]
    _uploading[qualification_id] += 1
    try:
        yield others
    finally:
        _uploading[qualification_id] -= 1
        if not _uploading[qualification_id]:
            del _uploading[qualification_id]


async def add_document(
    runtime: Runtime,
    account_id: UUID,
    qualification_id: UUID,
    read_body: Callable[[], Awaitable[bytes]],
    actor: Actor,
) -> DocumentReceipt:
    # Whose qualification it is and whether a document fits are settled before the body is even read: a
    # refused upload costs two queries, never a decode. Screening runs outside any transaction (it takes a
    # while, on the CPU pool), so both are checked again before the document is stored.
    with _upload_under_way(qualification_id) as others:
        async with runtime.database.transaction() as conn:
            await _room_for_document(conn, account_id, qualification_id, others)
        screened = await screen_upload(runtime, await read_body())
        async with runtime.database.transaction() as conn:
            await _room_for_document(conn, account_id, qualification_id, 0)
            document_id = await keep(conn, await runtime.vault.open(conn, account_id), screened)
            await store.attach_document(conn, qualification_id, document_id)
            details = {"document_id": str(document_id), "kind": screened.kind}
            await runtime.audit.append(
                conn,
                AuditEntry(actor, "qualification.document_added", "qualification", str(qualification_id), details),
            )
    return DocumentReceipt(document_id, screened.kind, len(screened.content), screened.width, screened.height)


def _evidence(cipher: OwnerCipher, row: store.Qualification) -> list[Evidence]:
    sealed = {
        "organization_name": row.organization_name,
        "credit_code": row.credit_code,
        "job_title": row.job_title,
        "work_email": row.work_email,
    }
    values = {name: cipher.open_text(VaultField.qualification(name), sealed[name]) for name in _FIELDS}
    return [
        Evidence("organization_name", values["organization_name"], values["organization_name"]),
        Evidence("credit_code", values["credit_code"], values["credit_code"]),
        Evidence("job_title", values["job_title"], values["job_title"]),
        Evidence("work_email", values["work_email"], mask_email(values["work_email"])),
        Evidence("valid_until", row.valid_until.isoformat(), row.valid_until.isoformat()),
    ]


async def submit(runtime: Runtime, account_id: UUID, qualification_id: UUID, actor: Actor) -> QualificationView:
    async with runtime.database.transaction() as conn:
        row = await _own(conn, account_id, qualification_id)
        _require(row, QualificationState.DRAFT, "be submitted")
        if row.work_email_verified_at is None:
            raise Conflict("work_email_unverified", "Confirm the work e-mail with its code first")
        document_ids = await store.document_ids(conn, qualification_id)
        if not document_ids:
            raise Conflict("documents_missing", "Add at least one document first")
        cipher = await runtime.vault.open(conn, account_id)
        evidence = _evidence(cipher, row)
        case = await _open_or_resubmit(runtime, conn, row, evidence, actor)
        # Every document checked is on record with the case an operator decides it in.
        await documents.link_to_case(conn, case.id, document_ids)
        results = [
            AutomatedResult("credit_code_checksum", "passed", "idv"),
            AutomatedResult("work_email_ownership", "passed", "idv"),
        ]
        await conclude_checks(conn, case.id, CaseEvent.REFER, results, reason_code="checks_inconclusive")
        await store.set_case(conn, qualification_id, case.id)
        after = next_state(row.status, QualificationEvent.SUBMIT)
        await store.set_state(conn, qualification_id, after)
        await runtime.audit.append(
            conn,
            AuditEntry(
                actor, "qualification.submitted", "qualification", str(qualification_id), {"case": str(case.id)}
            ),
        )
    return await view(runtime, account_id, qualification_id)


async def _open_or_resubmit(
    runtime: Runtime, conn: asyncpg.Connection, row: store.Qualification, evidence: list[Evidence], actor: Actor
) -> Case:
    if row.case_id is None:
        return await open_case(
            conn,
            runtime.vault,
            case_type=CaseType.QUALIFICATION,
            subject_account_id=row.account_id,
            evidence=evidence,
            actor=actor,
        )
    # An operator asked for better documents: the same case starts over.
    case = await lock_case(conn, row.case_id)
    return await resubmit_case(conn, runtime.vault, runtime.settings, case, evidence, actor)


async def withdraw(runtime: Runtime, account_id: UUID, qualification_id: UUID, actor: Actor) -> QualificationView:
    async with runtime.database.transaction() as conn:
        row = await _own(conn, account_id, qualification_id)
        state = row.status
        try:
            after = next_state(state, QualificationEvent.WITHDRAW)
        except IllegalQualificationTransition:
            raise Conflict("qualification_not_editable", f"A {state} qualification cannot be withdrawn") from None
        case = await lock_case(conn, row.case_id) if row.case_id is not None else None
        if case is not None and not is_closed(case.state):
            # The case's outcome rule withdraws the qualification with it.
            await transition(conn, case, CaseEvent.WITHDRAW, actor, reason_code="withdrawn_by_user")
        else:
            await store.set_state(conn, qualification_id, after, end_reason="withdrawn_by_user")
    return await view(runtime, account_id, qualification_id)


def _view(cipher: OwnerCipher, row: store.QualificationListing) -> QualificationView:
    return QualificationView(
        qualification_id=row.id,
        status=row.status,
        organization_name=cipher.open_text(VaultField.QUALIFICATION_ORGANIZATION_NAME, row.organization_name),
        credit_code=cipher.open_text(VaultField.QUALIFICATION_CREDIT_CODE, row.credit_code),
        job_title=cipher.open_text(VaultField.QUALIFICATION_JOB_TITLE, row.job_title),
        work_email=mask_email(cipher.open_text(VaultField.QUALIFICATION_WORK_EMAIL, row.work_email)),
        work_email_verified=row.work_email_verified_at is not None,
        valid_until=row.valid_until,
        documents=row.documents,
        case_id=row.case_id,
        created_at=row.created_at,
        decided_at=row.decided_at,
        end_reason=row.end_reason,
    )


async def qualifications_of(runtime: Runtime, account_id: UUID) -> list[QualificationView]:
    async with runtime.database.connection() as conn:
        rows = await store.for_account(conn, account_id)
        if not rows:
            return []
        cipher = await runtime.vault.open(conn, account_id)
    return [_view(cipher, row) for row in rows]


async def view(runtime: Runtime, account_id: UUID, qualification_id: UUID) -> QualificationView:
    found = [q for q in await qualifications_of(runtime, account_id) if q.qualification_id == qualification_id]
    if not found:
        raise qualification_not_found()
    return found[0]
