"""The console's queue and its rights requests in pages: the API's keyset cursor, filters kept from
page to page, every case seen once, and a forged cursor answered with a 4xx page."""

from __future__ import annotations

import re

import httpx
import pytest

from service.cases.catalogue import CaseType
from service.console import admin, routes
from service.runtime import Runtime
from tests.arrange.cases import case_in_review
from tests.arrange.console import console_sign_in, enrolled_for_console

NEXT = re.compile(r'<a href="(/console/queue\?[^"]+)" rel="next">')
NEXT_RIGHTS = re.compile(r'<a href="(/console/rights\?[^"]+)" rel="next">')


def shown(page: str) -> list[str]:
    return re.findall(r'<a href="/console/cases/([0-9a-f-]{36})">', page)


async def walk(
    client: httpx.AsyncClient, first: httpx.Response, next_link: re.Pattern[str]
) -> list[tuple[str | None, httpx.Response]]:
    """Every page from the first by its next links: (the link followed to reach it, the page)."""
    pages: list[tuple[str | None, httpx.Response]] = [(None, first)]
    while True:
        page = pages[-1][1]
        assert page.status_code == 200, page.text
        link = next_link.search(page.text)
        if link is None:
            return pages
        target = link.group(1).replace("&amp;", "&")
        pages.append((target, await client.get(target)))


async def test_the_queue_pages_through_every_case_once_keeping_its_filters(
    client: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(routes, "QUEUE_PAGE_SIZE", 2)
    cases = {str(await case_in_review(client, runtime)) for _ in range(5)}
    operator = await enrolled_for_console(runtime, client, "reviewer")
    assert (await console_sign_in(client, operator)).status_code == 303

    walked = await walk(client, await client.get("/console/queue", params={"assigned": "unassigned"}), NEXT)
    seen = [case for _, page in walked for case in shown(page.text)]
    for target, page in walked[1:]:
        assert target is not None and "assigned=unassigned" in target
        assert "First page" in page.text
    assert len(walked) == 3
    assert len(seen) == len(set(seen)) == 5
    assert set(seen) == cases


@pytest.mark.parametrize("cursor", ["x", "A" * 150, "eyJwIjoxfQ", "%00", "1:2:3"])
async def test_a_forged_cursor_is_a_clear_4xx(client: httpx.AsyncClient, runtime: Runtime, cursor: str) -> None:
    operator = await enrolled_for_console(runtime, client, "reviewer")
    assert (await console_sign_in(client, operator)).status_code == 303
    page = await client.get("/console/queue", params={"after": cursor})
    assert 400 <= page.status_code < 500, page.text
    too_long = await client.get("/console/queue", params={"after": "A" * 500})
    assert 400 <= too_long.status_code < 500


async def test_the_rights_requests_page_through_every_request_once_in_the_queues_order(
    client: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin, "RIGHTS_PAGE_SIZE", 2)
    requests = {str(await case_in_review(client, runtime, case_type=CaseType.DATA_SUBJECT_REQUEST)) for _ in range(5)}
    other = str(await case_in_review(client, runtime))
    operator = await enrolled_for_console(runtime, client, "privacy_officer", "reviewer")
    assert (await console_sign_in(client, operator)).status_code == 303

    first = await client.get("/console/rights")
    assert "First page" not in first.text
    walked = await walk(client, first, NEXT_RIGHTS)
    seen = [case for _, page in walked for case in shown(page.text)]
    for _, page in walked[1:]:
        assert '<a href="/console/rights">First page</a>' in page.text
    assert len(walked) >= 3
    assert len(seen) == len(set(seen))
    assert requests <= set(seen) and other not in seen


@pytest.mark.parametrize("cursor", ["x", "A" * 150, "eyJwIjoxfQ", "%00", "1:2:3", "A" * 500])
async def test_a_forged_rights_cursor_is_a_clear_4xx(client: httpx.AsyncClient, runtime: Runtime, cursor: str) -> None:
    operator = await enrolled_for_console(runtime, client, "privacy_officer")
    assert (await console_sign_in(client, operator)).status_code == 303
    page = await client.get("/console/rights", params={"after": cursor})
    assert 400 <= page.status_code < 500, page.text
