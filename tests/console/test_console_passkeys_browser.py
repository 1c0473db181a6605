"""Operators' passkeys in the console in a real browser: Debian's Chromium driven by Playwright,
with Chromium's virtual authenticator, against the service on ``http://localhost:<port>``. An
operator enrols a passkey on the Passkeys page, signs out, signs in with it and reaches the queue;
with passkeys required, a password and TOTP sign-in reaches only home and the Passkeys page until
the passkey it enrols signs in. No page breaks the Content-Security-Policy (passkeys.js is a file).

Skipped only when chromium is absent outside CI; under CI it must run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.arrange.browser import (
    NEEDS_CHROMIUM,
    chromium,
    console_sign_in_with_totp,
    page_with_authenticator,
    served_app,
)
from tests.arrange.console import ConsoleOperator, enrolled_for_console

pytestmark = NEEDS_CHROMIUM


async def enrol_on_the_passkeys_page(page: Any, base: str, operator: ConsoleOperator, name: str) -> None:
    await page.goto(f"{base}/console/passkeys")
    await page.fill("#passkey-name", name)
    await page.fill("#passkey-password", operator.password)
    async with page.expect_navigation():
        await page.click("#passkey-enrol-button")
    assert page.url == f"{base}/console/passkeys"
    assert name in await page.inner_text("table"), await page.content()


async def sign_out(page: Any, base: str) -> None:
    async with page.expect_navigation():
        await page.click("header form button")
    assert page.url == f"{base}/console/sign-in"


async def sign_in_with_the_passkey(page: Any, base: str) -> None:
    await page.goto(f"{base}/console/sign-in")
    async with page.expect_navigation():
        await page.click("#passkey-sign-in")
    assert page.url == f"{base}/console/", await page.content()


async def test_an_operator_enrols_a_passkey_in_the_console_and_signs_in_with_it(
    tmp_path: Path, database_url: str
) -> None:
    async with served_app(tmp_path, database_url) as (base, runtime):
        async with httpx.AsyncClient(base_url=base.replace("localhost", "127.0.0.1")) as api:
            operator = await enrolled_for_console(runtime, api, "reviewer")
        complaints: list[str] = []
        async with chromium() as browser:
            page = await page_with_authenticator(browser, base, complaints)
            await console_sign_in_with_totp(page, base, operator)
            await enrol_on_the_passkeys_page(page, base, operator, "Chromium")
            await sign_out(page, base)
            await sign_in_with_the_passkey(page, base)
            queue = await page.goto(f"{base}/console/queue")
            assert queue is not None and queue.status == 200
            assert await page.inner_text("h1")
            assert complaints == []

        async with runtime.database.connection() as conn:
            row = await conn.fetchrow(
                "SELECT signed_in_with, channel FROM operator_sessions WHERE ended_at IS NULL AND operator_id = $1",
                operator.operator_id,
            )
        assert row is not None and (row["signed_in_with"], row["channel"]) == ("passkey", "console")


async def test_with_passkeys_required_password_and_totp_reach_only_home_and_passkeys(
    tmp_path: Path, database_url: str
) -> None:
    async with served_app(tmp_path, database_url, IDV_OPERATOR_REQUIRE_PASSKEY="true") as (base, runtime):
        async with httpx.AsyncClient(base_url=base.replace("localhost", "127.0.0.1")) as api:
            operator = await enrolled_for_console(runtime, api, "reviewer")
        complaints: list[str] = []
        async with chromium() as browser:
            page = await page_with_authenticator(browser, base, complaints)
            await console_sign_in_with_totp(page, base, operator)
            assert "Passkeys" in await page.inner_text("header")
            assert "Queue" not in await page.inner_text("header")
            refused = await page.goto(f"{base}/console/queue")
            assert refused is not None and refused.status == 403
            assert "passkey_required" in await page.content()
            await enrol_on_the_passkeys_page(page, base, operator, "Chromium")
            assert await page.is_visible("#passkey-next")
            refused = await page.goto(f"{base}/console/queue")
            assert refused is not None and refused.status == 403
            await page.goto(f"{base}/console/")
            await sign_out(page, base)
            await sign_in_with_the_passkey(page, base)
            assert "Queue" in await page.inner_text("header")
            queue = await page.goto(f"{base}/console/queue")
            assert queue is not None and queue.status == 200
            assert complaints == []
