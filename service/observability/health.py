"""Liveness, readiness and metrics endpoints for the orchestrator and Prometheus."""

from __future__ import annotations

import asyncio
import logging

import msgspec
from litestar import Controller, Response, get

from service.cases.store import overdue_by_type
from service.database import migrations
from service.http.dependencies import CurrentRuntime
from service.http.problems import ProblemError
from service.lifecycle.cancellation import stuck_erasures
from service.observability import metrics
from service.recipients.notices import unacknowledged_counts

logger = logging.getLogger(__name__)


class HealthStatus(msgspec.Struct):
    status: str


class HealthController(Controller):
    path = "/health"
    tags = ["health"]

    @get("/live", summary="The process is up")
    async def live(self) -> HealthStatus:
        return HealthStatus("live")

    @get("/ready", summary="The database answers and every migration is applied")
    async def ready(self, runtime: CurrentRuntime) -> HealthStatus:
        try:
            async with asyncio.timeout(2):
                async with runtime.database.connection() as conn:
                    state = await migrations.status(conn, runtime.migrations)
        except Exception as exc:  # whatever stops the query, the answer is "not ready"
            raise ProblemError(503, "database_unavailable", "The database does not answer") from exc
        if not state.up_to_date:
            raise ProblemError(503, "migrations_pending", "Database migrations are not applied")
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
    except Exception:
        logger.warning("could not count overdue cases, notices and erasures for /metrics")
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)
