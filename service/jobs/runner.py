"""The job runner behind `idv worker` (and `idv serve --with-worker`).

Failed jobs are retried with exponential backoff by pgqueuer's retry executor; a job whose
worker died is picked again once its heartbeat is older than ``heartbeat_timeout``; a job that
exhausts its attempts is held as ``failed`` for an operator to inspect and re-queue.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
from pgqueuer import QueueManager
from pgqueuer.executors import DatabaseRetryEntrypointExecutor
from pgqueuer.models import Job, Schedule
from pgqueuer.queries import Queries
from pgqueuer.sm import SchedulerManager

logger = logging.getLogger(__name__)

JobHandler = Callable[[bytes | None], Awaitable[None]]


@dataclass(frozen=True)
class JobDefinition:
    name: str
    handler: JobHandler
    max_attempts: int = 8
    concurrency_limit: int = 0
    initial_retry_delay: timedelta = timedelta(seconds=2)
    max_retry_delay: timedelta = timedelta(minutes=10)


@dataclass(frozen=True)
class ScheduledJob:
    """Work run on a cron schedule; pgqueuer makes sure one worker runs each due time."""

    name: str
    cron: str
    run: Callable[[], Awaitable[None]]


class JobRunner:
    def __init__(
        self,
        dsn: str,
        jobs: Sequence[JobDefinition],
        schedules: Sequence[ScheduledJob] = (),
        *,
        heartbeat_timeout: timedelta = timedelta(seconds=30),
        poll_interval: timedelta = timedelta(seconds=5),
    ) -> None:
        self.dsn = dsn
        self.jobs = jobs
        self.schedules = schedules
        self.heartbeat_timeout = heartbeat_timeout
        self.poll_interval = poll_interval
        self.started = asyncio.Event()

    def _register(self, manager: QueueManager, job: JobDefinition) -> None:
        async def run(pgq_job: Job) -> None:
            await job.handler(pgq_job.payload)

        manager.entrypoint(
            job.name,
            concurrency_limit=job.concurrency_limit,
            accepts_context=False,
            on_failure="hold",
            executor_factory=lambda parameters: DatabaseRetryEntrypointExecutor(
                parameters,
                max_attempts=job.max_attempts,
                initial_delay=job.initial_retry_delay,
                max_delay=job.max_retry_delay,
            ),
        )(run)

    def _scheduler(self, conn: asyncpg.Connection) -> SchedulerManager:
        scheduler = SchedulerManager(Queries.from_asyncpg_connection(conn))
        for scheduled in self.schedules:

            async def run(_: Schedule, work: Callable[[], Awaitable[None]] = scheduled.run) -> None:
                await work()

            scheduler.schedule(scheduled.name, scheduled.cron, accepts_context=False)(run)
        return scheduler

    async def run(self, stop: asyncio.Event) -> None:
        """Process jobs until ``stop`` is set; jobs already running are allowed to finish."""
        conn = await asyncpg.connect(self.dsn, server_settings={"application_name": "idv-worker"})
        schedule_conn = (
            await asyncpg.connect(self.dsn, server_settings={"application_name": "idv-scheduler"})
            if self.schedules
            else None
        )
        try:
            manager = QueueManager(Queries.from_asyncpg_connection(conn))
            for job in self.jobs:
                self._register(manager, job)
            tasks = {
                asyncio.create_task(
                    manager.run(
                        dequeue_timeout=self.poll_interval,
                        heartbeat_timeout=self.heartbeat_timeout,
                        batch_size=5,
                    )
                )
            }
            scheduler = self._scheduler(schedule_conn) if schedule_conn is not None else None
            if scheduler is not None:
                tasks.add(asyncio.create_task(scheduler.run()))
            self.started.set()
            logger.info(
                "job runner started",
                extra={"jobs": [j.name for j in self.jobs], "schedules": [s.name for s in self.schedules]},
            )
            stopper = asyncio.create_task(stop.wait())
            await asyncio.wait({*tasks, stopper}, return_when=asyncio.FIRST_COMPLETED)
            manager.shutdown.set()
            if scheduler is not None:
                scheduler.shutdown.set()
            stopper.cancel()
            await asyncio.gather(*tasks)
            logger.info("job runner stopped")
        finally:
            await conn.close()
            if schedule_conn is not None:
                await schedule_conn.close()
