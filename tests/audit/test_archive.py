"""Archiving whole months of the audit trail: verified first, removed only with their record, and
checkable afterwards, in the database from the archived heads and offline from the files.

The entries are appended now, through the service and the linking trigger; the archive is then run as
if it were 25 months later (``today``), so this month is old enough to archive. The command itself,
with the real clock, refuses this month (test_the_command_refuses_recent_months)."""

from __future__ import annotations

import asyncio
import gzip
import os
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import msgspec
import pytest

from service.audit import Actor, AuditEntry, store
from service.audit.archive import (
    ArchiveRefused,
    add_months,
    archive_months,
    first_online_month,
    header_of,
    verify_archive_file,
)
from service.audit.chain import entry_hash, genesis, record_checkpoint, verify
from service.audit.commands import describe
from service.runtime import Runtime

THIS_MONTH = datetime.now(UTC).date().replace(day=1)
LATER = add_months(THIS_MONTH, 25)
NEXT_MONTH = add_months(THIS_MONTH, 1)


async def append(runtime: Runtime, dsn: str, n: int) -> None:
    """``n`` entries, each committed on its own, on a connection of its own (so on a chain of its own)."""
    conn = await asyncpg.connect(dsn)
    try:
        for i in range(n):
            async with conn.transaction():
                await runtime.audit.append(
                    conn, AuditEntry(Actor.system("tests"), "test.entry", "case", str(uuid.uuid4()), {"i": i})
                )
    finally:
        await conn.close()


async def connect_on_chain(dsn: str, chains: set[int]) -> asyncpg.Connection:
    """A connection whose first choice of chain (its backend id modulo 16, migration 0004) is one of ``chains``."""
    for _ in range(200):
        conn = await asyncpg.connect(dsn)
        if await conn.fetchval("SELECT pg_backend_pid() % 16") in chains:
            return conn
        await conn.close()
    raise AssertionError("no connection landed on the chains wanted")


async def archive(conn: asyncpg.Connection, out: Path) -> list[date]:
    done = await archive_months(conn, out, NEXT_MONTH, online_months=24, today=LATER)
    return [month.month for month in done]


async def count(conn: asyncpg.Connection, table: str) -> int:
    found: int = await conn.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608 - our own table names
    return found


def cli(args: list[str], owner_database_url: str, state_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": owner_database_url, "IDV_STATE_DIR": str(state_dir), "IDV_ENV": "test"}
    return subprocess.run(
        [sys.executable, "-m", "service.cli", "audit", *args], env=env, capture_output=True, text=True, check=False
    )


async def test_an_archived_month_leaves_a_trail_that_verifies_and_a_file_that_verifies_offline(
    runtime: Runtime, database_url: str, db: asyncpg.Connection, owner_db: asyncpg.Connection, tmp_path: Path
) -> None:
    await asyncio.gather(*(append(runtime, database_url, 7) for _ in range(4)))
    before = await verify(db)
    assert before.intact and before.entries == 28
    await record_checkpoint(db, before)

    assert await archive(owner_db, tmp_path) == [THIS_MONTH]
    assert await count(db, "audit_log") == 0
    record = await store.archive_of(db, THIS_MONTH)
    assert record is not None and record.entries == 28
    # Every chain's end is recorded as a checkpoint too, and each archived head is where the chain ended.
    assert {(h.chain, h.end_seq, h.end_hash) for h in record.heads if h.end_seq} == {
        (chain, seq, digest) for chain, (seq, digest) in before.heads.items() if seq
    }
    checkpoints = await db.fetchval(
        "SELECT count(*) FROM audit_archive_chains a JOIN audit_checkpoints c ON c.id = a.checkpoint_id"
    )
    assert checkpoints == sum(1 for h in record.heads if h.end_seq)

    # New entries on a chain whose entries were all archived continue it (not from its genesis hash),
    # and the trail verifies from the archived heads.
    archived = {h.chain: h for h in record.heads if h.end_seq}
    conn = await connect_on_chain(database_url, set(archived))
    try:
        async with conn.transaction():
            await runtime.audit.append(conn, AuditEntry(Actor.system("tests"), "test.entry", "case", "after"))
    finally:
        await conn.close()
    row = await db.fetchrow("SELECT chain, seq, prev_hash FROM audit_log")
    head = archived[row["chain"]]
    assert (row["seq"], row["prev_hash"]) == (head.end_seq + 1, head.end_hash)
    report = await verify(db)
    assert report.intact, report.broken
    assert report.entries == 1 and report.archived_through == THIS_MONTH
    assert report.starts == {chain: (h.end_seq, h.end_hash) for chain, h in archived.items()}
    assert f"months up to {THIS_MONTH:%Y-%m} are archived" in describe(report)

    path = tmp_path / f"idv-audit-{THIS_MONTH:%Y-%m}.jsonl.gz"
    check = verify_archive_file(path, record=record)
    assert check.intact, check.problem
    assert check.entries == 28 and check.month == f"{THIS_MONTH:%Y-%m}"
    # Offline, from the checkpoint before the month (here the genesis hashes, the first month).
    starts = {h.chain: (h.start_seq, h.start_hash) for h in record.heads}
    assert verify_archive_file(path, checkpoint=starts).intact


async def test_the_commands_archive_nothing_recent_and_check_a_file_against_its_record(
    runtime: Runtime,
    database_url: str,
    owner_db: asyncpg.Connection,
    owner_database_url: str,
    tmp_path: Path,
) -> None:
    await append(runtime, database_url, 4)
    out = tmp_path / "archives"
    # The real clock: this month is inside IDV_AUDIT_ONLINE_MONTHS.
    refused = await asyncio.to_thread(
        cli, ["archive", "--before", f"{NEXT_MONTH:%Y-%m}", "--out", str(out)], owner_database_url, tmp_path
    )
    assert refused.returncode == 1 and "IDV_AUDIT_ONLINE_MONTHS" in refused.stderr
    assert await count(owner_db, "audit_log") == 4 and not list(out.glob("*.gz"))
    online = first_online_month(datetime.now(UTC).date(), 24)
    nothing = await asyncio.to_thread(
        cli, ["archive", "--before", f"{online:%Y-%m}", "--out", str(out)], owner_database_url, tmp_path
    )
    assert nothing.returncode == 0 and "nothing to archive" in nothing.stdout
    bad = await asyncio.to_thread(
        cli, ["archive", "--before", "2025-13", "--out", str(out)], owner_database_url, tmp_path
    )
    assert bad.returncode == 2

    await archive(owner_db, out)
    path = out / f"idv-audit-{THIS_MONTH:%Y-%m}.jsonl.gz"
    checked = await asyncio.to_thread(cli, ["verify-archive", str(path), "--database"], owner_database_url, tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "4 entries" in checked.stdout
    verified = await asyncio.to_thread(cli, ["verify"], owner_database_url, tmp_path)
    assert verified.returncode == 0 and "are archived" in verified.stdout
    # A file changed after the archive: the command says so and exits 1.
    with gzip.open(path, "rb") as file:
        lines = file.readlines()
    changed = rewrite(path, [lines[0], *lines[2:]], tmp_path / "changed.jsonl.gz")
    tampered = await asyncio.to_thread(cli, ["verify-archive", str(changed)], owner_database_url, tmp_path)
    assert tampered.returncode == 1 and "BROKEN" in tampered.stdout
    malformed = await asyncio.to_thread(
        cli, ["verify-archive", str(path), "--checkpoint", "3:not-a-seq"], owner_database_url, tmp_path
    )
    assert malformed.returncode == 2


def rewrite(path: Path, lines: list[bytes], target: Path, level: int = 9) -> Path:
    with gzip.GzipFile(target, "wb", compresslevel=level, mtime=0) as file:
        file.write(b"".join(lines))
    return target


async def test_a_changed_removed_or_reordered_line_and_a_changed_file_are_found(
    runtime: Runtime, database_url: str, db: asyncpg.Connection, owner_db: asyncpg.Connection, tmp_path: Path
) -> None:
    await append(runtime, database_url, 6)
    await archive(owner_db, tmp_path)
    path = tmp_path / f"idv-audit-{THIS_MONTH:%Y-%m}.jsonl.gz"
    record = await store.archive_of(db, THIS_MONTH)
    assert record is not None
    with gzip.open(path, "rb") as file:
        lines = file.readlines()
    header, entries = lines[0], lines[1:]
    assert len(entries) == 6

    changed = [header, *entries]
    changed[3] = changed[3].replace(b'"i\\":2', b'"i\\":9')
    assert changed[3] != lines[3]
    removed_middle = [header, *entries[:2], *entries[3:]]
    removed_last = [header, *entries[:-1]]
    reordered = [header, entries[0], entries[2], entries[1], *entries[3:]]
    for name, variant in [
        ("changed", changed),
        ("removed_middle", removed_middle),
        ("removed_last", removed_last),
        ("reordered", reordered),
    ]:
        check = verify_archive_file(rewrite(path, variant, tmp_path / f"{name}.gz"))
        assert not check.intact, name

    # The same entries compressed otherwise: every link holds, but it is not the file recorded.
    same = rewrite(path, lines, tmp_path / "recompressed.gz", level=1)
    assert verify_archive_file(same).intact
    check = verify_archive_file(same, record=record)
    assert check.problem is not None and "SHA-256" in check.problem
    # A starting point other than the checkpoint before the month.
    head = next(h for h in record.heads if h.end_seq)
    check = verify_archive_file(path, checkpoint={head.chain: (0, b"\x00" * 32)})
    assert not check.intact
    # Not an archive at all.
    garbage = tmp_path / "garbage.gz"
    garbage.write_bytes(b"not gzip")
    assert not verify_archive_file(garbage).intact


async def test_a_broken_chain_is_not_archived(
    runtime: Runtime, database_url: str, owner_db: asyncpg.Connection, tmp_path: Path
) -> None:
    await append(runtime, database_url, 5)
    # A superuser edits an entry behind the triggers' back.
    await owner_db.execute("SET session_replication_role = replica")
    await owner_db.execute("UPDATE audit_log SET details = '{\"i\":7}' WHERE seq = 3")
    await owner_db.execute("SET session_replication_role = DEFAULT")
    with pytest.raises(ArchiveRefused, match="entry was edited"):
        await archive(owner_db, tmp_path)
    assert await count(owner_db, "audit_log") == 5
    assert await count(owner_db, "audit_archives") == 0
    assert list(tmp_path.iterdir()) == []


async def test_months_inside_the_online_window_are_refused(owner_db: asyncpg.Connection, tmp_path: Path) -> None:
    today = datetime.now(UTC).date()
    online = first_online_month(today, 24)
    with pytest.raises(ArchiveRefused, match="IDV_AUDIT_ONLINE_MONTHS"):
        await archive_months(owner_db, tmp_path, add_months(online, 1), online_months=24, today=today)
    assert await archive_months(owner_db, tmp_path, online, online_months=24, today=today) == []


async def test_only_archiving_removes_entries_and_the_service_role_cannot(
    runtime: Runtime, database_url: str, db: asyncpg.Connection, owner_db: asyncpg.Connection, tmp_path: Path
) -> None:
    await append(runtime, database_url, 3)
    for statement in (
        "DELETE FROM audit_log",
        "UPDATE audit_log SET details = '{}'",
        "INSERT INTO audit_archives (month, entries, file_name, sha256) VALUES ('2020-01-01', 0, 'x', sha256(''))",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await db.execute(statement)
    # Nor can the service role archive: it may not write the record the deletion needs.
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await archive(db, tmp_path)
    assert await count(db, "audit_log") == 3 and list(tmp_path.iterdir()) == []

    # The owner cannot delete entries no archive record of its own transaction covers.
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="archived in this transaction"):
        await owner_db.execute("DELETE FROM audit_log WHERE seq = 1")
    await archive(owner_db, tmp_path)
    await append(runtime, database_url, 2)
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="archived in this transaction"):
        await owner_db.execute("DELETE FROM audit_log")
    for statement in ("DELETE FROM audit_archives", "UPDATE audit_archive_chains SET end_seq = 0"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await owner_db.execute(statement)
    assert await count(db, "audit_log") == 2
    assert (await verify(db)).intact


async def test_entries_appended_while_archiving_are_kept_and_linked(
    runtime: Runtime, database_url: str, db: asyncpg.Connection, owner_db: asyncpg.Connection, tmp_path: Path
) -> None:
    await asyncio.gather(*(append(runtime, database_url, 150) for _ in range(4)))
    # Four writers keep appending (this month, as the archive sees it) while the month is archived.
    writers = [asyncio.create_task(append(runtime, database_url, 40)) for _ in range(4)]
    await asyncio.sleep(0.05)
    assert await archive(owner_db, tmp_path) == [THIS_MONTH]
    await asyncio.gather(*writers)
    record = await store.archive_of(db, THIS_MONTH)
    assert record is not None
    report = await verify(db)
    assert report.intact, report.broken
    assert record.entries + report.entries == 4 * 150 + 4 * 40
    check = verify_archive_file(tmp_path / record.file_name, record=record)
    assert check.intact, check.problem


async def test_two_archive_runs_at_once_archive_the_month_once(
    runtime: Runtime,
    database_url: str,
    db: asyncpg.Connection,
    owner_database_url: str,
    tmp_path: Path,
) -> None:
    await asyncio.gather(*(append(runtime, database_url, 50) for _ in range(3)))
    first, second = await asyncpg.connect(owner_database_url), await asyncpg.connect(owner_database_url)
    try:
        runs = await asyncio.gather(archive(first, tmp_path), archive(second, tmp_path))
    finally:
        await first.close()
        await second.close()
    assert sorted(runs, key=len) == [[], [THIS_MONTH]]
    assert await count(db, "audit_archives") == 1
    record = await store.archive_of(db, THIS_MONTH)
    assert record is not None and record.entries == 150
    assert verify_archive_file(tmp_path / record.file_name, record=record).intact
    assert (await verify(db)).intact


async def test_verify_finds_archive_records_that_do_not_join(
    runtime: Runtime, database_url: str, db: asyncpg.Connection, owner_db: asyncpg.Connection, tmp_path: Path
) -> None:
    await append(runtime, database_url, 4)
    await archive(owner_db, tmp_path)
    assert (await verify(db)).intact
    # The owner slips in a later month whose start is not where the archived month ended.
    forged = await owner_db.fetchval(
        "INSERT INTO audit_archives (month, entries, file_name, sha256) VALUES ($1, 0, 'x', sha256('')) RETURNING id",
        NEXT_MONTH,
    )
    await owner_db.execute(
        """INSERT INTO audit_archive_chains (archive_id, chain, start_seq, start_hash, end_seq, end_hash)
           SELECT $1, chain, 0, genesis, 0, genesis FROM audit_chains""",
        forged,
    )
    report = await verify(db)
    assert report.broken is not None and "does not continue the chain" in report.broken.problem


async def backdate(owner: asyncpg.Connection, months: int) -> None:
    """Move every entry ``months`` back, each chain re-linked with the hashes `idv audit verify` computes:
    the trail as it would stand had these entries been written then (the trigger dates entries now)."""
    async with owner.transaction():
        await owner.execute("SET LOCAL session_replication_role = replica")  # past the append-only trigger
        for chain in {row["chain"] for row in await owner.fetch("SELECT chain FROM audit_log")}:
            previous = genesis(chain)
            for row in await owner.fetch(
                "SELECT id, chain, seq, at, actor_type, actor_id, action, target_type, target_id, origin, "
                "before_hash, after_hash, details, prev_hash, hash FROM audit_log WHERE chain = $1 ORDER BY seq",
                chain,
            ):
                moved = msgspec.structs.replace(
                    store.chained_entry(row), at=row["at"] - timedelta(days=31 * months), prev_hash=previous
                )
                previous = entry_hash(previous, moved)
                await owner.execute(
                    "UPDATE audit_log SET at = $2, prev_hash = $3, hash = $4 WHERE id = $1",
                    row["id"],
                    moved.at,
                    moved.prev_hash,
                    previous,
                )


def due_cli(args: list[str], owner_database_url: str, state_dir: Path) -> subprocess.CompletedProcess[str]:
    """As the CronJob runs it: the owner's URL in IDV_MIGRATIONS_DATABASE_URL and nothing else."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDV_") and k != "DATABASE_URL"}
    env |= {
        "IDV_MIGRATIONS_DATABASE_URL": owner_database_url,
        "IDV_STATE_DIR": str(state_dir),
        "IDV_ENV": "test",
        "IDV_AUDIT_ONLINE_MONTHS": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "service.cli", "audit", *args], env=env, capture_output=True, text=True, check=False
    )


async def test_due_archives_every_month_past_the_window_once_and_the_directory_verifies(
    runtime: Runtime, database_url: str, db: asyncpg.Connection, owner_database_url: str, tmp_path: Path
) -> None:
    await append(runtime, database_url, 5)
    owner = await asyncpg.connect(owner_database_url)
    try:
        await backdate(owner, 3)
    finally:
        await owner.close()
    await append(runtime, database_url, 2)  # this month's: inside the window, kept
    assert (await verify(db)).intact
    out = tmp_path / "archives"
    state = tmp_path / "state"

    first = await asyncio.to_thread(due_cli, ["archive", "--due", "--out", str(out)], owner_database_url, state)
    assert first.returncode == 0, first.stdout + first.stderr
    files = sorted(out.glob("idv-audit-*.jsonl.gz"))
    # The backdated month and every month after it up to the window, one file each (empty ones too).
    window = first_online_month(datetime.now(UTC).date(), 1)
    oldest = (await db.fetchval("SELECT min(month) FROM audit_archives")).replace(day=1)
    assert [f.name for f in files] == [
        f"idv-audit-{add_months(oldest, i):%Y-%m}.jsonl.gz"
        for i in range((window.year - oldest.year) * 12 + window.month - oldest.month)
    ]
    assert sum(1 for line in first.stdout.splitlines() if line.startswith("archived ")) == len(files)
    assert await count(db, "audit_log") == 2
    assert await db.fetchval("SELECT sum(entries) FROM audit_archives") == 5

    # Rerun (the job retried, or next month's run before a month is due): nothing more, no error.
    again = await asyncio.to_thread(due_cli, ["archive", "--due", "--out", str(out)], owner_database_url, state)
    assert again.returncode == 0 and "nothing to archive" in again.stdout, again.stdout + again.stderr
    assert sorted(out.glob("idv-audit-*.jsonl.gz")) == files and await count(db, "audit_log") == 2

    # The directory: each file intact, against its record, each starting where the one before ended.
    checked = await asyncio.to_thread(due_cli, ["verify-archive", str(out), "--database"], owner_database_url, state)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("every chain in it is intact") == len(files)
    verified = await asyncio.to_thread(cli, ["verify"], owner_database_url, tmp_path)
    assert verified.returncode == 0 and "are archived" in verified.stdout


async def test_due_and_before_exclude_each_other_and_an_empty_directory_verifies(
    owner_database_url: str, tmp_path: Path
) -> None:
    both = await asyncio.to_thread(
        due_cli, ["archive", "--due", "--before", "2020-01", "--out", str(tmp_path)], owner_database_url, tmp_path
    )
    assert both.returncode == 2 and "not allowed with" in both.stderr
    neither = await asyncio.to_thread(due_cli, ["archive", "--out", str(tmp_path)], owner_database_url, tmp_path)
    assert neither.returncode == 2
    # The job's first months: nothing archived yet, nothing to verify, and that is no failure.
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = await asyncio.to_thread(due_cli, ["verify-archive", str(empty)], owner_database_url, tmp_path)
    assert nothing.returncode == 0 and "no archive files" in nothing.stdout


async def test_a_directory_whose_files_do_not_join_is_refused(
    runtime: Runtime, database_url: str, owner_database_url: str, tmp_path: Path
) -> None:
    """A month's file missing from the middle of the directory breaks the join; removing the oldest
    files (copied to object storage) does not."""
    owner = await asyncpg.connect(owner_database_url)
    try:
        for _ in range(3):  # entries about six, four and two months back
            await append(runtime, database_url, 2)
            await backdate(owner, 2)
    finally:
        await owner.close()
    out = tmp_path / "archives"
    done = await asyncio.to_thread(due_cli, ["archive", "--due", "--out", str(out)], owner_database_url, tmp_path)
    assert done.returncode == 0, done.stderr
    with_entries = [f for f in sorted(out.glob("idv-audit-*.jsonl.gz")) if header_of(f).entries]
    assert len(with_entries) == 3
    whole = await asyncio.to_thread(due_cli, ["verify-archive", str(out)], owner_database_url, tmp_path)
    assert whole.returncode == 0, whole.stdout

    with_entries[1].rename(tmp_path / with_entries[1].name)
    gap = await asyncio.to_thread(due_cli, ["verify-archive", str(out)], owner_database_url, tmp_path)
    assert gap.returncode == 1 and "does not start at the checkpoint" in gap.stdout, gap.stdout

    # The oldest months moved away: what is left still joins up from its own first file.
    with_entries[1].unlink(missing_ok=True)
    for old in sorted(out.glob("idv-audit-*.jsonl.gz")):
        if old.name >= with_entries[1].name:
            break
        old.unlink()
    rest = await asyncio.to_thread(due_cli, ["verify-archive", str(out)], owner_database_url, tmp_path)
    assert rest.returncode == 0, rest.stdout


async def test_archiving_forgets_the_brin_summaries_of_the_ranges_it_emptied(
    runtime: Runtime, database_url: str, owner_db: asyncpg.Connection, tmp_path: Path
) -> None:
    """Otherwise new entries filling the freed space widen those summaries to span the archived month
    and today, and each later month's search reads those ranges too: after a year, most of the table."""
    await append(runtime, database_url, 6)
    await owner_db.execute("SELECT brin_summarize_new_values('audit_log_at_brin')")
    assert await owner_db.fetchval("SELECT brin_summarize_new_values('audit_log_at_brin')") == 0  # all summarized
    assert await archive(owner_db, tmp_path) == [THIS_MONTH]
    # The range that held the archived entries was unsummarized: summarizing finds it again.
    assert await owner_db.fetchval("SELECT brin_summarize_new_values('audit_log_at_brin')") == 1
