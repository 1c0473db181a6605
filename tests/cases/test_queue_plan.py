"""The operator queue reads open cases from their partial index, in order, whatever the table holds
(issue 23): a plan, not a timing, so a later change to the query or the index cannot regress it silently."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from service.cases import store
from service.cases.states import OPEN_STATES
from tests.arrange.volume import many_rows, plan

OPEN = [state.value for state in OPEN_STATES]


async def test_the_queue_reads_open_cases_through_their_partial_index_never_closed_ones(
    db: asyncpg.Connection, owner_db: asyncpg.Connection
) -> None:
    await many_rows(owner_db)
    filters: list[tuple[str | None, list[str], datetime | None, uuid.UUID | None, bool]] = [
        (None, OPEN, None, None, False),  # unfiltered
        ("real_name", OPEN, None, None, False),  # case type
        (None, ["in_review"], None, None, False),  # state
        (None, OPEN, datetime.now(UTC) + timedelta(days=3), None, False),  # due before
        (None, OPEN, None, uuid.uuid4(), False),  # mine
        (None, OPEN, None, None, True),  # unassigned
    ]
    for case_type, states, due_before, assignee, unassigned in filters:
        chosen = await plan(
            db,
            store.queue_statement(open_only=True, any_open_state=states == OPEN),
            ["real_name"],
            states,
            due_before,
            assignee,
            unassigned,
            50,
            case_type,
        )
        # "mine" reads the operator's own open cases from their index, the others the open cases' index.
        assert ("review_cases_assignee_idx" if assignee else "review_cases_queue_idx") in chosen, chosen
        assert "Seq Scan" not in chosen, chosen
        if case_type is None and states == OPEN and due_before is None and assignee is None:
            # Many open cases match: the first page is read in the index's order, nothing is sorted.
            assert "Index Scan using review_cases_queue_idx" in chosen and "Sort" not in chosen, chosen


async def test_the_queue_still_lists_a_closed_state_asked_for_by_name(
    db: asyncpg.Connection, owner_db: asyncpg.Connection
) -> None:
    await many_rows(owner_db, accounts=200)
    rows = await store.queue(
        db,
        workable_types=["real_name"],
        case_type=None,
        states=["approved"],
        due_before=None,
        assignee=None,
        unassigned=False,
        limit=5,
        open_only=False,
    )
    assert len(rows) == 5 and {row.state for row in rows} == {"approved"}
    opened = await store.queue(
        db,
        workable_types=["real_name"],
        case_type=None,
        states=OPEN,
        due_before=None,
        assignee=None,
        unassigned=False,
        limit=200,
        open_only=True,
    )
    assert len(opened) == 10 and all(row.closed_at is None for row in opened)
    ordered = [(row.priority, row.due_at, row.id) for row in opened]
    assert ordered == sorted(ordered)
