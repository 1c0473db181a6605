"""A worker that takes one `test.slow` job, records that it started, and then hangs.

The test kills it with SIGKILL mid-job to show the job is picked up again by another worker.
"""

from __future__ import annotations

import asyncio
import sys

import asyncpg

from service.jobs import JobDefinition, JobRunner


async def main(dsn: str) -> None:
    async def slow(_: bytes | None) -> None:
        conn = await asyncpg.connect(dsn)
        await conn.execute("INSERT INTO job_marks VALUES ('started')")
        await conn.close()
        await asyncio.sleep(3600)

    await JobRunner(dsn, [JobDefinition("test.slow", slow)]).run(asyncio.Event())


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
