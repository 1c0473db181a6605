"""Each scheduled job's last run, recorded in the database every replica shares.

A run is recorded when it starts (``running``) and when it ends (``succeeded``, or ``failed`` with
the exception's class, never its message); whichever worker ran it, or `idv jobs run`.
`idv jobs list` reads it back. A run whose worker died stays ``running`` with its start time.
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum

import asyncpg
import msgspec

from service.database.pool import Database
from service.jobs.runner import ScheduledJob
from service.observability.metrics import JOBS_DONE

logger = logging.getLogger(__name__)


class Trigger(StrEnum):
    SCHEDULE = "schedule"
    COMMAND = "command"


class JobRun(msgspec.Struct, frozen=True):
    name: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    error: str | None
    trigger: str
    last_succeeded_at: datetime | None


def recorded(database: Database, job: ScheduledJob, trigger: Trigger) -> ScheduledJob:
    """The same job, its runs recorded."""

    async def run() -> None:
        async with database.connection() as conn:
            await _started(conn, job.name, trigger)
        try:
            await job.run()
        except Exception as exc:
            logger.warning("scheduled job failed", extra={"job": job.name}, exc_info=True)
            JOBS_DONE.labels(job.name, "failed").inc()
            async with database.connection() as conn:
                await _finished(conn, job.name, type(exc).__name__)
            raise
        JOBS_DONE.labels(job.name, "succeeded").inc()
        async with database.connection() as conn:
            await _finished(conn, job.name, None)

    return ScheduledJob(job.name, job.cron, run)


async def _started(conn: asyncpg.Connection, name: str, trigger: Trigger) -> None:
    await conn.execute(
        """INSERT INTO scheduled_job_runs (name, started_at, outcome, trigger) VALUES ($1, now(), 'running', $2)
           ON CONFLICT (name) DO UPDATE
           SET started_at = now(), finished_at = NULL, outcome = 'running', error = NULL, trigger = $2""",
        name,
        trigger.value,
    )


async def _finished(conn: asyncpg.Connection, name: str, error: str | None) -> None:
    await conn.execute(
        """UPDATE scheduled_job_runs
           SET finished_at = now(), outcome = CASE WHEN $2::text IS NULL THEN 'succeeded' ELSE 'failed' END,
               error = $2, last_succeeded_at = CASE WHEN $2::text IS NULL THEN now() ELSE last_succeeded_at END
           WHERE name = $1""",
        name,
        error,
    )


async def last_runs(conn: asyncpg.Connection) -> dict[str, JobRun]:
    rows = await conn.fetch(
        "SELECT name, started_at, finished_at, outcome, error, trigger, last_succeeded_at FROM scheduled_job_runs"
    )
    return {row["name"]: JobRun(**dict(row)) for row in rows}


async def next_due(conn: asyncpg.Connection) -> dict[str, datetime]:
    """When the scheduler will next run each job (known once a worker has registered it)."""
    rows = await conn.fetch("SELECT entrypoint, min(next_run) AS next_run FROM pgqueuer_schedules GROUP BY entrypoint")
    return {row["entrypoint"]: row["next_run"] for row in rows}
