"""`idv audit verify`, `idv audit archive` and `idv audit verify-archive`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import asyncpg

from service.audit import store
from service.audit.archive import (
    ArchiveCheck,
    ArchivedMonth,
    archive_months,
    header_of,
    month_of,
)
from service.audit.chain import ChainReport, record_checkpoint, verify


async def verify_database(dsn: str) -> ChainReport:
    conn = await asyncpg.connect(dsn)
    try:
        report = await verify(conn)
        if report.intact:
            await record_checkpoint(conn, report)
        return report
    finally:
        await conn.close()


def describe(report: ChainReport) -> str:
    lines = [f"audit trail: {report.entries} entries on {report.chains} chains"]
    if report.archived_through is not None:
        lines.append(
            f"months up to {report.archived_through:%Y-%m} are archived (check their files with "
            "`idv audit verify-archive`); chains start from the heads their last archive recorded, "
            "not from the public genesis hashes:"
        )
        lines += [
            f"  chain {chain}: from seq {seq} {digest.hex()}" for chain, (seq, digest) in sorted(report.starts.items())
        ]
    if report.broken is None:
        lines.append("every chain is intact; their ends (also checkpointed; copy them elsewhere too):")
        lines += [f"  chain {chain}: seq {seq} {digest.hex()}" for chain, (seq, digest) in sorted(report.heads.items())]
    else:
        broken = report.broken
        where = f"entry id {broken.entry_id}" if broken.entry_id is not None else "end of chain"
        lines.append(f"BROKEN: chain {broken.chain}, seq {broken.seq} ({where}): {broken.problem}")
    return "\n".join(lines)


async def archive_database(
    owner_dsn: str, out_dir: Path, before: date, *, online_months: int, today: date
) -> list[ArchivedMonth]:
    """Archive as the owner: the service role may neither write archive records nor delete entries."""
    conn = await asyncpg.connect(owner_dsn)
    try:
        return await archive_months(conn, out_dir, before, online_months=online_months, today=today)
    finally:
        await conn.close()


def describe_archived(archived: list[ArchivedMonth]) -> str:
    if not archived:
        return "nothing to archive: every month before the one given is archived already (or has no entries)"
    lines: list[str] = []
    for month in archived:
        lines.append(
            f"archived {month.month:%Y-%m}: {month.entries} entries -> {month.path} sha256 {month.sha256.hex()}"
        )
        lines += [f"  chain {h.chain}: seq {h.end_seq} {h.end_hash.hex()}" for h in month.heads if h.end_seq]
    lines.append("keep the files and these lines together, and elsewhere than the database")
    return "\n".join(lines)


async def archive_record(dsn: str, path: Path) -> store.ArchiveRecord | None:
    """The database's record of the archive file ``path`` (by the month its header names)."""
    month = month_of(header_of(path).month)
    conn = await asyncpg.connect(dsn)
    try:
        return await store.archive_of(conn, month)
    finally:
        await conn.close()


def archive_files(directory: Path) -> list[Path]:
    """The month files `idv audit archive` wrote into ``directory``, oldest first."""
    return sorted(directory.glob("idv-audit-[0-9][0-9][0-9][0-9]-[0-9][0-9].jsonl.gz"))


def describe_archive_check(path: Path, check: ArchiveCheck) -> str:
    lines = [f"audit archive {path}: month {check.month}, {check.entries} entries, sha256 {check.sha256.hex()}"]
    if check.problem is None:
        lines.append("every chain in it is intact from its start to its end:")
        lines += [
            f"  chain {chain}: seq {start[0]} -> {check.ends[chain][0]} {check.ends[chain][1].hex()}"
            for chain, start in sorted(check.starts.items())
        ]
    else:
        lines.append(f"BROKEN: {check.problem}")
    return "\n".join(lines)
