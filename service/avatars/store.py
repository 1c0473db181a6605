"""SQL for avatars: one row a person, ``content`` sealed under the account's key (avatar.content)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg


@dataclass(frozen=True, slots=True)
class StoredAvatar:
    kind: str
    content: bytes  # sealed
    side: int
    updated_at: datetime


async def put(
    conn: asyncpg.Connection, account_id: UUID, kind: str, content: bytes, byte_size: int, side: int
) -> datetime:
    """Set or replace the person's avatar; returns when."""
    updated_at: datetime = await conn.fetchval(
        """INSERT INTO avatars (account_id, kind, content, byte_size, side) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (account_id) DO UPDATE
           SET kind = excluded.kind, content = excluded.content, byte_size = excluded.byte_size,
               side = excluded.side, updated_at = now()
           RETURNING updated_at""",
        account_id,
        kind,
        content,
        byte_size,
        side,
    )
    return updated_at


async def get(conn: asyncpg.Connection, account_id: UUID) -> StoredAvatar | None:
    row = await conn.fetchrow("SELECT kind, content, side, updated_at FROM avatars WHERE account_id = $1", account_id)
    return None if row is None else StoredAvatar(row["kind"], row["content"], row["side"], row["updated_at"])


async def delete(conn: asyncpg.Connection, account_id: UUID) -> bool:
    return await conn.fetchval("DELETE FROM avatars WHERE account_id = $1 RETURNING true", account_id) is not None
