"""Liveness, readiness and metrics endpoints for the orchestrator and Prometheus."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import msgspec
import uvicorn
from litestar import Controller, Litestar, Request, Response, get

from service.cases.store import overdue_by_type
from service.database import migrations
from service.http.dependencies import CurrentRuntime
from service.http.problems import ProblemError, handle_exception
from service.http.server import listening_sockets
from service.jobs.runner import JobRunner
from service.lifecycle.cancellation import stuck_erasures
from service.observability import metrics
from service.recipients.notices import unacknowledged_counts
from service.vault import rotation

logger = logging.getLogger(__name__)


class HealthStatus(msgspec.Struct):
    status: str


class HealthController(Controller):
    path = "/health"
    tags = ["health"]

    @get("/live", summary="The process is up")
    async def live(self) -> HealthStatus:
        return HealthStatus("live")

    @get("/ready", summary="The database answers, every migration is applied, and jobs run if this process runs them")
    async def ready(self, request: Request[Any, Any, Any], runtime: CurrentRuntime) -> HealthStatus:
        try:
            async with asyncio.timeout(2):
                async with runtime.database.connection() as conn:
                    state = await migrations.status(conn, runtime.migrations)
        except Exception as exc:  # whatever stops the query, the answer is "not ready"
            raise ProblemError(503, "database_unavailable", "The database does not answer") from exc
        if not state.up_to_date:
            raise ProblemError(503, "migrations_pending", "Database migrations are not applied")
        # `idv serve --with-worker`: queued codes are delivered only while the runner is connected.
        runner: JobRunner | None = request.app.state.get("job_runner")
        if runner is not None and not runner.up:
            raise ProblemError(503, "job_runner_down", "Background jobs are not running")
        return HealthStatus("ready")


@get("/metrics", include_in_schema=False)
async def metrics_endpoint(runtime: CurrentRuntime) -> Response[bytes]:
    # Overdue cases (rights requests above all: they are due within a legal deadline), notices
    # recipients have not acknowledged and erasures not carried out are counted at scrape time, from
    # the database every replica shares (the worker that ran a job may serve no /metrics).
    try:
        async with asyncio.timeout(2):
            async with runtime.database.connection() as conn:
                for case_type, count in await overdue_by_type(conn):
                    metrics.OVERDUE_CASES.labels(case_type).set(count)
                for event, count in await unacknowledged_counts(conn):
                    metrics.UNACKNOWLEDGED_NOTICES.labels(event).set(count)
                for reason, count in await stuck_erasures(conn):
                    metrics.ERASURES_STUCK.labels(reason).set(count)
                await rotation.publish_metrics(conn, runtime.vault, runtime.settings, datetime.now(UTC))
    except Exception:
        logger.warning("could not count overdue cases, notices and erasures for /metrics")
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)


class WorkerHealthController(Controller):
    """`idv worker` has no API; these let the orchestrator restart a stuck worker and see it work."""

    path = "/health"

    @get("/live", summary="The process is up")
    async def live(self) -> HealthStatus:
        return HealthStatus("live")

    @get("/ready", summary="The job runner is connected and taking jobs")
    async def ready(self, request: Request[Any, Any, Any]) -> HealthStatus:
        if not request.app.state.jobs_running():
            raise ProblemError(503, "job_runner_down", "Background jobs are not running")
        return HealthStatus("ready")


@get("/metrics", include_in_schema=False)
async def worker_metrics() -> Response[bytes]:
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)


class _InProcessServer(uvicorn.Server):
    """A uvicorn server sharing the worker's event loop: the worker owns SIGTERM, not uvicorn."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def worker_health_server(jobs_running: Callable[[], bool], host: str, port: int) -> AsyncIterator[None]:
    """Serve the worker's probes and metrics on ``port`` while the block runs."""
    app = Litestar(
        route_handlers=[WorkerHealthController, worker_metrics],
        exception_handlers={Exception: handle_exception},
        openapi_config=None,
        logging_config=None,
        debug=False,
    )
    app.state.jobs_running = jobs_running
    server = _InProcessServer(
        uvicorn.Config(app, host=host, port=port, lifespan="off", access_log=False, log_config=None)
    )
    task = asyncio.create_task(server.serve(sockets=listening_sockets(host, port)))
    try:
        yield
    finally:
        server.should_exit = True
        await task
