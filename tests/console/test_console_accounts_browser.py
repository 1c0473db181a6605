"""The account look-up in a real browser (Debian's Chromium through Playwright): the identifier
goes in a POST body, never in the address, and a restriction is placed from the
account's page without breaking the Content-Security-Policy.

Skipped only when chromium is absent outside CI (`apt-get install chromium`); under CI it must run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.arrange.browser import CHROMIUM, served_app
from tests.arrange.console import ConsoleOperator, enrolled_for_console
from tests.arrange.people import PERSON, real_name_verified

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="needs Debian's chromium (apt-get install chromium, as scripts/install does as root); runs under CI",
)


async def sign_in(page: Any, base: str, operator: ConsoleOperator) -> None:
    await page.goto(f"{base}/console/")
    await page.fill("#email", operator.email)
    await page.fill("#password", operator.password)
    await page.fill("#totp_code", operator.sign_in_code())
    async with page.expect_navigation():
        await page.press("#totp_code", "Enter")
    assert page.url == f"{base}/console/", await page.content()


async def test_a_senior_reviewer_finds_an_account_and_restricts_it(tmp_path: Path, database_url: str) -> None:
    from playwright.async_api import async_playwright

    async with served_app(tmp_path, database_url) as (base, runtime):
        async with httpx.AsyncClient(base_url=base.replace("localhost", "127.0.0.1")) as api:
            account_id, _ = await real_name_verified(api, runtime)
            senior = await enrolled_for_console(runtime, api, "senior_reviewer")
        violations: list[str] = []
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM)
            try:
                page = await (await browser.new_context()).new_page()
                page.on(
                    "console",
                    lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
                )
                await sign_in(page, base, senior)
                await page.click("nav >> text=Accounts")
                await page.wait_for_url(f"{base}/console/accounts")
                await page.select_option("#kind", "email")
                await page.fill("#value", PERSON["email"])
                await page.select_option("#reason", "user_request")
                async with page.expect_navigation():
                    await page.click("button:text('Look up')")
                assert page.url == f"{base}/console/accounts/lookup"
                content = await page.content()
                assert str(account_id) in content and "br***@example.com" in content
                assert PERSON["email"] not in content
                await page.select_option(f"#restrict-{account_id}", "identity_in_doubt")
                async with page.expect_navigation():
                    await page.click("button:text('Restrict')")
                assert page.url == f"{base}/console/accounts/{account_id}"
                assert (await page.inner_text(".account-state")).startswith("restricted")
                assert await page.locator(f"#lift-{account_id}").count() == 1
            finally:
                await browser.close()
        assert violations == []
