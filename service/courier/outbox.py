"""Queue a message in the caller's transaction, and deliver it from a job."""

from __future__ import annotations

import asyncio
import itertools
import logging
import uuid
from dataclasses import dataclass
from uuid import UUID

import asyncpg
import msgspec

from service.courier import store
from service.courier.adapters import DeliveryFailed, EmailSender, SmsSender
from service.courier.templates import TEMPLATES, Channel, render
from service.database.pool import CONNECTION_ERRORS, Database, DatabaseUnavailable
from service.i18n.languages import Language
from service.jobs.queue import enqueue
from service.jobs.runner import JobDefinition
from service.vault import DataKeyDestroyed, OwnerCipher, Vault
from service.vault.labels import VaultField

logger = logging.getLogger(__name__)

DELIVER = "courier.deliver"
# About two minutes of a database away (a failover takes seconds) before a sent message's job fails.
RECORD_SENT_ATTEMPTS = 125
# What recording a sent message waits out rather than fails on.
RECORD_RETRIED: tuple[type[Exception], ...] = (*CONNECTION_ERRORS, DatabaseUnavailable)


class DeliverMessages(msgspec.Struct, frozen=True):
    """One job for the messages one command queued (a registration's e-mail and SMS)."""

    message_ids: list[UUID]


@dataclass(frozen=True)
class Message:
    template: str
    recipient: str
    variables: dict[str, str]


async def queue_messages(conn: asyncpg.Connection, cipher: OwnerCipher, messages: list[Message]) -> list[UUID]:
    """Seal recipients and variables under the owner's key (an account's or an operator's) and
    enqueue their delivery."""
    ids = [uuid.uuid4() for _ in messages]
    rows = [
        (
            message_id,
            TEMPLATES[m.template].channel.value,
            m.template,
            cipher.seal(VaultField.COURIER_RECIPIENT, m.recipient),
            cipher.seal(VaultField.COURIER_VARIABLES, msgspec.json.encode(m.variables)),
        )
        for message_id, m in zip(ids, messages, strict=True)
    ]
    await store.insert_many(conn, cipher.owner_id, rows)
    await enqueue(conn, DELIVER, DeliverMessages(ids))
    return ids


@dataclass
class Courier:
    database: Database
    vault: Vault
    email: EmailSender
    sms: SmsSender
    service_name: str
    default_language: Language = Language.ZH_CN
    # The sender's signature registered with the carriers, shown in 【】 at the start of every SMS.
    sms_signature: str = "idv"

    async def deliver(self, message_id: UUID) -> bool:
        """Send one queued message. True when sent now; False when there was nothing to send.

        No transaction is held while the message travels (an SMTP server may take seconds, and
        the pool is shared with requests). Delivery is therefore at least once: a job picked up
        again while its first run still sends may send twice, which is harmless for codes
        (only the newest one counts)."""
        async with self.database.connection() as conn:
            row = await store.fetch_queued(conn, message_id)
            if row is None:
                return False
            try:
                cipher = await self.vault.open(conn, row.owner_id)
            except DataKeyDestroyed:
                await store.mark_abandoned(conn, message_id, "account erased")
                return False
        recipient = cipher.open_text(VaultField.COURIER_RECIPIENT, row.recipient)
        variables = msgspec.json.decode(cipher.open(VaultField.COURIER_VARIABLES, row.variables))
        language = Language(row.language) if row.language else self.default_language
        subject, body = render(
            row.template, {"service": self.service_name, **variables}, language, signature=self.sms_signature
        )
        # Shielded: a job cancelled while its message travels (a shutdown, a lost connection) must not
        # part the sending from its record, or the retry sends the message a second time. The send
        # and its record run to the end in their own task; the cancellation reaches the job after.
        await asyncio.shield(
            asyncio.ensure_future(self._send_and_record(message_id, row.template, recipient, subject, body))
        )
        return True

    async def _send_and_record(
        self, message_id: UUID, template_name: str, recipient: str, subject: str, body: str
    ) -> None:
        channel = TEMPLATES[template_name].channel
        try:
            if channel is Channel.EMAIL:
                await self.email.send_email(recipient, subject, body)
            else:
                await self.sms.send_sms(recipient, body)
        except DeliveryFailed as failure:
            async with self.database.connection() as conn:
                await store.mark_failed_attempt(conn, message_id, str(failure))
            logger.warning("delivery failed", extra={"template": template_name, "error": str(failure)})
            raise
        await self._record_sent(message_id)
        logger.info("message sent", extra={"template": template_name, "channel": channel})

    async def _record_sent(self, message_id: UUID) -> None:
        """The message has left: if the database is away (a restart, a failover), wait for it
        rather than fail the job, whose retry would send the message a second time. The runner
        waits for this job before it reconnects, so it is recorded before the job is picked again."""
        for attempt in itertools.count():
            try:
                async with self.database.connection() as conn:
                    await store.mark_sent(conn, message_id)
                return
            # A pool that cannot hand out a connection in time (it is reconnecting after the database
            # came back) is the database away too: giving up here would send the message again.
            except RECORD_RETRIED:
                if attempt >= RECORD_SENT_ATTEMPTS:
                    raise
                await asyncio.sleep(min(1.0, 0.05 * 2**attempt))

    async def deliver_queued(self) -> int:
        """Deliver everything queued, in order (what the worker would do), for tools and tests."""
        async with self.database.connection() as conn:
            ids = await store.queued_ids(conn)
        return sum([await self.deliver(message_id) for message_id in ids])


def delivery_job(courier: Courier) -> JobDefinition:
    async def deliver(payload: bytes | None) -> None:
        assert payload is not None
        failures: list[DeliveryFailed] = []
        for message_id in msgspec.json.decode(payload, type=DeliverMessages).message_ids:
            try:
                await courier.deliver(message_id)
            except DeliveryFailed as exc:
                failures.append(exc)
        if failures:
            # Retried as a whole; messages already sent are skipped because they are no longer queued.
            raise failures[0]

    return JobDefinition(DELIVER, deliver, max_attempts=10)
