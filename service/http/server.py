"""How uvicorn serves the app: one place, so tests serve it exactly as `idv serve` does."""

from __future__ import annotations

import uvicorn

from service.http.context import RequestContext


def server_config(app: RequestContext, *, host: str, port: int, graceful_seconds: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_config=None,
        # The app reads X-Forwarded-For itself (service.http.forwarding): uvicorn's reading believes
        # a forged left-most entry whenever every hop after it is in a trusted range.
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=graceful_seconds,
    )
