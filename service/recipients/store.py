"""SQL for recipients, disclosures and the notices owed to recipients."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec


class Recipient(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    kind: str
    webhook_url: str
    created_at: datetime


class NoticeToSend(msgspec.Struct, frozen=True):
    id: UUID
    payload: bytes
    acknowledged_at: datetime | None
    webhook_url: str
    secret: bytes  # sealed under the recipient secrets' key


class OpenNotice(msgspec.Struct, frozen=True):
    """A notice its recipient has not acknowledged yet."""

    id: UUID
    recipient: str
    account_id: UUID
    event: str
    attempts: int
    last_error: str | None
    created_at: datetime


def _recipient(row: asyncpg.Record) -> Recipient:
    return Recipient(row["id"], row["name"], row["kind"], row["webhook_url"], row["created_at"])


async def insert_recipient(
    conn: asyncpg.Connection, recipient_id: UUID, name: str, kind: str, webhook_url: str, secret: bytes
) -> Recipient | None:
    """The new recipient, or None when the name is taken."""
    row = await conn.fetchrow(
        """INSERT INTO recipients (id, name, kind, webhook_url, secret) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (name) DO NOTHING RETURNING id, name, kind, webhook_url, created_at""",
        recipient_id,
        name,
        kind,
        webhook_url,
        secret,
    )
    return None if row is None else _recipient(row)


async def recipients(conn: asyncpg.Connection) -> list[Recipient]:
    rows = await conn.fetch("SELECT id, name, kind, webhook_url, created_at, disabled_at FROM recipients ORDER BY name")
    return [_recipient(row) for row in rows]


async def recipient(conn: asyncpg.Connection, recipient_id: UUID) -> Recipient | None:
    row = await conn.fetchrow("SELECT * FROM recipients WHERE id = $1", recipient_id)
    return None if row is None else _recipient(row)


async def record_disclosure(
    conn: asyncpg.Connection, recipient_id: UUID, account_id: UUID, categories: list[str]
) -> None:
    await conn.execute(
        "INSERT INTO disclosures (recipient_id, account_id, categories) VALUES ($1, $2, $3)",
        recipient_id,
        account_id,
        categories,
    )


async def recipients_of(conn: asyncpg.Connection, account_id: UUID) -> list[UUID]:
    rows = await conn.fetch(
        """SELECT DISTINCT d.recipient_id FROM disclosures d JOIN recipients r ON r.id = d.recipient_id
           WHERE d.account_id = $1 AND r.disabled_at IS NULL""",
        account_id,
    )
    return [row["recipient_id"] for row in rows]


async def insert_notice(
    conn: asyncpg.Connection, notice_id: UUID, recipient_id: UUID, account_id: UUID, event: str, payload: bytes
) -> bool:
    """False when a notice with this id exists already."""
    inserted = await conn.fetchval(
        """INSERT INTO recipient_notices (id, recipient_id, account_id, event, payload)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING RETURNING 1""",
        notice_id,
        recipient_id,
        account_id,
        event,
        payload,
    )
    return inserted is not None


async def notice_to_send(conn: asyncpg.Connection, notice_id: UUID) -> NoticeToSend | None:
    row = await conn.fetchrow(
        """SELECT n.id, n.payload, n.acknowledged_at, r.webhook_url, r.secret
           FROM recipient_notices n JOIN recipients r ON r.id = n.recipient_id WHERE n.id = $1""",
        notice_id,
    )
    if row is None:
        return None
    return NoticeToSend(row["id"], row["payload"], row["acknowledged_at"], row["webhook_url"], row["secret"])


async def lock_notice(conn: asyncpg.Connection, notice_id: UUID) -> bool | None:
    """Whether the notice is acknowledged (None: no such notice)."""
    row = await conn.fetchrow(
        "SELECT acknowledged_at IS NOT NULL AS acknowledged FROM recipient_notices WHERE id = $1 FOR UPDATE", notice_id
    )
    return None if row is None else bool(row["acknowledged"])


async def record_attempt(conn: asyncpg.Connection, notice_id: UUID, error: str | None) -> None:
    await conn.execute(
        """UPDATE recipient_notices
           SET attempts = attempts + 1, last_error = $2,
               acknowledged_at = CASE WHEN $2::text IS NULL THEN now() ELSE acknowledged_at END
           WHERE id = $1""",
        notice_id,
        error,
    )


async def unacknowledged(conn: asyncpg.Connection) -> list[OpenNotice]:
    rows = await conn.fetch(
        """SELECT n.id, r.name AS recipient, n.account_id, n.event, n.attempts, n.last_error, n.created_at
           FROM recipient_notices n JOIN recipients r ON r.id = n.recipient_id
           WHERE n.acknowledged_at IS NULL ORDER BY n.created_at"""
    )
    return [
        OpenNotice(
            row["id"],
            row["recipient"],
            row["account_id"],
            row["event"],
            row["attempts"],
            row["last_error"],
            row["created_at"],
        )
        for row in rows
    ]


async def unacknowledged_by_event(conn: asyncpg.Connection, events: list[str]) -> list[tuple[str, int]]:
    rows = await conn.fetch(
        """SELECT e.event, count(n.id) AS open FROM unnest($1::text[]) AS e (event)
           LEFT JOIN recipient_notices n ON n.event = e.event AND n.acknowledged_at IS NULL
           GROUP BY e.event""",
        events,
    )
    return [(row["event"], row["open"]) for row in rows]
