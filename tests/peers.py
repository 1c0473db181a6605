"""Real HTTP peers for adapter tests: a registry, an SMS gateway, a recipient's webhook, each a
small Litestar app served by uvicorn on a free local port."""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import uvicorn
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler

from service.database.embedded import free_port
from service.realname.providers import signature


@asynccontextmanager
async def serving(handler: HTTPRouteHandler) -> AsyncIterator[str]:
    """Serve the one handler; yields the server's base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(Litestar([handler]), host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def signed_by(secret: bytes, headers: Mapping[str, str], body: bytes) -> bool:
    """What a careful peer checks: our HMAC over timestamp and body, and a timestamp within 5 minutes."""
    timestamp = headers.get("x-idv-timestamp", "")
    return hmac.compare_digest(signature(secret, timestamp, body), headers.get("x-idv-signature", "")) and (
        timestamp.isdigit() and abs(time.time() - int(timestamp)) <= 300
    )
