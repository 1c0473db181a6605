"""The job runner behind `idv worker` (and `idv serve --with-worker`).

Failed jobs are retried with exponential backoff by pgqueuer's retry executor; a job whose
worker died is picked again once its heartbeat is older than ``heartbeat_timeout``; a job that
exhausts its attempts is held as ``failed`` for an operator to inspect and re-queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import asyncpg
from pgqueuer import QueueManager
from pgqueuer.executors import DatabaseRetryEntrypointExecutor
from pgqueuer.models import Job, Schedule
from pgqueuer.queries import Queries
from pgqueuer.sm import SchedulerManager

from service.database.pool import CONNECTION_ERRORS, Backoff, ConnectionLost
from service.observability.metrics import JOB_RUNNER_RESTARTS, JOB_RUNNER_UP

if TYPE_CHECKING:
    from service.observability.spans import Tracing

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


# A session that stayed connected this long starts the backoff again from its first step.
_STABLE_SECONDS = 30.0


class JobRunner:
    """Runs jobs and schedules until told to stop, whatever happens to the database meanwhile.

    When a connection is lost the runner lets the jobs in flight finish (their own pool
    connections reconnect), drops its connections and connects again with ``backoff``; it is
    ``up`` only while connected. Jobs it held are picked again once their heartbeat is stale.
    """

    def __init__(
        self,
        dsn: str,
        jobs: Sequence[JobDefinition],
        schedules: Sequence[ScheduledJob] = (),
        *,
        heartbeat_timeout: timedelta = timedelta(seconds=30),
        poll_interval: timedelta = timedelta(seconds=5),
        backoff: Backoff = Backoff(),
        tracing: Tracing | None = None,
    ) -> None:
        self.dsn = dsn
        self.jobs = jobs
        self.schedules = schedules
        self.heartbeat_timeout = heartbeat_timeout
        self.poll_interval = poll_interval
        self.backoff = backoff
        # A span for each run of a job while traces are exported (service.observability.tracing).
        self.tracing = tracing
        self.started = asyncio.Event()
        self.restarts = 0
        self._up = False
        self._connected_at: float | None = None

    @property
    def up(self) -> bool:
        """Connected and taking jobs (what readiness reports)."""
        return self._up

    def _set_up(self, up: bool) -> None:
        self._up = up
        JOB_RUNNER_UP.set(1 if up else 0)
        if up:
            self.started.set()

    def _traced(self, name: str, job_id: int | None = None) -> AbstractContextManager[None]:
        return contextlib.nullcontext() if self.tracing is None else self.tracing.job(name, job_id)

    def _register(self, manager: QueueManager, job: JobDefinition) -> None:
        async def run(pgq_job: Job) -> None:
            with self._traced(job.name, pgq_job.id):
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

            async def run(
                _: Schedule, work: Callable[[], Awaitable[None]] = scheduled.run, name: str = scheduled.name
            ) -> None:
                with self._traced(name):
                    await work()

            scheduler.schedule(scheduled.name, scheduled.cron, accepts_context=False)(run)
        return scheduler

    async def run(self, stop: asyncio.Event) -> None:
        """Process jobs until ``stop`` is set; jobs already running are allowed to finish."""
        failures = 0
        while not stop.is_set():
            self._connected_at = None
            try:
                await self._session(stop)
            except Exception as exc:  # whatever ends a session, the runner carries on
                if stop.is_set():
                    break
                failures = self._after_failure(exc, failures)
            else:
                break
            self._set_up(False)
            delay = self.backoff.delay(failures)
            self.restarts += 1
            JOB_RUNNER_RESTARTS.inc()
            logger.warning("job runner reconnecting", extra={"retry_in_seconds": round(delay, 2), "failures": failures})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
        self._set_up(False)
        logger.info("job runner stopped")

    def _after_failure(self, exc: Exception, failures: int) -> int:
        connected_at = self._connected_at
        if connected_at is not None and asyncio.get_running_loop().time() - connected_at >= _STABLE_SECONDS:
            failures = 0
        # The database going away is expected now and then; anything else is a bug, logged with its frames.
        if isinstance(exc, CONNECTION_ERRORS):
            # The class only: a driver's message can quote a query's parameters.
            logger.warning("job runner lost the database", extra={"error": type(exc).__name__})
        else:
            logger.error("job runner failed", exc_info=exc)
        return failures + 1

    async def _connect(self, name: str, lost: asyncio.Event) -> asyncpg.Connection:
        conn = await asyncpg.connect(self.dsn, timeout=10, server_settings={"application_name": name})
        conn.add_termination_listener(lambda _: lost.set())
        return conn

    async def _session(self, stop: asyncio.Event) -> None:
        """One connected stretch: returns when ``stop`` is set, raises when the database goes away."""
        lost = asyncio.Event()
        connections: list[asyncpg.Connection] = []
        try:
            conn = await self._connect("idv-worker", lost)
            connections.append(conn)
            schedule_conn = await self._connect("idv-scheduler", lost) if self.schedules else None
            if schedule_conn is not None:
                connections.append(schedule_conn)
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
            self._connected_at = asyncio.get_running_loop().time()
            self._set_up(True)
            logger.info(
                "job runner started",
                extra={"jobs": [j.name for j in self.jobs], "schedules": [s.name for s in self.schedules]},
            )
            stopper = asyncio.create_task(stop.wait())
            loser = asyncio.create_task(lost.wait())
            await asyncio.wait({*tasks, stopper, loser}, return_when=asyncio.FIRST_COMPLETED)
            # Take no new job; the managers wait for the jobs they run before returning.
            self._set_up(False)
            manager.shutdown.set()
            if scheduler is not None:
                scheduler.shutdown.set()
            stopper.cancel()
            loser.cancel()
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
            if stop.is_set():
                return
            failure = next((o for o in outcomes if isinstance(o, Exception)), None)
            raise failure or ConnectionLost()
        finally:
            for connection in connections:
                await _close(connection)


async def _close(conn: asyncpg.Connection) -> None:
    """Close politely if the server still answers, else drop the socket."""
    if conn.is_closed():
        return
    try:
        await asyncio.wait_for(conn.close(), 2)
    except Exception:  # a connection that cannot close cleanly is abandoned
        conn.terminate()
