"""SQL for the audit trail. Position, time and hashes are set by the database's trigger."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
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


# Archiving (service/audit/archive.py). Archive records are written by the owner role only.


class ArchivedHead(msgspec.Struct, frozen=True):
    """One chain's head before and after an archived month."""

    chain: int
    start_seq: int
    start_hash: bytes
    end_seq: int
    end_hash: bytes


class ArchiveRecord(msgspec.Struct, frozen=True):
    id: int
    month: date
    entries: int
    file_name: str
    sha256: bytes
    archived_at: datetime
    heads: tuple[ArchivedHead, ...]


# Held for the whole of an archive run's transaction: two runs at once archive one after the other.
ARCHIVE_LOCK = (0x1D7B, 0)
# The key space of the chains' advisory locks (migration 0004's audit_link).
CHAIN_LOCK = 0x1D7A


async def lock_archiving(conn: asyncpg.Connection) -> None:
    await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", *ARCHIVE_LOCK)


async def wait_for_chain_writers(conn: asyncpg.Connection, chain: int) -> None:
    """Wait until whoever is appending to the chain has committed (the lock audit_link holds)."""
    await conn.execute("SELECT pg_advisory_lock($1, $2)", CHAIN_LOCK, chain)
    await conn.execute("SELECT pg_advisory_unlock($1, $2)", CHAIN_LOCK, chain)


def _archive(rows: list[asyncpg.Record]) -> ArchiveRecord:
    first = rows[0]
    heads = tuple(
        ArchivedHead(row["chain"], row["start_seq"], row["start_hash"], row["end_seq"], row["end_hash"]) for row in rows
    )
    return ArchiveRecord(
        first["id"], first["month"], first["entries"], first["file_name"], first["sha256"], first["archived_at"], heads
    )


_ARCHIVES = """SELECT a.id, a.month, a.entries, a.file_name, a.sha256, a.archived_at,
                      c.chain, c.start_seq, c.start_hash, c.end_seq, c.end_hash
               FROM audit_archives a JOIN audit_archive_chains c ON c.archive_id = a.id"""


async def archives(conn: asyncpg.Connection) -> list[ArchiveRecord]:
    """Every archive record, oldest month first."""
    rows = await conn.fetch(_ARCHIVES + " ORDER BY a.month, c.chain")
    grouped: dict[int, list[asyncpg.Record]] = {}
    for row in rows:
        grouped.setdefault(row["id"], []).append(row)
    return [_archive(group) for group in grouped.values()]


async def archive_of(conn: asyncpg.Connection, month: date) -> ArchiveRecord | None:
    rows = await conn.fetch(_ARCHIVES + " WHERE a.month = $1 ORDER BY c.chain", month)
    return _archive(rows) if rows else None


async def last_archived_month(conn: asyncpg.Connection) -> date | None:
    month: date | None = await conn.fetchval("SELECT max(month) FROM audit_archives")
    return month


async def archived_heads(conn: asyncpg.Connection) -> dict[int, tuple[int, bytes]]:
    """Each chain's head at the end of the last archived month (chains never archived are absent)."""
    rows = await conn.fetch(
        """SELECT DISTINCT ON (chain) chain, end_seq, end_hash FROM audit_archive_chains
           ORDER BY chain, end_seq DESC"""
    )
    return {row["chain"]: (row["end_seq"], row["end_hash"]) for row in rows}


async def oldest_entry_at(conn: asyncpg.Connection) -> datetime | None:
    """When the oldest entry still in the table was written: the earliest of each chain's first entry
    (one index probe per chain; within a chain, time follows seq)."""
    at: datetime | None = await conn.fetchval(
        """SELECT min((SELECT l.at FROM audit_log l WHERE l.chain = c.chain ORDER BY l.seq LIMIT 1))
           FROM audit_chains c"""
    )
    return at


async def last_seqs_before(conn: asyncpg.Connection, before: datetime) -> dict[int, int]:
    """Each chain's last entry written before ``before`` (chains with none are absent). The entries
    before an unarchived month's end are that month's: the BRIN index on ``at`` reads only their blocks."""
    rows = await conn.fetch("SELECT chain, max(seq) AS seq FROM audit_log WHERE at < $1 GROUP BY chain", before)
    return {row["chain"]: row["seq"] for row in rows}


async def hash_at(conn: asyncpg.Connection, chain: int, seq: int) -> bytes | None:
    digest: bytes | None = await conn.fetchval("SELECT hash FROM audit_log WHERE chain = $1 AND seq = $2", chain, seq)
    return digest


async def range_rows(
    conn: asyncpg.Connection, ranges: list[tuple[int, int, int]], batch: int = 2000
) -> AsyncIterator[ChainedEntry]:
    """The entries of each (chain, after seq, up to seq), chain by chain in order; inside a transaction."""
    async for row in conn.cursor(
        """SELECT l.id, l.chain, l.seq, l.at, l.actor_type, l.actor_id, l.action, l.target_type, l.target_id,
                  l.origin, l.before_hash, l.after_hash, l.details, l.prev_hash, l.hash
           FROM unnest($1::smallint[], $2::bigint[], $3::bigint[]) AS r (chain, after_seq, up_to)
           JOIN audit_log l ON l.chain = r.chain AND l.seq > r.after_seq AND l.seq <= r.up_to
           ORDER BY l.chain, l.seq""",
        [r[0] for r in ranges],
        [r[1] for r in ranges],
        [r[2] for r in ranges],
        prefetch=batch,
    ):
        yield chained_entry(row)


async def add_archive(
    conn: asyncpg.Connection, month: date, entries: int, file_name: str, sha256: bytes, heads: list[ArchivedHead]
) -> int:
    """Record an archive and checkpoint each chain's end (chains that ever had an entry)."""
    archive_id: int = await conn.fetchval(
        "INSERT INTO audit_archives (month, entries, file_name, sha256) VALUES ($1, $2, $3, $4) RETURNING id",
        month,
        entries,
        file_name,
        sha256,
    )
    for head in heads:
        checkpoint_id = None
        if head.end_seq:
            checkpoint_id = await conn.fetchval(
                "INSERT INTO audit_checkpoints (chain, seq, hash) VALUES ($1, $2, $3) RETURNING id",
                head.chain,
                head.end_seq,
                head.end_hash,
            )
        await conn.execute(
            """INSERT INTO audit_archive_chains (archive_id, chain, start_seq, start_hash, end_seq, end_hash,
                                                 checkpoint_id)
               VALUES ($1, $2, $3, $4, $5, $6, $7)""",
            archive_id,
            head.chain,
            head.start_seq,
            head.start_hash,
            head.end_seq,
            head.end_hash,
            checkpoint_id,
        )
    return archive_id


# Migration 0036's BRIN index on `at` keeps the default 128 heap pages per range.
BRIN_PAGES_PER_RANGE = 128


async def remove_archived(conn: asyncpg.Connection, heads: list[ArchivedHead]) -> int:
    """Delete the entries the archive record just written covers (migration 0036's trigger checks),
    and forget the BRIN summaries of the block ranges they were in. Vacuum frees that space and new
    entries fill it; a summary is only ever widened, so the range would otherwise say "from the month
    just archived to today" for good, and every later month's `last_seqs_before` would read it too (a
    year of archiving: most of the table). Unsummarized, vacuum summarizes it again from what is in it."""
    rows = await conn.fetch(
        """WITH removed AS (
               DELETE FROM audit_log l
               USING unnest($1::smallint[], $2::bigint[], $3::bigint[]) AS r (chain, after_seq, up_to)
               WHERE l.chain = r.chain AND l.seq > r.after_seq AND l.seq <= r.up_to
               RETURNING (l.ctid::text::point)[0]::bigint AS block)
           SELECT block / $4 * $4 AS first_block, count(*) AS entries FROM removed GROUP BY 1""",
        [h.chain for h in heads],
        [h.start_seq for h in heads],
        [h.end_seq for h in heads],
        BRIN_PAGES_PER_RANGE,
    )
    await conn.execute(
        "SELECT brin_desummarize_range('audit_log_at_brin', b) FROM unnest($1::bigint[]) AS b",
        [row["first_block"] for row in rows],
    )
    return sum(row["entries"] for row in rows)
