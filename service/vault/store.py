"""SQL for data keys. A destroyed key keeps its row (who, when) but loses its key material."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec


class WrappedDataKey(msgspec.Struct, frozen=True):
    """An owner's data key as stored: both None once destroyed."""

    master_key_id: str | None
    wrapped_key: bytes | None


class LiveDataKey(msgspec.Struct, frozen=True):
    owner_id: UUID
    master_key_id: str
    wrapped_key: bytes


class MasterKeyRecord(msgspec.Struct, frozen=True):
    key_id: str
    active_since: datetime | None
    emptied_at: datetime | None


async def insert(conn: asyncpg.Connection, owner_id: UUID, master_key_id: str, wrapped: bytes) -> None:
    await conn.execute(
        "INSERT INTO data_keys (owner_id, master_key_id, wrapped_key) VALUES ($1, $2, $3)",
        owner_id,
        master_key_id,
        wrapped,
    )


async def insert_if_missing(conn: asyncpg.Connection, owner_id: UUID, master_key_id: str, wrapped: bytes) -> None:
    await conn.execute(
        """INSERT INTO data_keys (owner_id, master_key_id, wrapped_key) VALUES ($1, $2, $3)
           ON CONFLICT (owner_id) DO NOTHING""",
        owner_id,
        master_key_id,
        wrapped,
    )


async def fetch(conn: asyncpg.Connection, owner_id: UUID) -> WrappedDataKey | None:
    row = await conn.fetchrow("SELECT master_key_id, wrapped_key FROM data_keys WHERE owner_id = $1", owner_id)
    return None if row is None else WrappedDataKey(row["master_key_id"], row["wrapped_key"])


async def destroy(conn: asyncpg.Connection, owner_id: UUID) -> bool:
    result: str = await conn.execute(
        """UPDATE data_keys SET wrapped_key = NULL, master_key_id = NULL, destroyed_at = now()
           WHERE owner_id = $1 AND destroyed_at IS NULL""",
        owner_id,
    )
    return result.endswith(" 1")


async def wrapped_by_other_keys(
    conn: asyncpg.Connection, active_key_id: str, known_key_ids: list[str], limit: int
) -> list[LiveDataKey]:
    """Live keys wrapped by a master key in the ring other than the active one (keys wrapped by
    a master key no longer in the ring cannot be re-wrapped, and are skipped)."""
    rows = await conn.fetch(
        """SELECT owner_id, master_key_id, wrapped_key FROM data_keys
           WHERE destroyed_at IS NULL AND master_key_id <> $1 AND master_key_id = ANY($2::text[])
           ORDER BY owner_id LIMIT $3 FOR UPDATE SKIP LOCKED""",
        active_key_id,
        known_key_ids,
        limit,
    )
    return [LiveDataKey(row["owner_id"], row["master_key_id"], row["wrapped_key"]) for row in rows]


async def replace_wrapping(conn: asyncpg.Connection, owner_id: UUID, master_key_id: str, wrapped: bytes) -> None:
    await conn.execute(
        """UPDATE data_keys SET master_key_id = $2, wrapped_key = $3, rewrapped_at = now()
           WHERE owner_id = $1 AND destroyed_at IS NULL""",
        owner_id,
        master_key_id,
        wrapped,
    )


async def count_by_master_key(conn: asyncpg.Connection) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT master_key_id, count(*) AS n FROM data_keys WHERE destroyed_at IS NULL GROUP BY master_key_id"
    )
    return {row["master_key_id"]: row["n"] for row in rows}


async def record_master_keys(
    conn: asyncpg.Connection, active_key_id: str, ring: list[str], in_use: dict[str, int]
) -> None:
    """Note the active key's first activation, and when each other key came to wrap nothing (cleared
    should one wrap a key again, e.g. after being made active once more). A key first seen wrapping
    nothing counts as emptied now: idv cannot know since when."""
    await conn.execute(
        """INSERT INTO master_keys (key_id, active_since) VALUES ($1, now())
           ON CONFLICT (key_id) DO UPDATE SET active_since = coalesce(master_keys.active_since, now()),
                                               emptied_at = NULL""",
        active_key_id,
    )
    await conn.execute(
        """INSERT INTO master_keys (key_id) SELECT unnest($1::text[]) ON CONFLICT (key_id) DO NOTHING""",
        sorted(set(ring) | set(in_use)),
    )
    await conn.execute(
        """UPDATE master_keys SET emptied_at = CASE WHEN key_id = ANY($2::text[]) THEN NULL
                                                    ELSE coalesce(emptied_at, now()) END
           WHERE key_id <> $1""",
        active_key_id,
        list(in_use),
    )


async def master_keys(conn: asyncpg.Connection) -> list[MasterKeyRecord]:
    rows = await conn.fetch("SELECT key_id, active_since, emptied_at FROM master_keys ORDER BY key_id")
    return [MasterKeyRecord(row["key_id"], row["active_since"], row["emptied_at"]) for row in rows]


async def live_keys_after(conn: asyncpg.Connection, after: str | None, limit: int) -> list[LiveDataKey]:
    """The next live data keys by owner id (vault.reindex walks them)."""
    rows = await conn.fetch(
        """SELECT owner_id, master_key_id, wrapped_key FROM data_keys
           WHERE destroyed_at IS NULL AND owner_id > $1::uuid ORDER BY owner_id LIMIT $2""",
        after or "00000000-0000-0000-0000-000000000000",
        limit,
    )
    return [LiveDataKey(row["owner_id"], row["master_key_id"], row["wrapped_key"]) for row in rows]


class ReindexProgress(msgspec.Struct, frozen=True):
    target: str
    started_at: datetime
    finished_at: datetime | None
    left_behind: int


class ReindexCursor(msgspec.Struct, frozen=True):
    last_row: str | None
    finished_at: datetime | None
    # Started long enough ago (``REINDEX_SETTLE``) for every pod to write under the new key.
    settled: bool


# Pods still running with the old settings may write under the previous key for a little while
# after the rotation is configured; the walk starts once a rolling update has surely finished.
REINDEX_SETTLE = "15 minutes"


async def reindex_progress(conn: asyncpg.Connection, fingerprint: bytes) -> dict[str, ReindexProgress]:
    rows = await conn.fetch(
        "SELECT target, started_at, finished_at, left_behind FROM blind_index_rotations WHERE key_fingerprint = $1",
        fingerprint,
    )
    return {
        row["target"]: ReindexProgress(row["target"], row["started_at"], row["finished_at"], row["left_behind"])
        for row in rows
    }


async def lock_reindex_cursor(conn: asyncpg.Connection, fingerprint: bytes, target: str) -> ReindexCursor:
    """The pass's cursor under this key, made on first use, locked until the transaction ends."""
    await conn.execute(
        """INSERT INTO blind_index_rotations (key_fingerprint, target) VALUES ($1, $2)
           ON CONFLICT (key_fingerprint, target) DO NOTHING""",
        fingerprint,
        target,
    )
    row = await conn.fetchrow(
        f"""SELECT last_row, finished_at, started_at < now() - interval '{REINDEX_SETTLE}' AS settled
            FROM blind_index_rotations WHERE key_fingerprint = $1 AND target = $2 FOR UPDATE""",  # noqa: S608
        fingerprint,
        target,
    )
    assert row is not None
    return ReindexCursor(row["last_row"], row["finished_at"], row["settled"])


async def advance_reindex(
    conn: asyncpg.Connection, fingerprint: bytes, target: str, last_row: str | None, left_behind: int
) -> None:
    """Move the pass's cursor to ``last_row``; None finishes the pass."""
    await conn.execute(
        """UPDATE blind_index_rotations
           SET last_row = coalesce($3, last_row), left_behind = left_behind + $4,
               finished_at = CASE WHEN $3 IS NULL THEN now() END
           WHERE key_fingerprint = $1 AND target = $2""",
        fingerprint,
        target,
        last_row,
        left_behind,
    )
