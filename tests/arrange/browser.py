"""A real browser for passkey tests: the app behind uvicorn on a loopback port (its WebAuthn origin
that port on ``localhost``, a secure context), and Debian's Chromium with a virtual authenticator
(CTAP2, internal transport, resident keys, user verification)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import uvicorn

from service.app import create_asgi
from service.http.server import listening_sockets, server_config
from service.runtime import Runtime
from service.settings import load_settings
from tests.conftest import environment_for_tests

CHROMIUM = shutil.which("chromium")


@asynccontextmanager
async def served_app(state_dir: Path, database_url: str, **overrides: str) -> AsyncIterator[tuple[str, Runtime]]:
    """The app on ``http://localhost:<port>`` (its origin, yielded with the runtime serving it)."""
    [listener] = listening_sockets("127.0.0.1", 0)
    port = listener.getsockname()[1]
    settings = load_settings(
        environment_for_tests(
            state_dir, IDV_PORT=str(port), IDV_WEBAUTHN_ORIGINS=f"http://localhost:{port}", **overrides
        )
    )
    async with Runtime.open(settings, database_url, apply_migrations=False) as runtime:
        app = create_asgi(settings, runtime=runtime)
        server = uvicorn.Server(server_config(app, host="127.0.0.1", port=port, graceful_seconds=1))
        task = asyncio.create_task(server.serve(sockets=[listener]))
        while not server.started:
            await asyncio.sleep(0.01)
        try:
            yield f"http://localhost:{port}", runtime
        finally:
            server.should_exit = True
            await task
            listener.close()


async def add_virtual_authenticator(context: Any, page: Any) -> None:
    """Chromium's virtual authenticator on ``page`` (a Playwright page of ``context``), which
    answers create and get at once, the user present and verified."""
    cdp = await context.new_cdp_session(page)
    await cdp.send("WebAuthn.enable")
    await cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
