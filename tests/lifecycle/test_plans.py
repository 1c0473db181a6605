"""The nightly jobs cost in proportion to the rows due, not to the tables (issue 23): with about 1% of
the rows due, each retention count and purge, and the guardian window, finds them through an index.
Plans, not timings, so a later change to a query or an index cannot regress them silently."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from service.accounts.reasons import WITHOUT_GUARDIAN_REASONS
from service.guardians.store import MINORS_PAST_WINDOW
from service.lifecycle.retention import CATEGORIES, OLDEST_LIVE_KEY
from service.retention_categories import Retained
from service.runtime import Runtime
from tests.arrange.volume import many_rows, plan

# The seeded rows are spread over 400 days: a period of 396 days leaves about 1% of them due.
PERIOD = timedelta(days=396)
SEEDED = ("sessions", "one_time_codes", "courier_messages", "review_cases", "review_case_evidence", "accounts")


async def test_each_retention_count_and_purge_reads_its_due_rows_through_an_index(
    db: asyncpg.Connection, owner_db: asyncpg.Connection
) -> None:
    await many_rows(owner_db)
    checked = 0
    for category in CATEGORIES:
        for statement in category.statements:
            chosen = await plan(owner_db, statement, PERIOD)
            for table in SEEDED:
                assert f"Seq Scan on {table}" not in chosen, (category.name, chosen)
            checked += 1
    # sessions, one-time codes, outbox messages, throttle, closed-case evidence, guardian invitations
    assert checked >= 12
    # audit origins: the oldest live key is the first entry of an index, not a pass over every account's key
    chosen = await plan(owner_db, OLDEST_LIVE_KEY)
    assert "Seq Scan on data_keys" not in chosen, chosen


async def test_the_guardian_window_reads_waiting_accounts_through_their_partial_index(
    db: asyncpg.Connection, owner_db: asyncpg.Connection
) -> None:
    await many_rows(owner_db)
    chosen = await plan(db, MINORS_PAST_WINDOW, timedelta(days=30), list(WITHOUT_GUARDIAN_REASONS))
    assert "accounts_waiting_idx" in chosen and "Seq Scan on accounts" not in chosen, chosen


async def test_closed_case_evidence_purge_takes_only_cases_closed_before_the_period(
    runtime: Runtime, db: asyncpg.Connection, owner_db: asyncpg.Connection
) -> None:
    await many_rows(owner_db, accounts=1000)  # one case each, closed 0-399 days ago, one in twenty open
    category = next(c for c in CATEGORIES if c.name is Retained.CLOSED_CASE_EVIDENCE)
    # Cases closed 396 (then, seeding, is a moment before now) to 399 days ago: accounts 396-399 and 796-799.
    assert await category.count(db, PERIOD) == 8
    async with db.transaction():
        assert await category.purge(runtime, db, PERIOD) == 8
    left = await db.fetch("SELECT c.closed_at FROM review_case_evidence e JOIN review_cases c ON c.id = e.case_id")
    assert len(left) == 992
    assert all(row["closed_at"] is None or row["closed_at"] > datetime.now(UTC) - PERIOD for row in left)
    assert await category.count(db, PERIOD) == 0
