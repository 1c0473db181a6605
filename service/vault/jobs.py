"""Background work of the vault: re-wrapping data keys after a master-key rotation."""

from __future__ import annotations

import logging

from service.jobs.queue import enqueue
from service.jobs.runner import JobDefinition
from service.runtime import Runtime

logger = logging.getLogger(__name__)

REWRAP = "vault.rewrap"


def rewrap_job(runtime: Runtime) -> JobDefinition:
    async def rewrap(_: bytes | None) -> None:
        # One batch per transaction, then hand the rest to a fresh job so progress survives crashes.
        async with runtime.database.transaction() as conn:
            moved = await runtime.vault.rewrap(conn)
            if moved:
                await enqueue(conn, REWRAP, dedupe_key=None)
        logger.info("data keys rewrapped", extra={"count": moved})

    return JobDefinition(REWRAP, rewrap, concurrency_limit=1)
