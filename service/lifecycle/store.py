"""SQL for cancellations."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg


async def insert(conn: asyncpg.Connection, cancellation_id: UUID, account_id: UUID, erase_after: datetime) -> None:
    await conn.execute(
        "INSERT INTO cancellations (id, account_id, erase_after) VALUES ($1, $2, $3)",
        cancellation_id,
        account_id,
        erase_after,
    )


async def withdraw(conn: asyncpg.Connection, account_id: UUID) -> bool:
    result = await conn.fetchval(
        """UPDATE cancellations SET withdrawn_at = now()
           WHERE account_id = $1 AND withdrawn_at IS NULL AND erased_at IS NULL RETURNING 1""",
        account_id,
    )
    return result is not None


async def lock_next_due(conn: asyncpg.Connection) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT id, account_id FROM cancellations
           WHERE withdrawn_at IS NULL AND erased_at IS NULL AND erase_after <= now()
           ORDER BY erase_after LIMIT 1 FOR UPDATE SKIP LOCKED"""
    )


async def mark_erased(conn: asyncpg.Connection, cancellation_id: UUID) -> None:
    await conn.execute("UPDATE cancellations SET erased_at = now() WHERE id = $1", cancellation_id)


async def latest_erase_after(conn: asyncpg.Connection, account_id: UUID) -> datetime | None:
    """When the latest cancellation was to erase the account, even if kept since."""
    value: datetime | None = await conn.fetchval(
        "SELECT erase_after FROM cancellations WHERE account_id = $1 ORDER BY requested_at DESC LIMIT 1", account_id
    )
    return value


async def open_erase_after(conn: asyncpg.Connection, account_id: UUID) -> datetime | None:
    value: datetime | None = await conn.fetchval(
        """SELECT erase_after FROM cancellations
           WHERE account_id = $1 AND withdrawn_at IS NULL AND erased_at IS NULL""",
        account_id,
    )
    return value
