"""Archiving whole months of the audit trail, and checking an archived month offline.

`idv audit archive --before YYYY-MM --out DIR` takes the oldest month not yet archived, one month at a
time (months are UTC), for as long as it is older than both the month given and the
``IDV_AUDIT_ONLINE_MONTHS`` the trail keeps in the database. For each month, in one transaction:

1. it waits for every chain's writers to commit (the advisory lock migration 0004's audit_link holds),
   then fixes each chain's range: from the head the previous archive ended at (the genesis hash at
   first) to the chain's last entry written before the month's end;
2. walks those entries as `idv audit verify` does (a broken link refuses the month) while writing them
   to ``DIR/idv-audit-YYYY-MM.jsonl.gz`` (a header line, then one entry per line, chain by chain);
3. records the file's SHA-256, its entry count and every chain's head before and after (the "after"
   also a checkpoint) in ``audit_archives``, and only then deletes exactly those entries; migration
   0036's trigger lets no other DELETE through, and the service role holds no DELETE at all.

Entries appended meanwhile go after each chain's range and link to its last archived entry, which
the record keeps as the chain's head. Runs hold one advisory lock for their transaction, so two at
once archive a month once.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import asyncpg
import msgspec

from service.audit import store
from service.audit.chain import ChainWalk, genesis
from service.audit.store import ArchivedHead, ArchiveRecord, ChainedEntry

FORMAT = "idv-audit-archive/1"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ArchiveRefused(Exception):
    """A month that may not, or cannot safely, be archived; the message says why."""


class ArchivedChain(msgspec.Struct, frozen=True):
    chain: int
    start_seq: int
    start_hash: str
    end_seq: int
    end_hash: str


class ArchiveHeader(msgspec.Struct, frozen=True):
    format: str
    month: str
    entries: int
    chains: list[ArchivedChain]


class ArchivedEntry(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One line of an archive file: an entry exactly as the chain covers it (``at`` in microseconds)."""

    id: int
    chain: int
    seq: int
    at_us: int
    actor_type: str
    actor_id: str
    action: str
    target_type: str
    target_id: str
    origin: str | None
    before_hash: str | None
    after_hash: str | None
    details: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ArchivedMonth:
    month: date
    entries: int
    path: Path
    sha256: bytes
    heads: list[ArchivedHead]


def month_of(text: str) -> date:
    """``YYYY-MM`` as the month's first day."""
    try:
        parsed = datetime.strptime(text, "%Y-%m")
    except ValueError:
        raise ValueError(f"not a month (YYYY-MM): {text!r}") from None
    return parsed.date()


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def first_online_month(today: date, online_months: int) -> date:
    """The oldest month the trail keeps in the database: the current one and ``online_months`` before it."""
    return add_months(today.replace(day=1), -online_months)


def _hex(value: bytes | None) -> str | None:
    return None if value is None else value.hex()


def _unhex(value: str | None) -> bytes | None:
    return None if value is None else bytes.fromhex(value)


def _line(row: ChainedEntry) -> ArchivedEntry:
    return ArchivedEntry(
        id=row.id,
        chain=row.chain,
        seq=row.seq,
        at_us=(row.at - _EPOCH) // timedelta(microseconds=1),
        actor_type=row.actor_type,
        actor_id=row.actor_id,
        action=row.action,
        target_type=row.target_type,
        target_id=row.target_id,
        origin=_hex(row.origin),
        before_hash=_hex(row.before_hash),
        after_hash=_hex(row.after_hash),
        details=row.details,
        prev_hash=row.prev_hash.hex(),
        hash=row.hash.hex(),
    )


def _entry(line: ArchivedEntry) -> ChainedEntry:
    return ChainedEntry(
        id=line.id,
        chain=line.chain,
        seq=line.seq,
        at=_EPOCH + timedelta(microseconds=line.at_us),
        actor_type=line.actor_type,
        actor_id=line.actor_id,
        action=line.action,
        target_type=line.target_type,
        target_id=line.target_id,
        origin=_unhex(line.origin),
        before_hash=_unhex(line.before_hash),
        after_hash=_unhex(line.after_hash),
        details=line.details,
        prev_hash=bytes.fromhex(line.prev_hash),
        hash=bytes.fromhex(line.hash),
    )


def file_sha256(path: Path) -> bytes:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.digest()


async def archive_months(
    conn: asyncpg.Connection, out_dir: Path, before: date, *, online_months: int, today: date
) -> list[ArchivedMonth]:
    """Archive every month not yet archived before ``before``, oldest first, into the existing directory
    ``out_dir``. ``conn`` is the owner's."""
    online = first_online_month(today, online_months)
    if before > online:
        raise ArchiveRefused(
            f"the trail keeps {online_months} months in the database (IDV_AUDIT_ONLINE_MONTHS): months from "
            f"{online:%Y-%m} on may not be archived yet; give --before {online:%Y-%m} or earlier"
        )
    done: list[ArchivedMonth] = []
    while (archived := await _archive_next(conn, out_dir, before)) is not None:
        done.append(archived)
    return done


async def _archive_next(conn: asyncpg.Connection, out_dir: Path, before: date) -> ArchivedMonth | None:
    async with conn.transaction():
        await store.lock_archiving(conn)
        last = await store.last_archived_month(conn)
        if last is not None:
            month = add_months(last, 1)
        else:
            oldest = await store.oldest_entry_at(conn)
            if oldest is None:
                return None
            month = oldest.astimezone(UTC).date().replace(day=1)
        if month >= before:
            return None
        ends_at = datetime.combine(add_months(month, 1), time(), UTC)
        chain_ids = [chain.chain for chain in await store.chains(conn)]
        starts = {chain: (0, genesis(chain)) for chain in chain_ids} | await store.archived_heads(conn)
        for chain in chain_ids:
            await store.wait_for_chain_writers(conn, chain)
        # Every append from now on is written after the month's end (in production, a year after);
        # within a chain entries commit in seq order, so each chain's entries seen here are a prefix.
        last_seqs = await store.last_seqs_before(conn, ends_at)
        heads: list[ArchivedHead] = []
        for chain in chain_ids:
            start_seq, start_hash = starts[chain]
            end_seq = max(start_seq, last_seqs.get(chain, start_seq))
            end_hash = start_hash if end_seq == start_seq else await store.hash_at(conn, chain, end_seq)
            if end_hash is None:
                raise ArchiveRefused(f"chain {chain} has no entry {end_seq}")
            heads.append(ArchivedHead(chain, start_seq, start_hash, end_seq, end_hash))

        path = out_dir / f"idv-audit-{month:%Y-%m}.jsonl.gz"
        partial = out_dir / f".{path.name}.partial"
        try:
            entries = await _write_verified(conn, partial, month, heads)
            digest = file_sha256(partial)
            await store.add_archive(conn, month, entries, path.name, digest, heads)
            removed = await store.remove_archived(conn, heads)
            if removed != entries:
                raise ArchiveRefused(f"{month:%Y-%m}: wrote {entries} entries but would remove {removed}")
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)
        return ArchivedMonth(month, entries, path, digest, heads)


async def _write_verified(conn: asyncpg.Connection, path: Path, month: date, heads: list[ArchivedHead]) -> int:
    """Walk the month's entries from the heads before it, writing each; refuse at a broken link."""
    starts = {head.chain: (head.start_seq, head.start_hash) for head in heads}
    walk = ChainWalk(starts.keys(), await store.latest_checkpoints(conn), starts)
    header = ArchiveHeader(
        FORMAT,
        f"{month:%Y-%m}",
        sum(head.end_seq - head.start_seq for head in heads),
        [ArchivedChain(h.chain, h.start_seq, h.start_hash.hex(), h.end_seq, h.end_hash.hex()) for h in heads],
    )
    encoder = msgspec.json.Encoder()
    with path.open("wb") as raw:
        # mtime 0: the same entries give the same file, byte for byte.
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as file:
            file.write(encoder.encode(header) + b"\n")
            async for row in store.range_rows(conn, [(h.chain, h.start_seq, h.end_seq) for h in heads]):
                problem = walk.step(row)
                if problem is not None:
                    raise ArchiveRefused(
                        f"{month:%Y-%m} is not archived: chain {row.chain}, seq {row.seq} (entry id {row.id}): "
                        f"{problem}; see `idv audit verify`"
                    )
                file.write(encoder.encode(_line(row)) + b"\n")
        raw.flush()
        os.fsync(raw.fileno())
    for head in heads:
        if walk.heads[head.chain] != (head.end_seq, head.end_hash):
            raise ArchiveRefused(f"{month:%Y-%m} is not archived: chain {head.chain} does not reach seq {head.end_seq}")
    if walk.entries != header.entries:
        raise ArchiveRefused(f"{month:%Y-%m} is not archived: {walk.entries} entries, expected {header.entries}")
    return walk.entries


@dataclass(frozen=True)
class ArchiveCheck:
    month: str
    entries: int
    sha256: bytes
    problem: str | None
    # chain -> (seq, hash) at the month's start and end, as the file says
    starts: dict[int, tuple[int, bytes]]
    ends: dict[int, tuple[int, bytes]]

    @property
    def intact(self) -> bool:
        return self.problem is None


def header_of(path: Path) -> ArchiveHeader:
    """The header line of an archive file (ValueError if it has none)."""
    try:
        with gzip.open(path, "rb") as file:
            return msgspec.json.decode(file.readline(), type=ArchiveHeader)
    except (OSError, EOFError, msgspec.DecodeError) as exc:
        raise ValueError(f"not an audit archive: {exc}") from None


def _lines(path: Path) -> Iterator[bytes]:
    with gzip.open(path, "rb") as file:
        yield from file


def verify_archive_file(
    path: Path,
    *,
    checkpoint: Mapping[int, tuple[int, bytes]] | None = None,
    record: ArchiveRecord | None = None,
) -> ArchiveCheck:
    """Check an archive file by itself: every entry links to the one before from the heads its header
    gives, up to the heads the header says the month ended at. ``checkpoint`` (the heads the month
    must start from: the previous month's end) and ``record`` (the archive record in the database: its
    SHA-256, count and heads) hold the file to what was recorded elsewhere; without them a file
    rewritten whole with recomputed hashes would pass. A chain starting at seq 0 must start at its
    genesis hash in any case."""
    digest = file_sha256(path)

    def failed(problem: str, month: str = "?", entries: int = 0) -> ArchiveCheck:
        return ArchiveCheck(month, entries, digest, problem, {}, {})

    lines = _lines(path)
    try:
        header = msgspec.json.decode(next(lines), type=ArchiveHeader)
        starts = {c.chain: (c.start_seq, bytes.fromhex(c.start_hash)) for c in header.chains}
        ends = {c.chain: (c.end_seq, bytes.fromhex(c.end_hash)) for c in header.chains}
    except (OSError, EOFError, StopIteration, ValueError, msgspec.DecodeError) as exc:
        return failed(f"not an audit archive: {exc}")
    if header.format != FORMAT:
        return failed(f"unknown archive format {header.format!r}", header.month)

    def check(problem: str | None, entries: int = 0) -> ArchiveCheck:
        return ArchiveCheck(header.month, entries, digest, problem, starts, ends)

    if record is not None:
        if record.sha256 != digest:
            return check("the file's SHA-256 differs from its archive record (the file was changed)")
        if f"{record.month:%Y-%m}" != header.month or record.entries != header.entries:
            return check("the file's month or entry count differs from its archive record")
        recorded = {h.chain: ((h.start_seq, h.start_hash), (h.end_seq, h.end_hash)) for h in record.heads}
        if recorded != {chain: (starts[chain], ends[chain]) for chain in starts}:
            return check("the file's chain heads differ from its archive record")
    for chain, (seq, digest_at) in (checkpoint or {}).items():
        if starts.get(chain) != (seq, digest_at):
            return check(f"chain {chain} does not start at the checkpoint given (seq {seq})")
    for chain, (seq, start_hash) in starts.items():
        if seq == 0 and start_hash != genesis(chain):
            return check(f"chain {chain} starts at seq 0 but not at its genesis hash")

    walk = ChainWalk(starts.keys(), [], starts)
    number = 1
    try:
        for number, line in enumerate(lines, start=2):
            try:
                row = _entry(msgspec.json.decode(line, type=ArchivedEntry))
            except (ValueError, msgspec.DecodeError) as exc:
                return check(f"line {number} is not an archived entry: {exc}", walk.entries)
            problem = walk.step(row)
            if problem is not None:
                return check(f"line {number} (chain {row.chain}, seq {row.seq}): {problem}", walk.entries)
    except (OSError, EOFError) as exc:
        return check(f"the file is damaged after line {number}: {exc}", walk.entries)
    for chain, head in ends.items():
        if walk.heads.get(chain) != head:
            return check(f"chain {chain} ends at seq {walk.heads[chain][0]}, not at seq {head[0]} (entries removed)")
    if walk.entries != header.entries:
        return check(f"{walk.entries} entries, the header says {header.entries}", walk.entries)
    return check(None, walk.entries)
