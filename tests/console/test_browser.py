"""The console in a real browser: Debian's Chromium driven by Playwright against the service on
``http://localhost:<port>`` (a secure context, so the ``__Host-`` cookie is kept).

Two operators in two browser contexts sign in with TOTP; the reviewer filters the queue (htmx),
works a case to a decision, sees a case's documents in the viewer and stages a four-eyes one; the
senior reviewer confirms it. Neither page breaks the Content-Security-Policy (htmx runs without
inline style or eval). The queue is read in Chinese too, and the viewer's images zoom without
script. With IDV_CONSOLE_SCREENSHOTS=1 the test also writes docs/console-queue.png,
docs/console-queue-zh.png and docs/console-case.png.

Skipped only when chromium is absent outside CI (`apt-get install chromium`); under CI it must run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx

from service.cases.catalogue import CaseType
from service.runtime import Runtime
from tests.arrange.browser import NEEDS_CHROMIUM, chromium, console_sign_in_with_totp, served_app, watch_csp
from tests.arrange.cases import case_in_review
from tests.arrange.console import ConsoleOperator, enrolled_for_console
from tests.arrange.evidence import qualification_case_with_documents

pytestmark = NEEDS_CHROMIUM
DOCS = Path(__file__).resolve().parents[2] / "docs"


async def sign_in(page: Any, base: str, operator: ConsoleOperator) -> None:
    """From the console's home, sent to sign in first, and signed in."""
    await page.goto(f"{base}/console/")
    assert page.url == f"{base}/console/sign-in"
    await console_sign_in_with_totp(page, base, operator)


async def test_two_operators_work_cases_from_the_queue_to_decisions(tmp_path: Path, database_url: str) -> None:
    async with served_app(tmp_path, database_url) as (base, runtime):
        await work_cases(base, runtime, tmp_path)


async def work_cases(base: str, runtime: Runtime, tmp_path: Path) -> None:
    async with httpx.AsyncClient(base_url=base.replace("localhost", "127.0.0.1")) as api:
        approved = await case_in_review(api, runtime)
        staged = await case_in_review(api, runtime)
        other_type = await case_in_review(api, runtime, case_type=CaseType.DATA_SUBJECT_REQUEST)
        reviewer = await enrolled_for_console(runtime, api, "reviewer")
        senior = await enrolled_for_console(runtime, api, "senior_reviewer")
        admin = await enrolled_for_console(runtime, api, "admin")
    async with runtime.database.connection() as conn:
        await conn.execute("UPDATE review_cases SET due_at = now() - interval '2 hours' WHERE id = $1", staged)

    shots = DOCS if os.environ.get("IDV_CONSOLE_SCREENSHOTS") else tmp_path
    violations: list[str] = []

    def watch(page: Any) -> None:
        watch_csp(page, violations)

    async with chromium() as browser:
        first = await browser.new_context(viewport={"width": 1200, "height": 800})
        page = await first.new_page()
        watch(page)
        await sign_in(page, base, reviewer)
        cookies = {c["name"]: c for c in await first.cookies()}
        assert cookies["__Host-idv_console"]["httpOnly"] and cookies["__Host-idv_console"]["sameSite"] == "Strict"

        # The queue, filtered through htmx: the table is swapped and the address follows.
        await page.click("nav >> text=Queue")
        await page.wait_for_url(f"{base}/console/queue")
        rows = page.locator("#queue-table tbody tr")
        assert await rows.count() == 2
        assert await page.locator(f"a[href='/console/cases/{other_type}']").count() == 0
        assert "data_subject_request" not in await page.content()
        # The case past its due time stands out, in its row and in its type's count.
        assert await page.get_attribute(f"tr:has(a[href='/console/cases/{staged}'])", "class") == "due"
        assert await page.get_attribute(f"tr:has(a[href='/console/cases/{approved}'])", "class") == ""
        assert "1 due" in " ".join((await page.inner_text(".count.has-due")).split())
        await page.select_option("select[name=assigned]", "mine")
        await page.wait_for_url("**/console/queue?*assigned=mine*")
        assert await page.locator("#queue-table tbody tr").first.inner_text() == "No cases match."
        await page.select_option("select[name=assigned]", "")
        await page.wait_for_url("**/console/queue?*assigned=&due=&due_by=")
        await page.wait_for_selector(f"a[href='/console/cases/{approved}']")
        await page.screenshot(path=str(shots / "console-queue.png"), full_page=True)
        # htmx keeps no copy of the pages it swapped (historyCacheSize 0): nothing personal stays
        # in the browser's storage, only the address it is at.
        stored = await page.evaluate("() => [Object.keys(sessionStorage), localStorage.length]")
        assert stored == [["htmx-current-path-for-history"], 0]

        # The same queue for a reader of Chinese: the pages in their language, dates in their format.
        chinese = await first.new_page()
        watch(chinese)
        await chinese.set_extra_http_headers({"accept-language": "zh-CN"})
        await chinese.goto(f"{base}/console/queue")
        assert await chinese.inner_text("h1") == "审核队列"
        assert "年" in await chinese.inner_text("#queue-table time >> nth=0")
        await chinese.screenshot(path=str(shots / "console-queue-zh.png"), full_page=True)
        await chinese.close()

        # A case from the queue to a decision, by keyboard-reachable forms.
        await page.click(f"a[href='/console/cases/{approved}']")
        await page.wait_for_url(f"{base}/console/cases/{approved}")
        assert await page.locator("td.masked", has_text="1101**********002X").count() == 1
        assert "11010519491231002X" not in await page.content()
        options = await page.locator("#choice option").all_inner_texts()
        assert any(o.startswith("approve: evidence_consistent") for o in options)
        assert not any("original_decision" in o for o in options)  # appeals' reasons, not this type's
        # Revealing one value takes a reason; htmx swaps it into its cell.
        await page.select_option("#reason-id_number", "identity_check")
        await page.click("#evidence-id_number + td + td button")
        await page.wait_for_selector("#evidence-id_number .revealed")
        assert await page.inner_text("#evidence-id_number .revealed") == "11010519491231002X"
        assert page.url == f"{base}/console/cases/{approved}"
        await page.select_option("#choice", "approve:evidence_consistent")
        await page.click("button:text('Decide')")
        await page.wait_for_url(f"{base}/console/cases/{approved}")
        assert await page.inner_text("#case-state") == "approved"
        assert await page.locator("#choice").count() == 0

        # The viewer: a qualification case's documents, images shown once a reason is chosen (each
        # image loaded is an audited opening), the PDF a download.
        async with httpx.AsyncClient(base_url=base.replace("localhost", "127.0.0.1")) as api:
            documents = await qualification_case_with_documents(api, runtime)
        await page.goto(f"{base}/console/cases/{documents.case_id}")
        assert await page.locator(".thumb img").count() == 0
        await page.select_option("#viewer-reason", "document_comparison")
        await page.focus("#evidence-viewer button")  # by keyboard
        await page.keyboard.press("Enter")
        await page.wait_for_url(f"{base}/console/cases/{documents.case_id}?reason=document_comparison*")
        images = page.locator(".thumb img")
        assert await images.count() == 2
        await page.wait_for_function("() => [...document.querySelectorAll('.thumb img')].every(i => i.complete)")
        widths = await images.evaluate_all("images => images.map(i => i.naturalWidth)")
        assert sorted(widths) == [640, 800]
        assert await page.locator(".thumb a[download]").count() == 1
        await page.screenshot(path=str(shots / "console-case.png"), full_page=True)
        # Zoom, by keyboard, without script: the images grow past their thumbnail size.
        small = max(await images.evaluate_all("images => images.map(i => i.getBoundingClientRect().width)"))
        assert small <= 240
        await page.focus(".zoom-toggle")
        await page.keyboard.press("Space")
        assert await page.is_checked(".zoom-toggle")
        large = max(await images.evaluate_all("images => images.map(i => i.getBoundingClientRect().width)"))
        assert large > 600
        await page.keyboard.press("Space")

        # A four-eyes decision: staged by the reviewer, who cannot confirm it.
        await page.goto(f"{base}/console/cases/{staged}")
        await page.select_option("#choice", "reject:suspected_false_information")
        await page.fill("#note", "Declared name belongs to someone else")
        await page.click("button:text('Decide')")
        await page.wait_for_url(f"{base}/console/cases/{staged}")
        assert await page.inner_text("#case-state") == "pending_second_approval"
        assert await page.locator("button:text('Confirm decision')").count() == 0

        # What the reviewer's role does not cover is refused, not shown.
        response = await page.goto(f"{base}/console/cases/{other_type}")
        assert response is not None and response.status == 403
        assert "002X" not in await page.content()  # not even masked (random tokens are lowercase hex)

        # Nor does the reviewer see or open the audit trail, an admin's and privacy officer's page.
        assert await page.locator("nav a", has_text="Audit trail").count() == 0
        response = await page.goto(f"{base}/console/audit?target_type=case&target_id={approved}")
        assert response is not None and response.status == 403
        assert "case.evidence_revealed" not in await page.content()
        # Nor any administration page: none offered, each refused.
        for label, path in (("Operators", "operators"), ("Recipients", "recipients"), ("Rights", "rights")):
            assert await page.locator("nav a", has_text=label).count() == 0
            response = await page.goto(f"{base}/console/{path}")
            assert response is not None and response.status == 403
            assert reviewer.email not in await page.content()

        # The senior reviewer, in a browser context of their own, sees what was staged and confirms.
        second = await browser.new_context()
        other = await second.new_page()
        watch(other)
        await sign_in(other, base, senior)
        await other.goto(f"{base}/console/cases/{staged}")
        assert "suspected_false_information" in await other.inner_text("#staged + p")
        assert "Declared name belongs to someone else" in await other.content()
        await other.click("button:text('Confirm decision')")
        await other.wait_for_url(f"{base}/console/cases/{staged}")
        assert await other.inner_text("#case-state") == "rejected"

        # An admin finds the reveal, with its reason, in the audit trail.
        third = await browser.new_context()
        audit = await third.new_page()
        watch(audit)
        await sign_in(audit, base, admin)
        await audit.click("nav >> text=Audit trail")
        await audit.select_option("select[name=target_type]", "case")
        await audit.fill("input[name=target_id]", str(approved))
        await audit.press("input[name=target_id]", "Enter")
        await audit.wait_for_url(f"{base}/console/audit?*")
        row = audit.locator("tr", has_text="case.evidence_revealed")
        assert "reason=identity_check" in await row.inner_text()
        # and, from the navigation, the operators with their roles.
        await audit.click("nav >> text=Operators")
        await audit.wait_for_url(f"{base}/console/operators")
        assert "reviewer" in await audit.locator("tr", has_text=reviewer.email).inner_text()

        # Signing out ends the session: the old page's links lead back to the sign-in.
        await page.click("button:text('Sign out')")  # from the refused page, which still offers it
        await page.wait_for_url(f"{base}/console/sign-in")
        await page.goto(f"{base}/console/queue")
        assert page.url == f"{base}/console/sign-in"
    assert violations == []
