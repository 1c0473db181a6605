"""Erasing everything of one person, in one transaction (a worker killed half-way leaves nothing
half-done: the next run starts over and does it all).

In order: biometric templates and images (their keys destroyed), what the personal-data registry
erases itself (documents' content, every personal value the legal hold keeps, the ID number's
blind index too, and data exports; lifecycle.personal_data, lifecycle.holds), open cases
(expired) and the evidence of all cases, guardianships (a minor left without a guardian is
suspended), then the account itself (sessions, contacts, second factor, data key; see
accounts.erasure), a line in the erasure ledger (pseudonymous id and time only) for replaying
onto a restored backup, and a notice to every recipient of the person's data.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from service.accounts.erasure import erase_personal_data
from service.accounts.states import AccountEvent
from service.audit import Actor, AuditEntry
from service.cases import store as cases
from service.cases.cases import lock_case, transition
from service.cases.catalogue import CaseType
from service.cases.states import CaseEvent
from service.face import store as face
from service.face.keys import biometric_key_owner
from service.guardians.departure import end_guardianships_of
from service.lifecycle import ledger, personal_data
from service.lifecycle.ledger import ACCOUNT
from service.recipients.notices import NoticeEvent, queue_notices
from service.runtime import Runtime


async def erase_account(
    runtime: Runtime,
    conn: asyncpg.Connection,
    account_id: UUID,
    event: AccountEvent,
    reason: str,
    actor: Actor,
    erased_at: datetime | None = None,
) -> None:
    await face.erase_biometric_data(conn, account_id)
    for verification_id in await face.verification_ids(conn, account_id):
        await runtime.vault.destroy(conn, biometric_key_owner(verification_id))
    # What the registry's entries erase themselves: documents' and exports' content, and every
    # personal value of what stays under the legal hold (lifecycle.personal_data, lifecycle.holds).
    for entry in personal_data.REGISTRY:
        for statement in entry.erase:
            await conn.execute(statement, account_id)
    # Cases still open end here: nobody may go on working on an erased person's data.
    for case_id in await cases.open_of_subject(conn, account_id, [case_type.value for case_type in CaseType]):
        await transition(conn, await lock_case(conn, case_id), CaseEvent.EXPIRE, actor, reason_code="account_erased")
    # Evidence holds personal values, some masked only partly (a name's first character, an ID
    # number's ends): it goes with the person. The cases, their decisions and reason codes stay.
    await cases.erase_evidence_of_subject(conn, account_id, [case_type.value for case_type in CaseType])
    await end_guardianships_of(conn, account_id, actor)
    await erase_personal_data(conn, runtime.vault, account_id, event, actor, reason)
    # A replay keeps the original time, so the legal hold ends when it would have.
    erased_at = await ledger.record(conn, account_id, ACCOUNT, reason, erased_at=erased_at)
    # Everyone who received the person's data is told to delete it too, once: the notice's id and
    # body follow from the erasure, so a replay sends recipients the very notice they had.
    # No reason: "no guardian consent" would tell every recipient the person was a minor.
    await queue_notices(conn, account_id, NoticeEvent.ACCOUNT_ERASED, at=erased_at, once=True)
    await runtime.audit.append(
        conn, AuditEntry(actor, "account.erased", "account", str(account_id), {"reason": reason})
    )
