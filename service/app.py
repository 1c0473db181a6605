"""The app factory: the one place where capabilities are wired together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from litestar import Litestar, Request, Response
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.types import ControllerRouterHandler

from service.capabilities import CAPABILITIES
from service.http.context import RequestContext
from service.http.dependencies import provide_actor
from service.http.forwarding import TrustedForwarding, parse_networks
from service.http.openapi import CompletedJsonRenderPlugin
from service.http.options import AllowedMethods
from service.http.parameters import QueryParameters
from service.http.problems import handle_exception
from service.http.rate_limits import STORE_NAME, rate_limit_middleware, rate_limit_store
from service.http.request_guard import request_guard
from service.http.requests import IdvRequest
from service.i18n.languages import Language
from service.jobs import JobRunner
from service.operators.auth import provide_operator
from service.runtime import Runtime
from service.sessions.auth import provide_principal
from service.settings import Settings
from service.version import VERSION

if TYPE_CHECKING:
    from service.observability.spans import Tracing

logger = logging.getLogger(__name__)


def route_handlers() -> Sequence[ControllerRouterHandler]:
    return [route for capability in CAPABILITIES for route in capability.routes]


def provide_runtime(state: State) -> Runtime:
    runtime: Runtime = state.runtime
    return runtime


def create_litestar(
    settings: Settings,
    *,
    dsn: str | None = None,
    migrations_dsn: str | None = None,
    runtime: Runtime | None = None,
    with_worker: bool = False,
    tracing: Tracing | None = None,
) -> Litestar:
    """Build the app. Give ``runtime`` to share one already open (tests), or ``dsn`` to have the
    app open its own at start-up, apply migrations, and close it at shutdown. ``tracing``: spans
    for requests and jobs, when traces are exported (service.observability.tracing)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if runtime is not None:
            yield
            return
        if dsn is None:
            raise RuntimeError("create_litestar needs a dsn or a runtime")
        async with Runtime.open(settings, dsn, migrations_dsn=migrations_dsn) as opened:
            # A face pipeline that no longer gives the reference embedding must not decide anything.
            await opened.faces.self_test()
            app.state.runtime = opened
            stop = asyncio.Event()
            worker = None
            if with_worker:
                from service.jobs.catalog import job_definitions, scheduled_jobs

                runner = JobRunner(dsn, job_definitions(opened), scheduled_jobs(opened), tracing=tracing)
                app.state.job_runner = runner  # readiness reports it
                worker = asyncio.create_task(runner.run(stop))
            try:
                yield
            finally:
                stop.set()
                if worker is not None:
                    await worker

    guard = request_guard(settings)
    allowed_methods = AllowedMethods()
    query_parameters = QueryParameters()

    async def before_request(request: Request[Any, Any, Any]) -> Response[Any] | None:
        if (answer := allowed_methods.answer(request)) is not None:
            return answer
        refusal: Response[Any] | None = await guard(request)
        if refusal is not None:
            return refusal
        query_parameters.check(request)
        return None

    app = Litestar(
        route_handlers=route_handlers(),
        request_class=IdvRequest,
        lifespan=[lifespan],
        dependencies={
            "runtime": Provide(provide_runtime, sync_to_thread=False),
            "principal": Provide(provide_principal),
            "operator": Provide(provide_operator, sync_to_thread=False),
            "actor": Provide(provide_actor),
        },
        middleware=[rate_limit_middleware(settings)],
        stores={STORE_NAME: rate_limit_store(settings)},
        exception_handlers={Exception: handle_exception},
        before_request=before_request,
        cors_config=CORSConfig(
            allow_origins=list(settings.allowed_origins),
            allow_credentials=True,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["authorization", "content-type", "x-request-id"],
            expose_headers=["x-request-id", "retry-after", "x-idv-account-id", "x-idv-account-state"],
        )
        if settings.allowed_origins
        else None,
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="idv",
            version=VERSION,
            description="Account registration and identity verification.",
            path="/",
            render_plugins=[CompletedJsonRenderPlugin(path="/openapi.json")],
        ),
        logging_config=None,
        debug=False,
    )
    # Both read the finished routes, which exist only now.
    allowed_methods.load(app)
    query_parameters.load(app)
    if runtime is not None:
        app.state.runtime = runtime
    return app


def create_asgi(
    settings: Settings,
    *,
    dsn: str | None = None,
    migrations_dsn: str | None = None,
    runtime: Runtime | None = None,
    with_worker: bool = False,
    tracing: Tracing | None = None,
) -> RequestContext:
    app = create_litestar(
        settings, dsn=dsn, migrations_dsn=migrations_dsn, runtime=runtime, with_worker=with_worker, tracing=tracing
    )
    forwarding = TrustedForwarding(app, parse_networks(settings.forwarded_allow_ips), settings.forwarded_hops)
    return RequestContext(forwarding, tracing, Language(settings.default_language))
