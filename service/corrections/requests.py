"""Asking to correct locked data: validated like the original, reviewed by an operator.

The values stay as they are until an operator approves (outcomes.py applies them in the
approval's transaction); the original stays on record in the superseded verification and the
case evidence. A corrected identity must still agree with the birth date it will sit beside.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from service.accounts import store as accounts
from service.accounts.masking import mask_birth_date
from service.audit import Actor, AuditEntry
from service.cases.cases import conclude_checks, open_case
from service.cases.catalogue import CaseType
from service.cases.schemas import AutomatedResult, Evidence
from service.cases.states import CaseEvent
from service.corrections import store
from service.corrections.schemas import CorrectionRequest, CorrectionStatus
from service.errors import Conflict, FieldChecks, FieldProblem, invalid_field, invalid_fields
from service.realname.store import accounts_verified_with
from service.runtime import Runtime
from service.vault import OwnerCipher
from service.vault.labels import IndexPurpose, VaultField
from verification.birth_dates import check_birth_date
from verification.identity_numbers import (
    IdentityNumber,
    check_consistency,
    mask_identity_number,
    parse_identity_number,
)
from verification.legal_names import normalize_legal_name


@dataclass(frozen=True)
class _Checked:
    birth_date: date | None
    legal_name: str | None
    identity: IdentityNumber | None


def _validate(body: CorrectionRequest, today: date) -> _Checked:
    checks = FieldChecks()
    birth_date = legal_name = identity = None
    if body.birth_date is None and body.legal_name is None and body.id_number is None:
        raise invalid_field("birth_date", "nothing_to_correct", "give a birth_date, legal_name or id_number")
    if body.birth_date:
        birth_date = checks.check("birth_date", check_birth_date, body.birth_date, today)
    if body.legal_name:
        legal_name = checks.check("legal_name", normalize_legal_name, body.legal_name)
    if body.id_number is not None and body.document_type is None:
        checks.problem("document_type", "required", "say which document the new number is from")
    elif body.id_number is not None:
        identity = checks.check("id_number", parse_identity_number, body.id_number, today, body.document_type)
    checks.raise_if_any()
    return _Checked(birth_date, legal_name, identity)


def _check_against_current(
    checked: _Checked, declared: date, verified: store.VerifiedIdentity | None, cipher: OwnerCipher, today: date
) -> None:
    if (checked.legal_name or checked.identity) and verified is None:
        raise Conflict(
            "nothing_verified",
            "There is no verified identity to correct",
            "verify with POST /v1/me/verifications/real-name instead",
        )
    birth_date = checked.birth_date or declared
    if checked.identity is not None:
        mismatches = check_consistency(checked.identity, birth_date, None)
    elif checked.birth_date is not None and verified is not None:
        number = cipher.open_text(VaultField.REALNAME_ID_NUMBER, verified.id_number)
        identity = parse_identity_number(number, today, None)
        mismatches = check_consistency(identity, birth_date, None)
    else:
        mismatches = []
    if mismatches:
        raise invalid_fields(*(FieldProblem(field, m.code, m.message) for m in mismatches for field in m.fields))
    if checked.birth_date == declared and checked.legal_name is None and checked.identity is None:
        raise invalid_field("birth_date", "unchanged", "this is already your birth date")


def _evidence(body: CorrectionRequest, checked: _Checked, declared: date) -> list[Evidence]:
    statement = body.statement.strip()
    # Sealed like every other piece of evidence; case workers see only its length until they reveal it.
    evidence = [Evidence("statement", statement, f"statement, {len(statement)} characters")]
    if checked.birth_date is not None:
        evidence.append(Evidence("current_birth_date", declared.isoformat(), mask_birth_date(declared.isoformat())))
        evidence.append(
            Evidence("birth_date", checked.birth_date.isoformat(), mask_birth_date(checked.birth_date.isoformat()))
        )
    if checked.legal_name is not None:
        evidence.append(Evidence("legal_name", checked.legal_name, checked.legal_name[0] + "*"))
    if checked.identity is not None:
        evidence.append(Evidence("id_number", checked.identity.number, mask_identity_number(checked.identity.number)))
    return evidence


async def request_correction(
    runtime: Runtime, account_id: UUID, body: CorrectionRequest, actor: Actor
) -> CorrectionStatus:
    today = runtime.settings.today()
    checked = _validate(body, today)
    identity = checked.identity
    index = runtime.vault.blind_index.digest(IndexPurpose.IDENTITY_NUMBER, identity.number) if identity else None
    correction_id = uuid.uuid4()
    async with runtime.database.transaction() as conn:
        cipher = await runtime.vault.open(conn, account_id)
        profile = await accounts.fetch_profile(conn, account_id)
        assert profile is not None
        declared = date.fromisoformat(cipher.open_text(VaultField.ACCOUNT_BIRTH_DATE, profile.birth_date))
        verified = await store.verified_identity(conn, account_id)
        _check_against_current(checked, declared, verified, cipher, today)
        case = await open_case(
            conn,
            runtime.vault,
            case_type=CaseType.DATA_CORRECTION,
            subject_account_id=account_id,
            evidence=_evidence(body, checked, declared),
            actor=actor,
        )
        results = []
        if identity is not None and await accounts_verified_with(
            conn, runtime.vault.blind_index.digests(IndexPurpose.IDENTITY_NUMBER, identity.number), account_id
        ):
            results.append(AutomatedResult("identity_uniqueness", "duplicate", "idv", reason_code="duplicate_identity"))
        # Always a person's decision: these are the values everything else was checked against.
        await conclude_checks(conn, case.id, CaseEvent.REFER, results, reason_code="checks_inconclusive")
        inserted = await store.insert(
            conn,
            correction_id=correction_id,
            account_id=account_id,
            case_id=case.id,
            birth_date=cipher.seal_text(VaultField.ACCOUNT_BIRTH_DATE, checked.birth_date.isoformat())
            if checked.birth_date
            else None,
            legal_name=cipher.seal_text(VaultField.REALNAME_LEGAL_NAME, checked.legal_name)
            if checked.legal_name
            else None,
            id_number=cipher.seal_text(VaultField.REALNAME_ID_NUMBER, identity.number) if identity else None,
            id_number_index=index,
            identity_birth_date=cipher.seal_text(VaultField.REALNAME_BIRTH_DATE, identity.birth_date.isoformat())
            if identity
            else None,
            document_type=identity.document_type.value if identity else None,
        )
        if not inserted:
            raise Conflict("correction_pending", "A correction is already pending; wait or withdraw it")
        named = (("birth_date", checked.birth_date), ("legal_name", checked.legal_name), ("id_number", identity))
        fields = [name for name, value in named if value is not None]
        await runtime.audit.append(
            conn, AuditEntry(actor, "correction.requested", "account", str(account_id), {"fields": ",".join(fields)})
        )
    return (await corrections_of(runtime, account_id))[0]


async def corrections_of(runtime: Runtime, account_id: UUID) -> list[CorrectionStatus]:
    async with runtime.database.connection() as conn:
        rows = await store.for_account(conn, account_id)
    return [
        CorrectionStatus(
            correction_id=row.id,
            case_id=row.case_id,
            status=row.status,
            fields=[
                name
                for name, corrected in (
                    ("birth_date", row.birth_date),
                    ("legal_name", row.legal_name),
                    ("id_number", row.id_number),
                )
                if corrected
            ],
            created_at=row.created_at,
            decided_at=row.decided_at,
        )
        for row in rows
    ]
