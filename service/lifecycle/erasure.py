"""Erasing everything of one person, in one transaction (a worker killed half-way leaves nothing
half-done: the next run starts over and does it all).

Each capability erases its own data: its manifest's ``erase`` step (service.manifest), run in the
order service.capabilities.ERASURE_ORDER declares. Today that is: biometric templates and images
(their keys destroyed; face), what the personal-data registry erases itself (documents' content,
every personal value the legal hold keeps, the ID number's blind index too, and data exports;
lifecycle.personal_data, lifecycle.holds), open cases (expired) and the evidence of all cases
(cases), guardianships (a minor left without a guardian is suspended; guardians), then the account
itself (sessions, contacts, second factor, data key; accounts.erasure). Then a line in the erasure
ledger (pseudonymous id and time only) for replaying onto a restored backup, and a notice to every
recipient of the person's data.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from service.accounts.states import AccountEvent
from service.audit import Actor, AuditEntry
from service.lifecycle import ledger, personal_data
from service.lifecycle.ledger import ACCOUNT
from service.lifecycle.personal_data import AccountErasure
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
    erasure = AccountErasure(account_id, event, reason, actor, runtime.vault)
    for _capability, step in personal_data.ERASURE_STEPS:
        await step(conn, erasure)
    # A replay keeps the original time, so the legal hold ends when it would have.
    erased_at = await ledger.record(conn, account_id, ACCOUNT, reason, erased_at=erased_at)
    # Everyone who received the person's data is told to delete it too, once: the notice's id and
    # body follow from the erasure, so a replay sends recipients the very notice they had.
    # No reason: "no guardian consent" would tell every recipient the person was a minor.
    await queue_notices(conn, account_id, NoticeEvent.ACCOUNT_ERASED, at=erased_at, once=True)
    await runtime.audit.append(
        conn, AuditEntry(actor, "account.erased", "account", str(account_id), {"reason": reason})
    )
