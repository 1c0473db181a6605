"""What withdrawing a consent does, at once and in the same transaction as the withdrawal.

Open cases that relied on the purpose are withdrawn, so no operator goes on processing them;
biometric data is erased by a job (images and templates can be many and large). Outcomes
already reached stay recorded: withdrawal does not undo processing done before it.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg
import msgspec

from service.audit import Actor, AuditEntry
from service.cases import store as cases
from service.cases.cases import lock_case, transition
from service.cases.catalogue import CaseType
from service.cases.states import CaseEvent
from service.consents import store as consents
from service.consents.purposes import ConsentPurpose
from service.face import store as face
from service.face.keys import biometric_key_owner
from service.jobs.queue import enqueue
from service.jobs.runner import JobDefinition
from service.lifecycle import ledger
from service.lifecycle.ledger import Category
from service.realname import store as realname
from service.recipients.notices import NoticeEvent, queue_notices
from service.registration import RegisteredTable
from service.runtime import Runtime

ERASE_BIOMETRIC_JOB = "consents.erase_biometric_data"
CONSENT_WITHDRAWAL = Actor.system("consents.withdrawal")

# Case types whose processing stops when the purpose is withdrawn: each type's manifest says what it
# relies on (service.manifest ``relies_on``), and service.capabilities registers them here.
CASES_RELYING_ON: RegisteredTable[ConsentPurpose, tuple[CaseType, ...]] = RegisteredTable("cases relying on consents")
# Jobs that erase what the purpose allowed us to keep.
ERASURE_JOBS: dict[ConsentPurpose, str] = {ConsentPurpose.BIOMETRIC: ERASE_BIOMETRIC_JOB}


class ErasePayload(msgspec.Struct, frozen=True):
    account_id: UUID


async def apply_withdrawal_effects(
    conn: asyncpg.Connection, account_id: UUID, purpose: ConsentPurpose, *, notify_recipients: bool = True
) -> None:
    """Everything a withdrawal does besides its ledger row. ``notify_recipients`` is False when a
    replay re-applies it onto a restored backup: the recipients were told at the time."""
    # In the erasure ledger, so that `idv erasures replay` withdraws it again in a restored backup.
    await ledger.record(conn, account_id, Category.CONSENT, purpose.value)
    if purpose is ConsentPurpose.IDENTITY_DATA:
        # The verification rested on this consent: it is no longer in force (its record stays).
        await realname.withdraw_for_account(conn, account_id)
    case_types = [t.value for t in CASES_RELYING_ON.get(purpose, ())]
    for case_id in await cases.open_of_subject(conn, account_id, case_types):
        case = await lock_case(conn, case_id)
        await transition(conn, case, CaseEvent.WITHDRAW, CONSENT_WITHDRAWAL, reason_code="consent_withdrawn")
    if job := ERASURE_JOBS.get(purpose):
        await enqueue(conn, job, ErasePayload(account_id))
    if notify_recipients:
        await queue_notices(conn, account_id, NoticeEvent.CONSENT_WITHDRAWN, {"purpose": purpose.value})


async def withdraw_on_behalf(
    conn: asyncpg.Connection, account_id: UUID, purposes: list[str], actor_account_id: UUID, channel: str
) -> list[str]:
    """Withdraw these purposes for the account (a guardian revoking, or a guardianship refused),
    with every effect a withdrawal by the person has."""
    withdrawn = await consents.withdraw_granted(conn, account_id, purposes, actor_account_id, channel)
    for purpose in withdrawn:
        await apply_withdrawal_effects(conn, account_id, ConsentPurpose(purpose))
    return withdrawn


def erase_biometric_job(runtime: Runtime) -> JobDefinition:
    async def run(payload: bytes | None) -> None:
        account_id = msgspec.json.decode(payload or b"", type=ErasePayload).account_id
        async with runtime.database.transaction() as conn:
            erased = await cases.erase_evidence_of_subject(conn, account_id, [CaseType.FACE.value])
            erased += await face.erase_biometric_data(conn, account_id)
            # Destroying the keys makes every copy unreadable, in backups too once the master key
            # rotates; the ledger has a restored backup's keys destroyed again (lifecycle.replay).
            destroyed = [
                verification_id
                for verification_id in await face.verification_ids(conn, account_id)
                if await runtime.vault.destroy(conn, biometric_key_owner(verification_id))
            ]
            if destroyed:
                await ledger.record(conn, account_id, Category.BIOMETRIC_KEYS, "consent_withdrawn", destroyed)
            await runtime.audit.append(
                conn,
                AuditEntry(
                    CONSENT_WITHDRAWAL, "consent.biometric_data_erased", "account", str(account_id), {"items": erased}
                ),
            )

    return JobDefinition(ERASE_BIOMETRIC_JOB, run)
