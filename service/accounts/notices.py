"""Telling a person what happened to their account, by their verified contacts."""

from __future__ import annotations

import msgspec

from service.accounts.suspension import HOW_TO_APPEAL, NOTICE_JOB, SuspensionNotice, suspension_message
from service.contacts import store as contacts
from service.courier.outbox import Message, queue_messages
from service.jobs.runner import JobDefinition
from service.runtime import Runtime
from service.vault import DataKeyDestroyed

# Template per contact kind; e-mail first, since it can carry the whole explanation.
_TEMPLATES = (("email", "account_suspended"), ("phone", "account_suspended_sms"))


async def send_suspension_notice(runtime: Runtime, notice: SuspensionNotice) -> bool:
    """Queue the notice to the first verified contact. False when there is nobody to tell."""
    async with runtime.database.transaction() as conn:
        try:
            cipher = await runtime.vault.open(conn, notice.account_id)
        except DataKeyDestroyed:
            return False
        for kind, template in _TEMPLATES:
            contact = await contacts.fetch(conn, notice.account_id, kind)
            if contact is None or contact["verified_at"] is None:
                continue
            recipient = cipher.open_text(f"contact.{kind}", contact["address"])
            reason = suspension_message(notice.reason_code) or ""
            await queue_messages(
                conn, cipher, [Message(template, recipient, {"reason": reason, "appeal": HOW_TO_APPEAL})]
            )
            return True
    return False


def suspension_notice_job(runtime: Runtime) -> JobDefinition:
    async def run(payload: bytes | None) -> None:
        await send_suspension_notice(runtime, msgspec.json.decode(payload or b"", type=SuspensionNotice))

    return JobDefinition(NOTICE_JOB, run, max_attempts=10)
