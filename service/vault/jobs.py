"""Background work of the vault: re-wrapping data keys after a master-key rotation."""

from __future__ import annotations

import logging

from service.jobs.queue import enqueue
from service.jobs.runner import JobDefinition, ScheduledJob
from service.runtime import Runtime
from service.vault import rotation

logger = logging.getLogger(__name__)

REWRAP = "vault.rewrap"
ROTATE = "vault.rotate_master_keys"


def rewrap_job(runtime: Runtime) -> JobDefinition:
    async def rewrap(_: bytes | None) -> None:
        # One batch per transaction, then hand the rest to a fresh job so progress survives crashes.
        async with runtime.database.transaction() as conn:
            moved = await runtime.vault.rewrap(conn)
            if moved:
                await enqueue(conn, REWRAP, dedupe_key=None)
        logger.info("data keys rewrapped", extra={"count": moved})

    return JobDefinition(REWRAP, rewrap, concurrency_limit=1)


def rotation_schedule(runtime: Runtime) -> ScheduledJob:
    """Every hour: re-wrap data keys still under older master keys, a bounded number per run."""

    async def run() -> None:
        moved = await rotation.rotate(runtime.database, runtime.vault)
        logger.info("data keys rewrapped", extra={"count": moved})

    return ScheduledJob(ROTATE, "41 * * * *", run)
