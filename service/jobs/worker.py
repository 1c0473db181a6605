"""`idv worker`: the job runner in a process of its own, with its probes and metrics on a port.

The process outlives the database: it waits for it at start-up as the runner does after a restart
or a failover, so a worker started before PostgreSQL (or during a failover) is not restarted in a
loop by the orchestrator, and ``/health/ready`` says whether it is taking jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

from service.database.pool import CONNECTION_ERRORS, Backoff
from service.jobs.catalog import job_definitions, scheduled_jobs
from service.jobs.runner import JobRunner
from service.observability.health import worker_health_server
from service.runtime import Runtime
from service.settings import Settings

if TYPE_CHECKING:
    from service.observability.spans import Tracing

logger = logging.getLogger(__name__)


async def run_worker(
    settings: Settings,
    dsn: str,
    migrations_dsn: str,
    stop: asyncio.Event,
    backoff: Backoff = Backoff(),
    tracing: Tracing | None = None,
) -> None:
    """Run jobs until ``stop`` is set; ``tracing``: a span for each run (None: traces are off)."""
    runners: list[JobRunner] = []
    health: AbstractAsyncContextManager[None] = contextlib.nullcontext()
    if settings.worker_health_port:
        health = worker_health_server(
            lambda: bool(runners) and runners[0].up, settings.host, settings.worker_health_port
        )
    async with health:
        failures = 0
        while not stop.is_set():
            try:
                async with Runtime.open(settings, dsn, migrations_dsn=migrations_dsn) as runtime:
                    runners[:] = [JobRunner(dsn, job_definitions(runtime), scheduled_jobs(runtime), tracing=tracing)]
                    await runners[0].run(stop)
                return
            except CONNECTION_ERRORS as exc:
                if runners:  # the runner rides out outages itself; this is closing, not starting
                    raise
                failures += 1
                delay = backoff.delay(failures)
                logger.warning(
                    "worker waiting for the database",
                    extra={"error": type(exc).__name__, "retry_in_seconds": round(delay, 2)},
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
