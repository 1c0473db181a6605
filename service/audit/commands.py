"""`idv audit verify`: walk the hash chains, report the first broken link, checkpoint the ends."""

from __future__ import annotations

import asyncpg

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
    if report.broken is None:
        lines.append("every chain is intact; their ends (also checkpointed; copy them elsewhere too):")
        lines += [f"  chain {chain}: seq {seq} {digest.hex()}" for chain, (seq, digest) in sorted(report.heads.items())]
    else:
        broken = report.broken
        where = f"entry id {broken.entry_id}" if broken.entry_id is not None else "end of chain"
        lines.append(f"BROKEN: chain {broken.chain}, seq {broken.seq} ({where}): {broken.problem}")
    return "\n".join(lines)
