"""Real-name verification: offline checks first, then the registry, with a review case throughout.

The submission is validated and checked against the declared birth date before anything is
stored. The registry is called outside any transaction (it may take seconds); a registry that
cannot answer leaves the verification pending and a job retries it. A number already verified
on another account (beyond the configured limit) is not an error the user sees as such: it opens
the case for an operator as a possible duplicate identity.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID

import asyncpg
import msgspec

from service.accounts import store as accounts
from service.accounts.suspension import suspend
from service.audit import Actor, AuditEntry
from service.cases.cases import conclude_checks, open_case
from service.cases.catalogue import CaseType
from service.cases.schemas import AutomatedResult, Evidence
from service.cases.states import CaseEvent
from service.consents.ledger import require_consent
from service.consents.purposes import ConsentPurpose
from service.errors import Conflict, FieldChecks, FieldProblem, Forbidden, invalid_fields
from service.jobs.queue import enqueue
from service.jobs.runner import JobDefinition
from service.realname import store
from service.realname.providers import Outcome, ProviderUnavailable, RealNameProvider, RealNameQuery
from service.runtime import Runtime
from service.termination.termination import is_barred
from service.vault.labels import IndexPurpose, VaultField
from verification.identity_numbers import (
    IdDocumentType,
    check_consistency,
    mask_identity_number,
    parse_identity_number,
)
from verification.legal_names import normalize_legal_name

CHECK_JOB = "realname.check"
RETRY_DELAY = timedelta(seconds=60)
CHECKER = Actor.system("realname.registry")


@dataclass(frozen=True)
class Submission:
    legal_name: str
    document_type: IdDocumentType
    id_number: str


class CheckPayload(msgspec.Struct, frozen=True):
    verification_id: UUID


def _mask_name(name: str) -> str:
    return name[0] + "*" * (len(name) - 1)


async def submit(
    runtime: Runtime, provider: RealNameProvider, account_id: UUID, submission: Submission, actor: Actor
) -> str:
    """Check, store and (if the registry answers now) decide; returns the verification status."""
    today = runtime.settings.today()
    checks = FieldChecks()
    legal_name = checks.check("legal_name", normalize_legal_name, submission.legal_name)
    identity = checks.check("id_number", parse_identity_number, submission.id_number, today, submission.document_type)
    checks.raise_if_any()
    assert legal_name is not None and identity is not None  # no problems: both checks gave values

    indexes = runtime.vault.blind_index.digests(IndexPurpose.IDENTITY_NUMBER, identity.number)
    index = indexes[0]
    verification_id = uuid.uuid4()
    async with runtime.database.transaction() as conn:
        await require_consent(conn, runtime.policies, account_id, ConsentPurpose.IDENTITY_DATA)
        if await is_barred(conn, indexes):
            raise Forbidden("identity_barred", "This identity cannot be verified here; contact support")
        cipher = await runtime.vault.open(conn, account_id)
        profile = await accounts.fetch_profile(conn, account_id)
        assert profile is not None
        declared = date.fromisoformat(cipher.open_text(VaultField.ACCOUNT_BIRTH_DATE, profile.birth_date))
        if mismatches := check_consistency(identity, declared, None):
            raise invalid_fields(*(FieldProblem(field, m.code, m.message) for m in mismatches for field in m.fields))
        if await store.rejections(conn, account_id) > runtime.settings.case_max_resubmissions:
            raise Conflict("too_many_attempts", "Too many failed attempts; appeal the last decision instead")
        case = await open_case(
            conn,
            runtime.vault,
            case_type=CaseType.REAL_NAME,
            subject_account_id=account_id,
            evidence=[
                Evidence("legal_name", legal_name, _mask_name(legal_name)),
                Evidence("id_number", identity.number, mask_identity_number(identity.number)),
            ],
            actor=actor,
        )
        inserted = await store.insert(
            conn,
            verification_id=verification_id,
            account_id=account_id,
            case_id=case.id,
            document_type=identity.document_type.value,
            legal_name=cipher.seal_text(VaultField.REALNAME_LEGAL_NAME, legal_name),
            id_number=cipher.seal_text(VaultField.REALNAME_ID_NUMBER, identity.number),
            id_number_index=index,
            birth_date=cipher.seal_text(VaultField.REALNAME_BIRTH_DATE, identity.birth_date.isoformat()),
        )
        if not inserted:
            raise Conflict("verification_exists", "A real-name verification is already pending or done")
        if await store.accounts_verified_with(conn, indexes, account_id) >= runtime.settings.identity_accounts_limit:
            results = [AutomatedResult("identity_uniqueness", "duplicate", "idv", reason_code="duplicate_identity")]
            await conclude_checks(conn, case.id, CaseEvent.REFER, results, reason_code="duplicate_identity")
            await runtime.audit.append(
                conn, AuditEntry(actor, "real_name.submitted", "account", str(account_id), {"duplicate": True})
            )
            return "pending"
        await runtime.audit.append(
            conn, AuditEntry(actor, "real_name.submitted", "account", str(account_id), {"duplicate": False})
        )
    try:
        return await check_with_registry(runtime, provider, verification_id)
    except ProviderUnavailable:
        async with runtime.database.transaction() as conn:
            await enqueue(conn, CHECK_JOB, CheckPayload(verification_id), delay=RETRY_DELAY)
        return "pending"


async def check_with_registry(runtime: Runtime, provider: RealNameProvider, verification_id: UUID) -> str:
    """Ask the registry and record its answer. Raises ProviderUnavailable when it cannot answer."""
    async with runtime.database.connection() as conn:
        row = await store.fetch(conn, verification_id)
        if row is None or row.status != "pending":
            return str(row.status) if row else "withdrawn"
        cipher = await runtime.vault.open(conn, row.account_id)
        query = RealNameQuery(
            cipher.open_text(VaultField.REALNAME_LEGAL_NAME, row.legal_name),
            cipher.open_text(VaultField.REALNAME_ID_NUMBER, row.id_number),
            row.document_type,
        )
    answer = await provider.check(query)
    async with runtime.database.transaction() as conn:
        row = await store.lock(conn, verification_id)
        if row is None or row.status != "pending":
            # Withdrawn while the registry was thinking: its answer is not used.
            return str(row.status) if row else "withdrawn"
        account_id: UUID = row.account_id
        status = await _record(runtime, conn, row, answer.outcome, answer.provider, answer.reference)
        details = {"outcome": answer.outcome.value, "provider": answer.provider, "status": status}
        await runtime.audit.append(conn, AuditEntry(CHECKER, "real_name.checked", "account", str(account_id), details))
        return status


async def _record(
    runtime: Runtime,
    conn: asyncpg.Connection,
    row: store.RealNameVerification,
    outcome: Outcome,
    provider: str,
    reference: str,
) -> str:
    result = AutomatedResult("real_name_registry", outcome.value, provider)
    if outcome is Outcome.MATCH:
        # Serialize verifications of one number, then count again: two accounts racing on the
        # same identity must not both end verified.
        indexes = [row.id_number_index]
        if runtime.vault.blind_index.rotating:
            # The row may be indexed under either key, other accounts' rows too.
            cipher = await runtime.vault.open(conn, row.account_id)
            indexes = runtime.vault.blind_index.digests(
                IndexPurpose.IDENTITY_NUMBER, cipher.open_text(VaultField.REALNAME_ID_NUMBER, row.id_number)
            )
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(encode($1::bytea, 'hex'), 11))", indexes[0])
        taken = await store.accounts_verified_with(conn, indexes, row.account_id)
        if taken >= runtime.settings.identity_accounts_limit:
            await store.record_answer(conn, row.id, "pending", provider, outcome.value, reference)
            duplicate = AutomatedResult("identity_uniqueness", "duplicate", "idv", reason_code="duplicate_identity")
            await conclude_checks(
                conn, row.case_id, CaseEvent.REFER, [result, duplicate], reason_code="duplicate_identity"
            )
            return "pending"
        await store.record_answer(conn, row.id, "verified", provider, outcome.value, reference)
        await conclude_checks(conn, row.case_id, CaseEvent.AUTO_APPROVE, [result], reason_code="evidence_consistent")
        return "verified"
    reason = "name_mismatch" if outcome is Outcome.MISMATCH else "id_number_invalid"
    await store.record_answer(conn, row.id, "rejected", provider, outcome.value, reference)
    await conclude_checks(conn, row.case_id, CaseEvent.AUTO_REJECT, [result], reason_code=reason)
    limit = runtime.settings.real_name_mismatches_before_suspension
    if outcome is Outcome.MISMATCH and await store.registry_mismatches(conn, row.account_id) >= limit:
        # Appealing this case (the last mismatch) is the way back.
        await suspend(conn, row.account_id, "repeated_identity_mismatch", CHECKER, row.case_id)
    return "rejected"


def check_job(runtime: Runtime, provider: RealNameProvider) -> JobDefinition:
    async def run(payload: bytes | None) -> None:
        verification_id = msgspec.json.decode(payload or b"", type=CheckPayload).verification_id
        # ProviderUnavailable propagates: the runner retries with backoff.
        await check_with_registry(runtime, provider, verification_id)

    return JobDefinition(
        CHECK_JOB, run, max_attempts=20, initial_retry_delay=RETRY_DELAY, max_retry_delay=timedelta(hours=1)
    )
