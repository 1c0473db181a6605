"""Dates on console pages in the reader's language (Babel's formats of the negotiated language), in
UTC said so, inside ``<time datetime=ISO>``; and the queue's due filter taking any date, a
malformed one being the form's field error, never a server error."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest

from service.runtime import Runtime
from tests.arrange.cases import case_in_review
from tests.arrange.console import console_sign_in, enrolled_for_console

ISO = "2031-03-04T05:06:00+00:00"


async def case_due(client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection, due_at: str) -> uuid.UUID:
    case_id = await case_in_review(client, runtime)
    await db.execute("UPDATE review_cases SET due_at = $2::text::timestamptz WHERE id = $1", case_id, due_at)
    return case_id


async def signed_in_reviewer(client: httpx.AsyncClient, runtime: Runtime) -> None:
    operator = await enrolled_for_console(runtime, client, "reviewer")
    assert (await console_sign_in(client, operator)).status_code == 303


@pytest.mark.parametrize(
    ("language", "shown"),
    [("zh-CN", "2031年3月4日 05:06 UTC"), ("en", "Mar 4, 2031 5:06\u202fAM UTC")],
)
async def test_the_queue_and_the_case_show_due_times_in_the_readers_format(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection, language: str, shown: str
) -> None:
    case_id = await case_due(client, runtime, db, ISO)
    await signed_in_reviewer(client, runtime)
    headers = {"accept-language": language}
    for page in ("/console/queue", f"/console/cases/{case_id}"):
        text = (await client.get(page, headers=headers)).text
        assert f'<time datetime="{ISO}">{shown}</time>' in text, page
        assert "2031-03-04 05:06" not in text


async def test_the_due_filter_takes_any_date_and_keeps_it_from_page_to_page(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    early = await case_due(client, runtime, db, "2031-03-04T23:59:00+00:00")
    late = await case_due(client, runtime, db, "2031-03-06T00:00:00+00:00")
    await signed_in_reviewer(client, runtime)
    for due_by, expected in (("2031-03-03", set()), ("2031-03-04", {early}), ("2031-03-05", {early})):
        page = await client.get("/console/queue", params={"due_by": due_by})
        assert page.status_code == 200, page.text
        shown = {case for case in (early, late) if f"/console/cases/{case}" in page.text}
        assert shown == expected, due_by
        assert f'name="due_by" value="{due_by}"' in page.text
    both = await client.get("/console/queue", params={"due_by": "2031-03-06"})
    assert f"/console/cases/{early}" in both.text and f"/console/cases/{late}" in both.text


@pytest.mark.parametrize(
    "due_by",
    [
        "2031-02-30",
        "31-03-04",
        "2031/03/04",
        "20310304",
        "2031-03-04T00:00",
        "+2031-03-04",
        "９０３１-03-04",
        "9999-12-31",
        "0001-01-01",
        "2031-3-4",
        "' OR 1=1 --",
        "<script>",
    ],
)
async def test_a_malformed_due_date_is_the_forms_field_error(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection, due_by: str
) -> None:
    case_id = await case_due(client, runtime, db, ISO)
    await signed_in_reviewer(client, runtime)
    page = await client.get("/console/queue", params={"due_by": due_by}, headers={"accept-language": "en"})
    assert page.status_code == 422, page.text
    assert "due_by: enter a date as YYYY-MM-DD" in page.text
    assert 'aria-invalid="true"' in page.text
    assert f"/console/cases/{case_id}" not in page.text
    assert "<script>" not in page.text  # what was sent comes back escaped in the field


async def test_an_overlong_due_date_is_refused_with_a_4xx(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await signed_in_reviewer(client, runtime)
    page = await client.get("/console/queue", params={"due_by": "2031-03-04" * 10})
    assert 400 <= page.status_code < 500
