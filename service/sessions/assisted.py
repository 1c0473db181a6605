"""Assisted recovery (issue 19): a person who lost both the password and the second factor proves
who they are again, and two operators decide.

Asking (``POST /v1/recovery/assisted``) answers like ``POST /v1/recovery``: 202 with one body, no
sooner than ANSWER_FLOOR, throttled per identifier and per client address on its own counters,
alike for unknown identifiers, accounts whose state forbids sign-in, accounts without a verified
real name, and answers that do not match. Only an account with a verified real name whose legal
name AND ID number both match the record gets an ``account_recovery`` case; a mismatch opens
none (it is recorded in the audit trail, not queued for operators: a stranger who knows an
identifier must not be able to fill the queue or bother the holder, and nothing an operator could
do with a wrong answer would approve it). The answers themselves are never stored: the case's
evidence says only that they matched. The holder's verified contacts are told at once that someone
asked, so a holder who still reads them can withdraw the case from /v1/me/cases; where the person had
their face verified and the biometric consent is in force, the same contacts receive a key to compare
their live face with that verification (``service.sessions.assisted_face``), whose result the operators
see in the case. Otherwise the operator judges the real-name data, the identity document and the
account's own history.

The case always takes two operators. Approving removes the second factor (TOTP and its recovery
codes) and ends every session in the decision's transaction, then (a job queued in it) sends a
recovery code to every verified contact, valid for APPROVED_CODE_TTL: ``/v1/recovery/complete``
with it sets a new password, asking for no second factor since none is left. Rejecting changes
nothing; the person is told either way.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import asyncpg
import msgspec

from service.accounts import store as accounts
from service.accounts.notices import notify_every_contact
from service.accounts.states import CAN_SIGN_IN
from service.audit import Actor, AuditEntry
from service.cases import store as cases
from service.cases.cases import conclude_checks, open_case
from service.cases.catalogue import CaseType
from service.cases.records import Case
from service.cases.schemas import Evidence
from service.cases.states import CaseEvent, CaseState
from service.contacts import store as contacts
from service.contacts.codes import new_code
from service.courier.outbox import Message, queue_messages
from service.face.recovery import offered as face_step_offered
from service.jobs.queue import enqueue
from service.jobs.runner import JobDefinition
from service.realname.matching import match_verified_record
from service.runtime import Runtime
from service.sessions import store
from service.sessions.assisted_face import send_face_key, tell_without_face
from service.sessions.recovery import ANSWER_FLOOR, PURPOSE, person_of
from service.sessions.sign_in import find_account, identifier_lookup
from service.sessions.throttle import SignInThrottle, Subjects
from service.totp import factor
from service.vault import BlindIndex, DataKeyDestroyed, OwnerCipher
from service.vault.labels import IndexPurpose, VaultField

DECIDED_JOB = "sessions.assisted_recovery_decided"
# An operator's approval may reach the person hours later: the code they receive lives this long.
APPROVED_CODE_TTL = timedelta(hours=24)
SYSTEM = Actor.system("sessions.assisted_recovery")
FACE_OFFERED = (
    "offered: the person may compare their live face with their face verification; the results appear "
    "under automated results"
)
FACE_NOT_OFFERED = (
    "not offered (no biometric consent in force or no stored face verification): judge the real-name "
    "data, the identity document and the account's history"
)


@dataclass(frozen=True)
class AssistedRecoveryRequest:
    identifier: str
    legal_name: str
    id_number: str
    client_address: str
    user_agent: str | None


class RecoveryDecided(msgspec.Struct, frozen=True):
    case_id: UUID
    account_id: UUID
    approved: bool
    second_factor_removed: bool


def _subjects(index: BlindIndex, person: str, address: str) -> Subjects:
    # Counters of its own: neither sign-in's nor the code recovery's, and alike for unknown identifiers.
    return Subjects(
        pair=index.digest(IndexPurpose.THROTTLE, f"assisted-recovery:{person}|{address}"),
        person=index.digest(IndexPurpose.THROTTLE, f"assisted-recovery:{person}"),
        address=index.digest(IndexPurpose.THROTTLE, f"assisted-recovery-address:{address}"),
    )


async def request_assisted_recovery(runtime: Runtime, request: AssistedRecoveryRequest) -> None:
    """Open an ``account_recovery`` case when the answers match a verified real name; otherwise nothing
    the caller can tell apart (see the module's docstring)."""
    started = time.monotonic()
    try:
        lookup = identifier_lookup(request.identifier, runtime.settings.default_phone_region)
        account = await find_account(runtime, lookup)
        index = runtime.vault.blind_index
        subjects = _subjects(index, person_of(runtime, request.identifier), request.client_address)
        async with runtime.database.transaction() as conn:
            await SignInThrottle(index).reserve(conn, subjects)  # 429 alike for known and unknown identifiers
            if account is not None:
                cipher = runtime.vault.open_wrapped(account.id, account.master_key_id, account.wrapped_key)
                await _open_if_matching(runtime, conn, account.id, account.totp_enabled, cipher, request)
    except DataKeyDestroyed:
        pass  # an erased account: nothing to compare, and nothing to say
    finally:
        await asyncio.sleep(max(0.0, ANSWER_FLOOR.total_seconds() - (time.monotonic() - started)))


async def _open_if_matching(
    runtime: Runtime,
    conn: asyncpg.Connection,
    account_id: UUID,
    totp_enabled: bool,
    cipher: OwnerCipher,
    request: AssistedRecoveryRequest,
) -> None:
    # Locked: of parallel requests, one opens the case and the others see it open.
    state = await accounts.lock_state(conn, account_id)
    if state is None or state not in CAN_SIGN_IN:
        return
    match = await match_verified_record(conn, runtime.vault.blind_index, cipher, request.legal_name, request.id_number)
    if match is None:
        return  # no verified real name: nothing to prove oneself against
    actor = Actor.anonymous(request.client_address, request.user_agent)
    if not match.both:
        details = {"legal_name_matches": match.legal_name, "id_number_matches": match.id_number}
        await runtime.audit.append(
            conn, AuditEntry(actor, "account.assisted_recovery_refused", "account", str(account_id), details)
        )
        return
    open_cases = await cases.open_of_subject(conn, account_id, [CaseType.ACCOUNT_RECOVERY.value])
    if open_cases:
        # One at a time: asking again opens no other case, but a fresh face key when the step is offered.
        if await face_step_offered(runtime, conn, account_id):
            await send_face_key(runtime, conn, account_id, open_cases[0])
        return
    second_factor = "totp" if totp_enabled else "none"
    face = await face_step_offered(runtime, conn, account_id)
    case = await open_case(
        conn,
        runtime.vault,
        case_type=CaseType.ACCOUNT_RECOVERY,
        subject_account_id=account_id,
        evidence=[
            # Whether the answers matched, never the answers.
            Evidence("legal_name", "matches_verified_record", "matches the verified record"),
            Evidence("id_number", "matches_verified_record", "matches the verified record"),
            Evidence("second_factor", second_factor, second_factor),
            Evidence("face", "offered", FACE_OFFERED) if face else Evidence("face", "not_offered", FACE_NOT_OFFERED),
        ],
        actor=actor,
    )
    await conclude_checks(conn, case.id, CaseEvent.REFER, [], reason_code="checks_inconclusive")
    await runtime.audit.append(
        conn,
        AuditEntry(actor, "account.assisted_recovery_requested", "account", str(account_id), {"case": str(case.id)}),
    )
    # The holder learns at once, wherever they still read: if it was not them, they can withdraw it.
    await notify_every_contact(
        runtime, conn, account_id, ("assisted_recovery_requested", "assisted_recovery_requested_sms"), {}
    )
    # Only the holder's contacts learn whether their face can be compared (see assisted_face).
    if face:
        await send_face_key(runtime, conn, account_id, case.id)
    else:
        await tell_without_face(runtime, conn, account_id)


async def account_recovery_case_changed(conn: asyncpg.Connection, case: Case, after: CaseState) -> None:
    """Approved: the old factors go, with every session, in the decision's transaction; the code and
    the notice follow from a job (they need the vault). Rejected: nothing changes but the notice."""
    if after not in {CaseState.APPROVED, CaseState.REJECTED}:
        return
    account_id = case.subject_account_id
    removed = False
    if after is CaseState.APPROVED:
        removed = await factor.remove_factor(conn, account_id)
        await store.end_all_for_account(conn, account_id, "assisted_recovery")
    decided = RecoveryDecided(case.id, account_id, after is CaseState.APPROVED, removed)
    await enqueue(conn, DECIDED_JOB, decided, dedupe_key=f"{DECIDED_JOB}:{case.id}")


async def tell_recovery_decided(runtime: Runtime, decided: RecoveryDecided) -> int:
    """Send the recovery code (approved) or the refusal to every verified contact; how many were sent."""
    async with runtime.database.transaction() as conn:
        if not decided.approved:
            refused = ("assisted_recovery_rejected", "assisted_recovery_rejected_sms")
            return await notify_every_contact(runtime, conn, decided.account_id, refused, {})
        if decided.second_factor_removed:
            details: dict[str, str | int | bool | None] = {
                "kind": "totp",
                "reason": "assisted_recovery",
                "case": str(decided.case_id),
            }
            await runtime.audit.append(
                conn, AuditEntry(SYSTEM, "totp.removed", "account", str(decided.account_id), details)
            )
        try:
            cipher = await runtime.vault.open(conn, decided.account_id)
        except DataKeyDestroyed:
            return 0
        addresses = []
        for kind in ("email", "phone"):
            contact = await contacts.fetch(conn, decided.account_id, kind)
            if contact is not None and contact.verified_at is not None:
                addresses.append((kind, cipher.open_text(VaultField.contact(kind), contact.address)))
        if not addresses:
            return 0
        code_id, code = uuid.uuid4(), new_code()
        digest = runtime.vault.blind_index.digest(IndexPurpose.ONE_TIME_CODE, f"{code_id}:{code}")
        await contacts.insert_code(conn, code_id, decided.account_id, PURPOSE, digest, APPROVED_CODE_TTL)
        variables: dict[str, str] = {"code": code, "hours": str(int(APPROVED_CODE_TTL.total_seconds() // 3600))}
        templates = {"email": "assisted_recovery_approved", "phone": "assisted_recovery_approved_sms"}
        await queue_messages(conn, cipher, [Message(templates[kind], to, variables) for kind, to in addresses])
        return len(addresses)


def recovery_decided_job(runtime: Runtime) -> JobDefinition:
    async def run(payload: bytes | None) -> None:
        await tell_recovery_decided(runtime, msgspec.json.decode(payload or b"", type=RecoveryDecided))

    return JobDefinition(DECIDED_JOB, run, max_attempts=10)
