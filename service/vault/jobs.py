"""Background work of the vault: re-wrapping data keys after a master-key rotation."""

from __future__ import annotations

import logging

from service.jobs.queue import enqueue
from service.jobs.runner import JobDefinition, ScheduledJob
from service.runtime import Runtime
from service.vault import reindex, rotation

logger = logging.getLogger(__name__)

REWRAP = "vault.rewrap"
ROTATE = "vault.rotate_master_keys"
REINDEX = "vault.reindex"
# Batches of owners (or identity bars) re-indexed per run at most, each its own transaction.
REINDEX_BATCHES_PER_RUN = 50


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


def reindex_schedule(runtime: Runtime) -> ScheduledJob:
    """Every ten minutes while a blind-index rotation is configured: re-index a bounded number of
    batches under the new key (service/vault/reindex.py); nothing otherwise."""

    async def run() -> None:
        done = await reindex.reindex(runtime.database, runtime.vault, REINDEX_BATCHES_PER_RUN)
        if done:
            logger.info("rows re-indexed under the new blind-index key", extra={"count": done})

    return ScheduledJob(REINDEX, "*/10 * * * *", run)
