"""Telling a person what happened to their account, by their verified contacts."""

from __future__ import annotations

from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from service.accounts.reasons import next_step, user_message
from service.accounts.transitions import NOTICE_JOB, StateNotice
from service.contacts import store as contacts
from service.courier.outbox import Message, queue_messages
from service.jobs.runner import JobDefinition
from service.lifecycle import store as cancellations
from service.runtime import Runtime
from service.vault import DataKeyDestroyed
from service.vault.labels import VaultField


async def notify(
    runtime: Runtime,
    conn: asyncpg.Connection,
    account_id: UUID,
    templates: tuple[str, str],
    variables: dict[str, str],
) -> bool:
    """Queue a notice to the verified contact the person chose for notices, else the e-mail (it can
    carry the whole explanation), else the phone, with the (e-mail, SMS) templates. False when
    there is nobody to tell."""
    try:
        cipher = await runtime.vault.open(conn, account_id)
    except DataKeyDestroyed:
        return False
    contact = await contacts.notice_recipient(conn, account_id)
    if contact is None:
        return False
    recipient = cipher.open_text(VaultField.contact(contact.kind.value), contact.address)
    template = templates[0] if contact.kind is contacts.ContactKind.EMAIL else templates[1]
    await queue_messages(conn, cipher, [Message(template, recipient, variables)])
    return True


async def notify_every_contact(
    runtime: Runtime,
    conn: asyncpg.Connection,
    account_id: UUID,
    templates: tuple[str, str],
    variables: dict[str, str],
) -> int:
    """Queue a security notice to every verified contact of the account (e-mail and SMS templates):
    a password change or a recovery must reach the owner wherever they still read. Unverified
    contacts get nothing: they may be someone else's. How many were queued."""
    try:
        cipher = await runtime.vault.open(conn, account_id)
    except DataKeyDestroyed:
        return 0
    messages = []
    for kind, template in zip(("email", "phone"), templates, strict=True):
        contact = await contacts.fetch(conn, account_id, kind)
        if contact is not None and contact.verified_at is not None:
            messages.append(Message(template, cipher.open_text(VaultField.contact(kind), contact.address), variables))
    if messages:
        await queue_messages(conn, cipher, messages)
    return len(messages)


async def send_state_notice(runtime: Runtime, notice: StateNotice) -> bool:
    """Queue the notice of a state change; its templates may use {reason}, {next_step} and {erase_on}."""
    async with runtime.database.transaction() as conn:
        erase_after = await cancellations.latest_erase_after(conn, notice.account_id)
        variables = {
            "reason": user_message(notice.reason_code),
            "next_step": next_step(notice.reason_code) or "",
            "erase_on": erase_after.astimezone(ZoneInfo(runtime.settings.time_zone)).date().isoformat()
            if erase_after
            else "",
        }
        templates = (notice.notice, f"{notice.notice}_sms")
        return await notify(runtime, conn, notice.account_id, templates, variables)


def state_notice_job(runtime: Runtime) -> JobDefinition:
    async def run(payload: bytes | None) -> None:
        await send_state_notice(runtime, msgspec.json.decode(payload or b"", type=StateNotice))

    return JobDefinition(NOTICE_JOB, run, max_attempts=10)
