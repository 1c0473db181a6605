"""The BRIN index on audit_log.at after months of archiving, with and without forgetting the summaries
of the block ranges a month's deletion emptied (service/audit/store.remove_archived).

    .venv/bin/python bench/audit_brin.py [--rows 500000] [--months 6]

A table shaped like the trail (an identity, `at` in order, a 200-byte row), BRIN on `at`, one row every
two minutes for about 700 days. Then, month after month: delete the oldest month (as archiving does),
vacuum, append a month of new rows; and print how many heap blocks the search for the next oldest
month reads (`Heap Blocks: lossy=`). A summary is only ever widened: without unsummarizing, each range
refilled with new rows spans the archived month and today, and every later search reads it.
A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from service.audit.archive import add_months
from service.audit.store import BRIN_PAGES_PER_RANGE
from service.database.embedded import EmbeddedPostgres

FIRST = datetime(2024, 1, 1, tzinfo=UTC)


async def blocks_read(conn: asyncpg.Connection, before: datetime) -> int:
    plan = "\n".join(
        row[0] for row in await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) SELECT count(*) FROM t WHERE at < $1", before)
    )
    found = re.search(r"lossy=(\d+)", plan)
    return int(found.group(1)) if found else -1


async def run(dsn: str, rows: int, months: int, unsummarize: bool) -> list[int]:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("DROP TABLE IF EXISTS t")
        await conn.execute(
            """CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at timestamptz NOT NULL,
                              pad text);
               CREATE INDEX t_brin ON t USING brin (at)"""
        )
        await conn.execute(
            "INSERT INTO t (at, pad) SELECT $1::timestamptz + i * interval '2 minutes', repeat('x', 200) "
            "FROM generate_series(1, $2::int) i",
            FIRST,
            rows,
        )
        await conn.execute("VACUUM ANALYZE t")
        read = [await blocks_read(conn, datetime(2024, 2, 1, tzinfo=UTC))]
        for month in range(months):
            end = datetime.combine(add_months(FIRST.date(), month + 1), datetime.min.time(), UTC)
            async with conn.transaction():
                ranges = await conn.fetch(
                    """WITH removed AS (DELETE FROM t WHERE at < $1 RETURNING (ctid::text::point)[0]::bigint AS block)
                       SELECT DISTINCT block / $2 * $2 AS first_block FROM removed""",
                    end,
                    BRIN_PAGES_PER_RANGE,
                )
                if unsummarize:
                    await conn.execute(
                        "SELECT brin_desummarize_range('t_brin', b) FROM unnest($1::bigint[]) AS b",
                        [row["first_block"] for row in ranges],
                    )
            await conn.execute("VACUUM t")
            await conn.execute(
                "INSERT INTO t (at, pad) SELECT now() + $1::int * interval '30 days' + i * interval '2 minutes', "
                "repeat('y', 200) FROM generate_series(1, 21600) i",
                month,
            )
            following = datetime.combine(add_months(FIRST.date(), month + 2), datetime.min.time(), UTC)
            read.append(await blocks_read(conn, following))
        return read
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--months", type=int, default=6)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="idv-bench-brin-"))
    scratch.chmod(0o755)
    server = EmbeddedPostgres(scratch / "pg").start()
    try:
        for unsummarize in (False, True):
            read = asyncio.run(run(server.dsn(), args.rows, args.months, unsummarize))
            label = "ranges unsummarized after each deletion" if unsummarize else "summaries left as they were"
            print(f"{label}: blocks read for the oldest month, before and after each month archived: {read}")
    finally:
        server.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
