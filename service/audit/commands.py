"""`idv audit verify`: walk the hash chains and report the first broken link."""

from __future__ import annotations

import asyncpg

from service.audit.chain import ChainReport, verify


async def verify_database(dsn: str) -> ChainReport:
    conn = await asyncpg.connect(dsn)
    try:
        return await verify(conn)
    finally:
        await conn.close()


def describe(report: ChainReport) -> str:
    lines = [f"audit trail: {report.entries} entries on {report.chains} chains"]
    if report.broken is None:
        lines.append(
            "every chain is intact; chain heads (record them elsewhere to detect a rewrite of the whole trail):"
        )
        lines += [f"  chain {chain}: {digest}" for chain, digest in sorted(report.heads.items())]
    else:
        broken = report.broken
        where = f"entry id {broken.entry_id}" if broken.entry_id is not None else "chain head"
        lines.append(f"BROKEN: chain {broken.chain}, seq {broken.seq} ({where}): {broken.problem}")
    return "\n".join(lines)
