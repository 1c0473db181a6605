"""Checking the hash chains, independently of the database's own functions.

Each of the chains starts at sha256('idv audit chain <n>'); every entry's hash is
sha256(previous hash || canonical text), and its seq follows the previous one without a gap.
An edited, deleted or inserted row, or a head that does not match the last entry, breaks it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from service.audit import store

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def genesis(chain: int) -> bytes:
    return hashlib.sha256(f"idv audit chain {chain}".encode()).digest()


def _hex(value: bytes | None) -> str:
    return "-" if value is None else value.hex()


def canonical_text(row: Any) -> str:
    """The text migration 0004's audit_canonical() builds; the two must agree."""
    micros = (row["at"] - _EPOCH) // timedelta(microseconds=1)
    return "\n".join(
        [
            str(row["chain"]),
            str(row["seq"]),
            str(micros),
            row["actor_type"],
            row["actor_id"],
            row["action"],
            row["target_type"],
            row["target_id"],
            _hex(row["origin"]),
            _hex(row["before_hash"]),
            _hex(row["after_hash"]),
            row["details"],
        ]
    )


def entry_hash(previous: bytes, row: Any) -> bytes:
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
    heads: dict[int, str]

    @property
    def intact(self) -> bool:
        return self.broken is None


async def verify(conn: asyncpg.Connection) -> ChainReport:
    """Walk every chain; report the first broken link found (chains in order, then seq)."""
    count = 0
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        # One snapshot for rows and heads, so a writer committing meanwhile is not a break.
        head_rows = await store.heads(conn)
        expected: dict[int, tuple[int, bytes]] = {row["chain"]: (0, genesis(row["chain"])) for row in head_rows}
        async for row in store.chain_rows(conn):
            count += 1
            chain = row["chain"]
            if chain not in expected:
                return _report(count, head_rows, BrokenLink(chain, row["seq"], row["id"], "entry on an unknown chain"))
            seq, previous = expected[chain]
            if row["seq"] != seq + 1:
                problem = f"expected seq {seq + 1}, found {row['seq']} (entries missing or inserted)"
                return _report(count, head_rows, BrokenLink(chain, row["seq"], row["id"], problem))
            if row["prev_hash"] != previous:
                problem = "prev_hash does not match the previous entry's hash"
                return _report(count, head_rows, BrokenLink(chain, row["seq"], row["id"], problem))
            if entry_hash(previous, row) != row["hash"]:
                problem = "hash does not match the entry's content (the entry was edited)"
                return _report(count, head_rows, BrokenLink(chain, row["seq"], row["id"], problem))
            expected[chain] = (row["seq"], row["hash"])
        for head in head_rows:
            seq, last = expected[head["chain"]]
            if (head["seq"], head["hash"]) != (seq, last):
                problem = f"head says seq {head['seq']} but the chain ends at {seq} (entries removed from its end)"
                return _report(count, head_rows, BrokenLink(head["chain"], head["seq"], None, problem))
    return _report(count, head_rows, None)


def _report(count: int, head_rows: list[asyncpg.Record], broken: BrokenLink | None) -> ChainReport:
    return ChainReport(
        entries=count,
        chains=len(head_rows),
        broken=broken,
        heads={row["chain"]: row["hash"].hex() for row in head_rows},
    )
