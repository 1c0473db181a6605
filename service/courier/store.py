"""SQL for the courier's outbox."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import msgspec


class QueuedMessage(msgspec.Struct, frozen=True):
    """A message waiting to be sent; recipient and variables are sealed under the owner's key."""

    id: UUID
    owner_id: UUID
    channel: str
    template: str
    recipient: bytes
    # Wiped only when the message leaves the queue (sent or abandoned).
    variables: bytes
    # The recipient's language when the owner is a person who chose one (None: the service's default).
    language: str | None = None


async def insert_many(
    conn: asyncpg.Connection, owner_id: UUID, rows: list[tuple[UUID, str, str, bytes, bytes]]
) -> None:
    """(id, channel, template, sealed recipient, sealed variables) messages, in one statement."""
    await conn.execute(
        """INSERT INTO courier_messages (id, owner_id, channel, template, recipient, variables)
           SELECT id, $1, channel, template, recipient, variables
           FROM unnest($2::uuid[], $3::text[], $4::text[], $5::bytea[], $6::bytea[])
                AS m(id, channel, template, recipient, variables)""",
        owner_id,
        *([r[i] for r in rows] for i in range(5)),
    )


async def fetch_queued(conn: asyncpg.Connection, message_id: UUID) -> QueuedMessage | None:
    # The language is read when the message leaves, so a change made since it was queued counts.
    row = await conn.fetchrow(
        """SELECT m.id, m.owner_id, m.channel, m.template, m.recipient, m.variables, a.preferred_language
           FROM courier_messages m LEFT JOIN accounts a ON a.id = m.owner_id
           WHERE m.id = $1 AND m.status = 'queued'""",
        message_id,
    )
    if row is None:
        return None
    return QueuedMessage(
        row["id"],
        row["owner_id"],
        row["channel"],
        row["template"],
        row["recipient"],
        row["variables"],
        row["preferred_language"],
    )


async def mark_sent(conn: asyncpg.Connection, message_id: UUID) -> None:
    # The variables (codes) are wiped once delivered: the outbox is not an archive of secrets.
    await conn.execute(
        """UPDATE courier_messages SET status = 'sent', sent_at = now(), variables = NULL,
                  attempts = attempts + 1, last_error = NULL WHERE id = $1 AND status = 'queued'""",
        message_id,
    )


async def mark_failed_attempt(conn: asyncpg.Connection, message_id: UUID, error: str) -> None:
    await conn.execute(
        "UPDATE courier_messages SET attempts = attempts + 1, last_error = $2 WHERE id = $1",
        message_id,
        error,
    )


async def mark_abandoned(conn: asyncpg.Connection, message_id: UUID, reason: str) -> None:
    await conn.execute(
        """UPDATE courier_messages SET status = 'abandoned', variables = NULL, last_error = $2
           WHERE id = $1""",
        message_id,
        reason,
    )


async def queued_ids(conn: asyncpg.Connection) -> list[UUID]:
    rows = await conn.fetch("SELECT id FROM courier_messages WHERE status = 'queued' ORDER BY created_at")
    return [row["id"] for row in rows]
