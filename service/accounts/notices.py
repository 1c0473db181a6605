"""Telling a person what happened to their account, by their verified contacts."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import msgspec

from service.accounts.suspension import HOW_TO_APPEAL, NOTICE_JOB, SuspensionNotice, suspension_message
from service.contacts import store as contacts
from service.courier.outbox import Message, queue_messages
from service.jobs.runner import JobDefinition
from service.runtime import Runtime
from service.vault import DataKeyDestroyed


async def notify(
    runtime: Runtime,
    conn: asyncpg.Connection,
    account_id: UUID,
    templates: tuple[str, str],
    variables: dict[str, str],
) -> bool:
    """Queue a notice to the account's first verified contact, e-mail first (it can carry the whole
    explanation), with the (e-mail, SMS) templates. False when there is nobody to tell."""
    try:
        cipher = await runtime.vault.open(conn, account_id)
    except DataKeyDestroyed:
        return False
    for kind, template in zip(("email", "phone"), templates, strict=True):
        contact = await contacts.fetch(conn, account_id, kind)
        if contact is None or contact["verified_at"] is None:
            continue
        recipient = cipher.open_text(f"contact.{kind}", contact["address"])
        await queue_messages(conn, cipher, [Message(template, recipient, variables)])
        return True
    return False


async def send_suspension_notice(runtime: Runtime, notice: SuspensionNotice) -> bool:
    reason = suspension_message(notice.reason_code) or ""
    async with runtime.database.transaction() as conn:
        return await notify(
            runtime,
            conn,
            notice.account_id,
            ("account_suspended", "account_suspended_sms"),
            {"reason": reason, "appeal": HOW_TO_APPEAL},
        )


def suspension_notice_job(runtime: Runtime) -> JobDefinition:
    async def run(payload: bytes | None) -> None:
        await send_suspension_notice(runtime, msgspec.json.decode(payload or b"", type=SuspensionNotice))

    return JobDefinition(NOTICE_JOB, run, max_attempts=10)
