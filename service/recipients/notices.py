"""Notices to recipients: queued in the transaction that erases, corrects or withdraws, delivered
by a job as a signed webhook, retried with backoff until acknowledged (a 2xx answer).

The body is JSON of the pseudonymous account id, the event, its time and codes; it is signed with
HMAC-SHA256 over ``timestamp + "\\n" + body`` with the recipient's secret (``X-Idv-Timestamp``,
``X-Idv-Signature``), as the real-name adapter signs its requests. Notices not acknowledged are
listed for privacy officers.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from uuid import UUID

import asyncpg
import httpx
import msgspec

from service.audit import AuditEntry
from service.errors import Conflict, NotFound
from service.jobs import queue
from service.jobs.queue import enqueue
from service.jobs.runner import JobDefinition
from service.operators.auth import OperatorPrincipal
from service.realname.providers import signature
from service.recipients import destinations, store
from service.recipients.keys import RECIPIENT_SECRETS
from service.runtime import Runtime
from service.settings import Environment
from service.vault.labels import VaultField

DELIVER_JOB = "recipients.deliver_notice"
_ONCE_NOTICES = uuid.UUID("4f0c2b8e-3a57-4c1d-9e62-7d5b1a0f8c34")
TIMEOUT_SECONDS = 10.0


class NoticeEvent(StrEnum):
    ACCOUNT_ERASED = "account.erased"
    CONSENT_WITHDRAWN = "consent.withdrawn"
    DATA_CORRECTED = "data.corrected"


class NoticeBody(msgspec.Struct, frozen=True):
    event: NoticeEvent
    account_id: UUID
    at: datetime
    details: dict[str, str]


class DeliverNotice(msgspec.Struct, frozen=True):
    notice_id: UUID


class NoticeNotAcknowledged(Exception):
    pass


async def queue_notices(
    conn: asyncpg.Connection,
    account_id: UUID,
    event: NoticeEvent,
    details: dict[str, str] | None = None,
    *,
    at: datetime | None = None,
    once: bool = False,
) -> int:
    """Queue the event for every recipient that received this person's data.

    ``once`` for an event that happens once per person (an erasure): each recipient's notice id
    follows from the event, the person and the recipient, and with ``at`` fixed the body does
    too, so queueing it again (a replay onto a restored backup) gives the recipient the very
    notice it had, which it deduplicates by ``X-Idv-Notice-Id``.
    """
    payload = msgspec.json.encode(NoticeBody(event, account_id, at or datetime.now(UTC), details or {}))
    recipients = await store.recipients_of(conn, account_id)
    for recipient_id in recipients:
        notice_id = uuid.uuid5(_ONCE_NOTICES, f"{event}:{account_id}:{recipient_id}") if once else uuid.uuid4()
        if await store.insert_notice(conn, notice_id, recipient_id, account_id, event, payload):
            await enqueue(conn, DELIVER_JOB, DeliverNotice(notice_id), dedupe_key=delivery_key(notice_id))
    return len(recipients)


def delivery_key(notice_id: UUID) -> str:
    """A notice's delivery attempts are one job at a time, found by this key."""
    return f"{DELIVER_JOB}:{notice_id}"


async def deliver(runtime: Runtime, notice_id: UUID) -> bool:
    """Send one notice; True once acknowledged. Raises NoticeNotAcknowledged to be retried."""
    async with runtime.database.connection() as conn:
        row = await store.notice_to_send(conn, notice_id)
        if row is None or row.acknowledged_at is not None:
            return row is not None
        cipher = await runtime.vault.open_or_create(conn, RECIPIENT_SECRETS)
    secret = cipher.open(VaultField.RECIPIENT_SECRET, row.secret)
    timestamp = str(int(time.time()))
    headers = {
        "content-type": "application/json",
        "x-idv-timestamp": timestamp,
        "x-idv-signature": signature(secret, timestamp, row.payload),
        "x-idv-notice-id": str(notice_id),
    }
    error: str | None = None
    try:
        await destinations.check(row.webhook_url, production=runtime.settings.env is Environment.PRODUCTION)
        # Redirects are not followed: a 3xx is not an acknowledgement, and could point inward.
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
            response = await client.post(row.webhook_url, content=row.payload, headers=headers)
        if not response.is_success:
            error = f"HTTP {response.status_code}"
    except destinations.UnsafeDestination as exc:
        error = exc.code
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        error = type(exc).__name__
    async with runtime.database.connection() as conn:
        await store.record_attempt(conn, notice_id, error)
    if error is not None:
        raise NoticeNotAcknowledged(error)
    return True


async def resend(runtime: Runtime, operator: OperatorPrincipal, notice_id: UUID) -> None:
    """Attempt delivery now, e.g. once a recipient fixed its endpoint. While the automatic retries
    still run, their next attempt is brought forward (never a second chain of retries beside the
    first); once they have run out, a new round of attempts is queued."""
    async with runtime.database.transaction() as conn:
        # The lock orders resends of one notice: the second sees the first's job.
        acknowledged = await store.lock_notice(conn, notice_id)
        if acknowledged is None:
            raise NotFound("notice_not_found", "No such notice")
        if acknowledged:
            raise Conflict("notice_acknowledged", "The recipient has acknowledged this notice")
        key = delivery_key(notice_id)
        live = (await queue.live_jobs(conn, [key])).get(key)
        if live is None:
            await enqueue(conn, DELIVER_JOB, DeliverNotice(notice_id), dedupe_key=key)
        else:
            await queue.run_now(conn, live.id)
        details = {"retries": "new" if live is None else "brought_forward"}
        await runtime.audit.append(
            conn, AuditEntry(operator.actor, "recipient.notice_resent", "recipient_notice", str(notice_id), details)
        )


async def unacknowledged_counts(conn: asyncpg.Connection) -> list[tuple[str, int]]:
    """Per event, including those with none open, so a gauge falls back to zero."""
    return await store.unacknowledged_by_event(conn, [event.value for event in NoticeEvent])


def delivery_job(runtime: Runtime) -> JobDefinition:
    async def run(payload: bytes | None) -> None:
        await deliver(runtime, msgspec.json.decode(payload or b"", type=DeliverNotice).notice_id)

    return JobDefinition(
        DELIVER_JOB, run, max_attempts=15, initial_retry_delay=timedelta(seconds=30), max_retry_delay=timedelta(hours=6)
    )
