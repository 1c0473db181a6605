"""Checking the hash chains, independently of the database's own functions.

Each chain starts at sha256('idv audit chain <n>'); every entry's hash is
sha256(previous hash || canonical text), and its seq follows the previous one without a gap.
An edited, deleted or inserted row breaks it. Entries removed from the end of a chain leave no
gap, so each passing run records checkpoints (every chain's last seq and hash) and the next run
checks the chains still reach them. Once months are archived (service/audit/archive.py), each chain
starts from its head at the end of the last archived month, as its archive record holds it; the
archive records must join up month after month from the genesis hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import asyncpg

from service.audit import store
from service.audit.store import ArchiveRecord, ChainedEntry, Checkpoint

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def genesis(chain: int) -> bytes:
    return hashlib.sha256(f"idv audit chain {chain}".encode()).digest()


def _hex(value: bytes | None) -> str:
    return "-" if value is None else value.hex()


def canonical_text(row: ChainedEntry) -> str:
    """The text migration 0004's audit_canonical() builds; the two must agree."""
    micros = (row.at - _EPOCH) // timedelta(microseconds=1)
    return "\n".join(
        [
            str(row.chain),
            str(row.seq),
            str(micros),
            row.actor_type,
            row.actor_id,
            row.action,
            row.target_type,
            row.target_id,
            _hex(row.origin),
            _hex(row.before_hash),
            _hex(row.after_hash),
            row.details,
        ]
    )


def entry_hash(previous: bytes, row: ChainedEntry) -> bytes:
    return hashlib.sha256(previous + canonical_text(row).encode()).digest()


@dataclass(frozen=True)
class BrokenLink:
    chain: int
    seq: int
    entry_id: int | None
    problem: str


@dataclass(frozen=True)
class ChainReport:
    entries: int
    chains: int
    broken: BrokenLink | None
    # chain -> (seq, hash) of its last entry
    heads: dict[int, tuple[int, bytes]]
    # chain -> (seq, hash) it started from, for chains whose first entries were archived
    starts: dict[int, tuple[int, bytes]] = field(default_factory=dict)
    # The last archived month (its first day), if any.
    archived_through: date | None = None

    @property
    def intact(self) -> bool:
        return self.broken is None


class ChainWalk:
    def __init__(
        self,
        chains: Iterable[int],
        checkpoints: list[Checkpoint],
        starts: Mapping[int, tuple[int, bytes]] | None = None,
    ) -> None:
        # Chains start from their public genesis hash, whatever the table says (a changed table breaks
        # the first entry's link), or from where their archived entries ended.
        starts = starts or {}
        self.heads: dict[int, tuple[int, bytes]] = {chain: starts.get(chain, (0, genesis(chain))) for chain in chains}
        self.checkpoints = {checkpoint.chain: (checkpoint.seq, checkpoint.hash) for checkpoint in checkpoints}
        self.entries = 0

    def step(self, row: ChainedEntry) -> str | None:
        """Advance over one entry; the problem with it, if any."""
        self.entries += 1
        chain = row.chain
        if chain not in self.heads:
            return "entry on an unknown chain"
        seq, previous = self.heads[chain]
        if row.seq != seq + 1:
            return f"expected seq {seq + 1}, found {row.seq} (entries missing or inserted)"
        if row.prev_hash != previous:
            return "prev_hash does not match the previous entry's hash"
        if entry_hash(previous, row) != row.hash:
            return "hash does not match the entry's content (the entry was edited)"
        checkpoint = self.checkpoints.get(chain)
        if checkpoint is not None and checkpoint[0] == row.seq and checkpoint[1] != row.hash:
            return "differs from the checkpoint recorded at this position (the chain was rewritten)"
        self.heads[chain] = (row.seq, row.hash)
        return None

    def short_chain(self) -> BrokenLink | None:
        for chain, (seq, _) in sorted(self.checkpoints.items()):
            if self.heads.get(chain, (0, b""))[0] < seq:
                problem = (
                    f"a checkpoint reached seq {seq}; the chain now ends at {self.heads[chain][0]} (entries removed)"
                )
                return BrokenLink(chain, seq, None, problem)
        return None


def archives_join(chains: Iterable[int], archives: list[ArchiveRecord]) -> BrokenLink | None:
    """Whether each archived month starts where the one before ended (the first at the genesis hashes)."""
    ends: dict[int, tuple[int, bytes]] = {chain: (0, genesis(chain)) for chain in chains}
    for archive in archives:
        for head in archive.heads:
            if ends.get(head.chain) != (head.start_seq, head.start_hash):
                month = archive.month.strftime("%Y-%m")
                return BrokenLink(head.chain, head.start_seq, None, f"archive {month} does not continue the chain")
            ends[head.chain] = (head.end_seq, head.end_hash)
    return None


async def verify(conn: asyncpg.Connection) -> ChainReport:
    """Walk every chain in one snapshot, from the last archived heads; report the first broken link
    (by chain, then seq)."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        chain_ids = [chain.chain for chain in await store.chains(conn)]
        archives = await store.archives(conn)
        starts = await store.archived_heads(conn)
        through = archives[-1].month if archives else None
        walk = ChainWalk(chain_ids, await store.latest_checkpoints(conn), starts)
        starts = {chain: head for chain, head in starts.items() if head[0]}
        unjoined = archives_join(chain_ids, archives)
        if unjoined is not None:
            return ChainReport(0, len(walk.heads), unjoined, walk.heads, starts, through)
        async for row in store.chain_rows(conn):
            problem = walk.step(row)
            if problem is not None:
                broken = BrokenLink(row.chain, row.seq, row.id, problem)
                return ChainReport(walk.entries, len(walk.heads), broken, walk.heads, starts, through)
    return ChainReport(walk.entries, len(walk.heads), walk.short_chain(), walk.heads, starts, through)


async def record_checkpoint(conn: asyncpg.Connection, report: ChainReport) -> None:
    """Remember where every chain ended, for the next run to hold the chains to."""
    if not report.intact:
        raise ValueError("only an intact trail is checkpointed")
    await store.add_checkpoints(conn, [(chain, seq, digest) for chain, (seq, digest) in report.heads.items() if seq])
