"""SQL for the audit trail. Position, time and hashes are set by the database's trigger."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec


class AuditLogEntry(msgspec.Struct, frozen=True):
    id: int
    at: datetime
    actor_type: str
    actor_id: str
    action: str
    target_type: str
    target_id: str
    # JSON text, as it was hashed into the chain.
    details: str


class ChainedEntry(msgspec.Struct, frozen=True):
    """An entry as the chain covers it (chain.canonical_text)."""

    id: int
    chain: int
    seq: int
    at: datetime
    actor_type: str
    actor_id: str
    action: str
    target_type: str
    target_id: str
    origin: bytes | None
    before_hash: bytes | None
    after_hash: bytes | None
    details: str
    prev_hash: bytes
    hash: bytes


class Chain(msgspec.Struct, frozen=True):
    chain: int
    genesis: bytes


class Checkpoint(msgspec.Struct, frozen=True):
    chain: int
    seq: int
    hash: bytes
    at: datetime


class OwnActivity(msgspec.Struct, frozen=True):
    id: int
    at: datetime
    action: str
    # JSON text.
    details: str
    # Sealed; None for what an operator did.
    origin: bytes | None


def chained_entry(row: asyncpg.Record) -> ChainedEntry:
    return ChainedEntry(
        id=row["id"],
        chain=row["chain"],
        seq=row["seq"],
        at=row["at"],
        actor_type=row["actor_type"],
        actor_id=row["actor_id"],
        action=row["action"],
        target_type=row["target_type"],
        target_id=row["target_id"],
        origin=row["origin"],
        before_hash=row["before_hash"],
        after_hash=row["after_hash"],
        details=row["details"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


INSERT = """
INSERT INTO audit_log (chain, seq, at, actor_type, actor_id, action, target_type, target_id,
                       origin, before_hash, after_hash, details, prev_hash, hash)
VALUES (0, 0, now(), $1, $2, $3, $4, $5, $6, $7, $8, $9, '', '')
"""


async def insert(
    conn: asyncpg.Connection,
    *,
    actor_type: str,
    actor_id: str,
    action: str,
    target_type: str,
    target_id: str,
    origin: bytes | None,
    before_hash: bytes | None,
    after_hash: bytes | None,
    details: str,
) -> None:
    await conn.execute(
        INSERT, actor_type, actor_id, action, target_type, target_id, origin, before_hash, after_hash, details
    )


async def chain_rows(conn: asyncpg.Connection, batch: int = 2000) -> AsyncIterator[ChainedEntry]:
    """Every entry, chain by chain in order; run inside a transaction (a server-side cursor)."""
    async for row in conn.cursor(
        """SELECT id, chain, seq, at, actor_type, actor_id, action, target_type, target_id, origin,
                  before_hash, after_hash, details, prev_hash, hash
           FROM audit_log ORDER BY chain, seq""",
        prefetch=batch,
    ):
        yield chained_entry(row)


async def chains(conn: asyncpg.Connection) -> list[Chain]:
    rows = await conn.fetch("SELECT chain, genesis FROM audit_chains ORDER BY chain")
    return [Chain(row["chain"], row["genesis"]) for row in rows]


async def latest_checkpoints(conn: asyncpg.Connection) -> list[Checkpoint]:
    rows = await conn.fetch(
        # The furthest each chain was ever seen to reach: a later, shorter checkpoint cannot hide a cut.
        "SELECT DISTINCT ON (chain) chain, seq, hash, at FROM audit_checkpoints ORDER BY chain, seq DESC, id"
    )
    return [Checkpoint(row["chain"], row["seq"], row["hash"], row["at"]) for row in rows]


async def add_checkpoints(conn: asyncpg.Connection, heads: list[tuple[int, int, bytes]]) -> None:
    await conn.executemany("INSERT INTO audit_checkpoints (chain, seq, hash) VALUES ($1, $2, $3)", heads)


async def for_target(conn: asyncpg.Connection, target_type: str, target_id: str, limit: int) -> list[AuditLogEntry]:
    rows = await conn.fetch(
        """SELECT id, at, actor_type, actor_id, action, target_type, target_id, details
           FROM audit_log WHERE target_type = $1 AND target_id = $2 ORDER BY at DESC, id DESC LIMIT $3""",
        target_type,
        target_id,
        limit,
    )
    return [
        AuditLogEntry(
            row["id"],
            row["at"],
            row["actor_type"],
            row["actor_id"],
            row["action"],
            row["target_type"],
            row["target_id"],
            row["details"],
        )
        for row in rows
    ]


async def activity_of(
    conn: asyncpg.Connection,
    account_id: UUID,
    actions: list[str],
    since: datetime,
    before: int | None,
    limit: int,
) -> list[OwnActivity]:
    """The account's own entries among ``actions`` since ``since``, newest first, from before entry ``before``.

    The origin is given only for what the person did themselves or anonymous callers did against their account
    (sign-in attempts), never for an operator's entry (the same rule as the export's)."""
    rows = await conn.fetch(
        """SELECT id, at, action, details,
                  CASE WHEN (actor_type = 'user' AND actor_id = $1::text) OR actor_type = 'anonymous'
                       THEN origin END AS origin
           FROM audit_log
           WHERE target_type = 'account' AND target_id = $1::text AND action = ANY($2::text[]) AND at >= $3
             AND ($4::bigint IS NULL OR id < $4)
           ORDER BY id DESC LIMIT $5""",
        str(account_id),
        actions,
        since,
        before,
        limit,
    )
    return [OwnActivity(row["id"], row["at"], row["action"], row["details"], row["origin"]) for row in rows]


async def any_for_target(conn: asyncpg.Connection, action: str, target_type: str, target_id: str) -> bool:
    found: bool = await conn.fetchval(
        """SELECT EXISTS (SELECT 1 FROM audit_log WHERE target_type = $1 AND target_id = $2 AND action = $3)""",
        target_type,
        target_id,
        action,
    )
    return found
