"""The operator queue in pages (issue 23): an opaque cursor after (priority, due_at, id), read from the
open cases' partial index where the previous page ended, with no duplicate and no gap while cases are
decided between pages."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

import asyncpg
import httpx
import msgspec
import pytest

from service.cases import store
from service.cases.records import QueuePosition
from service.cases.states import OPEN_STATES
from service.runtime import Runtime
from tests.arrange.cases import case_in_review
from tests.arrange.operators import decide
from tests.arrange.volume import many_rows, plan
from tests.helpers import enrolled_operator

QUEUE = "/v1/operator/cases"
OPEN = [state.value for state in OPEN_STATES]


async def test_a_page_after_a_cursor_starts_in_the_index_where_the_last_one_ended(
    db: asyncpg.Connection, owner_db: asyncpg.Connection
) -> None:
    await many_rows(owner_db)  # 20,000 cases, 1,000 of them open
    middle = await db.fetchrow(
        """SELECT priority, due_at, id FROM review_cases WHERE closed_at IS NULL
           ORDER BY priority, due_at, id OFFSET 500 LIMIT 1"""
    )
    position = (middle["priority"], middle["due_at"], middle["id"])
    for assignee, index in ((None, "review_cases_queue_idx"), (uuid.uuid4(), "review_cases_assignee_idx")):
        chosen = await plan(
            db,
            store.queue_statement(open_only=True, any_open_state=True, after=True),
            ["real_name"],
            OPEN,
            None,
            assignee,
            False,
            51,
            None,
            *position,
        )
        assert f"Index Scan using {index}" in chosen, chosen
        # The position bounds the scan (an index condition), it does not filter rows read from the start.
        assert "Index Cond" in chosen and "ROW(priority, due_at, id) >" in chosen, chosen
        assert "Seq Scan" not in chosen and "Sort" not in chosen, chosen
    after = QueuePosition(*position)
    page = await store.queue(
        db,
        workable_types=["real_name"],
        case_type=None,
        states=OPEN,
        due_before=None,
        assignee=None,
        unassigned=False,
        limit=600,
        open_only=True,
        any_open_state=True,
        after=after,
    )
    assert len(page) == 499
    assert all((case.priority, case.due_at, case.id) > position for case in page)


async def test_paging_through_the_queue_sees_every_open_case_once_while_cases_are_decided(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    cases = [await case_in_review(client, runtime) for _ in range(9)]
    reviewer = await enrolled_operator(runtime, client, "reviewer")
    other = await enrolled_operator(runtime, client, "reviewer")
    seen: list[str] = []
    decided: set[str] = set()
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 2, **({"after": cursor} if cursor else {})}
        response = await client.get(QUEUE, params=params, headers=reviewer.headers)
        assert response.status_code == 200, response.text
        page = [case["case_id"] for case in response.json()]
        seen += page
        pages += 1
        cursor = response.headers.get("x-next-cursor")
        if pages == 1:
            # Between pages another reviewer decides a case already seen and one not seen yet.
            later = next(str(case) for case in reversed(cases) if str(case) not in seen)
            for case_id in (page[0], later):
                assert (await decide(client, other, uuid.UUID(case_id), "reject", "name_mismatch")).status_code == 200
                decided.add(case_id)
        if cursor is None:
            break
        assert len(page) == 2
    assert len(seen) == len(set(seen)), "a case was listed twice"
    # Every case open throughout was listed; the one decided before its page came is not.
    assert set(seen) == {str(case) for case in cases} - (decided - set(seen[:2]))
    assert pages == 4


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 !",
        "e30",  # {}
        base64.urlsafe_b64encode(b'[1, "2026-01-01T00:00:00", "00000000-0000-0000-0000-000000000000"]').decode(),
        base64.urlsafe_b64encode(b'[99999, "2026-01-01T00:00:00Z", "00000000-0000-0000-0000-000000000000"]').decode(),
        base64.urlsafe_b64encode(b'[1, "2026-01-01T00:00:00Z", "not-a-uuid"]').decode(),
        base64.urlsafe_b64encode(b"[1, 2, 3]").decode(),
        "x" * 201,
    ],
)
async def test_a_malformed_cursor_is_a_bad_request_naming_after(
    client: httpx.AsyncClient, runtime: Runtime, cursor: str
) -> None:
    reviewer = await enrolled_operator(runtime, client, "reviewer")
    response = await client.get(QUEUE, params={"after": cursor}, headers=reviewer.headers)
    assert response.status_code == 400, response.text
    assert [error["field"] for error in response.json()["errors"]] == ["after"]


async def test_the_last_page_has_no_cursor_and_a_cursor_past_the_end_gives_an_empty_page(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await case_in_review(client, runtime)
    reviewer = await enrolled_operator(runtime, client, "reviewer")
    response = await client.get(QUEUE, params={"limit": 1}, headers=reviewer.headers)
    assert len(response.json()) == 1 and "x-next-cursor" not in response.headers
    end = QueuePosition(4, datetime(9999, 1, 1, tzinfo=UTC), uuid.UUID(int=0))
    past = base64.urlsafe_b64encode(msgspec.json.encode(end)).rstrip(b"=").decode()
    response = await client.get(QUEUE, params={"after": past}, headers=reviewer.headers)
    assert response.status_code == 200 and response.json() == []
