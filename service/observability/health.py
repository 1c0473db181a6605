"""Liveness, readiness and metrics endpoints for the orchestrator and Prometheus."""

from __future__ import annotations

import asyncio

import msgspec
from litestar import Controller, Response, get

from service.database import migrations
from service.http.dependencies import CurrentRuntime
from service.http.problems import ProblemError
from service.observability import metrics


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


@get("/metrics", include_in_schema=False, sync_to_thread=False)
def metrics_endpoint() -> Response[bytes]:
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)
