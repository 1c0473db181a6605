"""A real browser for the console's and passkeys' tests: the app behind uvicorn on a loopback port
(its WebAuthn origin that port on ``localhost``, a secure context), Debian's Chromium through
Playwright, its Content-Security-Policy complaints collected, the console's sign-in form, and a
virtual authenticator (CTAP2, internal transport, resident keys, user verification)."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from service.app import create_asgi
from service.http.server import listening_sockets, server_config
from service.runtime import Runtime
from service.settings import load_settings
from tests.arrange.console import ConsoleOperator
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


# Browser tests run wherever chromium is (scripts/install puts it there as root); under CI they must.
NEEDS_CHROMIUM = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="needs Debian's chromium (apt-get install chromium, as scripts/install does as root); runs under CI",
)


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """Debian's Chromium driven by Playwright, closed afterwards (Playwright imported only here, so
    a test module without the browser still imports)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield browser
        finally:
            await browser.close()


def watch_csp(page: Any, violations: list[str]) -> None:
    """Collect into ``violations`` every Content-Security-Policy complaint ``page`` logs."""
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )


async def console_sign_in_with_totp(page: Any, base: str, operator: ConsoleOperator) -> None:
    """Sign in through the console's sign-in form (e-mail, password, TOTP; Enter submits it), and
    land on the console's home."""
    await page.goto(f"{base}/console/sign-in")
    await page.fill("#email", operator.email)
    await page.fill("#password", operator.password)
    await page.fill("#totp_code", operator.sign_in_code())
    async with page.expect_navigation():
        await page.press("#totp_code", "Enter")
    assert page.url == f"{base}/console/", await page.content()


async def page_with_authenticator(browser: Any, base: str, violations: list[str]) -> Any:
    """A page of a new context on the console's sign-in, with the virtual authenticator and its CSP
    complaints watched."""
    context = await browser.new_context()
    page = await context.new_page()
    watch_csp(page, violations)
    await page.goto(f"{base}/console/sign-in")
    await add_virtual_authenticator(context, page)
    return page
