"""The account look-up in a real browser (Debian's Chromium through Playwright): the identifier
goes in a POST body, never in the address, and a restriction is placed from the
account's page without breaking the Content-Security-Policy.

Skipped only when chromium is absent outside CI (`apt-get install chromium`); under CI it must run."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.arrange.browser import NEEDS_CHROMIUM, chromium, console_sign_in_with_totp, served_app, watch_csp
from tests.arrange.console import enrolled_for_console
from tests.arrange.people import PERSON, real_name_verified

pytestmark = NEEDS_CHROMIUM


async def test_a_senior_reviewer_finds_an_account_and_restricts_it(tmp_path: Path, database_url: str) -> None:
    async with served_app(tmp_path, database_url) as (base, runtime):
        async with httpx.AsyncClient(base_url=base.replace("localhost", "127.0.0.1")) as api:
            account_id, _ = await real_name_verified(api, runtime)
            senior = await enrolled_for_console(runtime, api, "senior_reviewer")
        violations: list[str] = []
        async with chromium() as browser:
            page = await (await browser.new_context()).new_page()
            watch_csp(page, violations)
            await console_sign_in_with_totp(page, base, senior)
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
        assert violations == []
