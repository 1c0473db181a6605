"""How long each kind of data is kept, as a table, enforced by a nightly job.

Each category names what it purges and the SQL that finds and purges it; the period comes from
``IDV_RETENTION`` (``category=duration,...``; unnamed categories keep their default). Purging
deletes rows or blanks sealed values. ``legal_hold`` ends the hold on an erased account's
transaction records (lifecycle.holds); records kept for good without personal values (state
histories, the consent ledger, case events, the audit trail) are not categories here.
`idv retention report` prints, per category, the rule and what would be purged now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from service.jobs.runner import ScheduledJob
from service.lifecycle import holds
from service.runtime import Runtime


@dataclass(frozen=True)
class RetentionCategory:
    name: str
    default: timedelta
    what: str
    # Both take the retention period as $1 and return a count (the purge: of rows purged).
    count_sql: str
    purge_sql: str


CATEGORIES: tuple[RetentionCategory, ...] = (
    RetentionCategory(
        "sessions",
        timedelta(days=90),
        "sessions ended or expired longer ago (with their sealed address and user agent)",
        "SELECT count(*) FROM sessions WHERE coalesce(ended_at, expires_at) < now() - $1::interval",
        """WITH purged AS (DELETE FROM sessions WHERE coalesce(ended_at, expires_at) < now() - $1::interval RETURNING 1)
           SELECT count(*) FROM purged""",
    ),
    RetentionCategory(
        "one_time_codes",
        timedelta(days=1),
        "one-time codes expired or used longer ago",
        "SELECT count(*) FROM one_time_codes WHERE expires_at < now() - $1::interval",
        """WITH purged AS (DELETE FROM one_time_codes WHERE expires_at < now() - $1::interval RETURNING 1)
           SELECT count(*) FROM purged""",
    ),
    RetentionCategory(
        "outbox_messages",
        timedelta(days=30),
        "sent or abandoned messages (sealed recipient and content)",
        """SELECT count(*) FROM courier_messages
           WHERE status IN ('sent', 'abandoned') AND created_at < now() - $1::interval""",
        """WITH purged AS (DELETE FROM courier_messages
           WHERE status IN ('sent', 'abandoned') AND created_at < now() - $1::interval RETURNING 1)
           SELECT count(*) FROM purged""",
    ),
    RetentionCategory(
        "sign_in_throttle",
        timedelta(days=1),
        "sign-in throttling counters not touched since",
        "SELECT count(*) FROM sign_in_throttle WHERE updated_at < now() - $1::interval",
        """WITH purged AS (DELETE FROM sign_in_throttle WHERE updated_at < now() - $1::interval RETURNING 1)
           SELECT count(*) FROM purged""",
    ),
    RetentionCategory(
        "closed_case_evidence",
        timedelta(days=3 * 365),
        "evidence values of cases closed longer ago (the case, its events and reasons stay)",
        """SELECT count(*) FROM review_case_evidence e JOIN review_cases c ON c.id = e.case_id
           WHERE c.closed_at < now() - $1::interval""",
        """WITH purged AS (DELETE FROM review_case_evidence e USING review_cases c
           WHERE c.id = e.case_id AND c.closed_at < now() - $1::interval RETURNING 1)
           SELECT count(*) FROM purged""",
    ),
    RetentionCategory(
        "legal_hold",
        timedelta(days=3 * 365),
        "erased accounts' transaction records (verification outcomes, decisions, disclosures), kept "
        "minimized after the erasure (lifecycle.holds); counted per account",
        holds.COUNT_ENDED,
        holds.PURGE_ENDED,
    ),
)
BY_NAME = {category.name: category for category in CATEGORIES}
# Not a configurable category: a bar is kept exactly as long as it bars (IDV_TERMINATION_BAR).
PURGE_ENDED_BARS = "DELETE FROM identity_bars WHERE barred_until <= now()"


@dataclass(frozen=True)
class RetentionLine:
    category: str
    period: timedelta
    what: str
    due_now: int


def periods(configured: dict[str, timedelta]) -> dict[str, timedelta]:
    return {c.name: configured.get(c.name, c.default) for c in CATEGORIES}


async def report(conn: asyncpg.Connection, configured: dict[str, timedelta]) -> list[RetentionLine]:
    kept = periods(configured)
    return [
        RetentionLine(c.name, kept[c.name], c.what, await conn.fetchval(c.count_sql, kept[c.name])) for c in CATEGORIES
    ]


async def purge(runtime: Runtime) -> dict[str, int]:
    kept = periods(runtime.settings.retention)
    purged = {}
    async with runtime.database.transaction() as conn:
        for category in CATEGORIES:
            purged[category.name] = await conn.fetchval(category.purge_sql, kept[category.name])
        ended: str = await conn.execute(PURGE_ENDED_BARS)
        purged["identity_bars"] = int(ended.split()[-1])
    return purged


def retention_schedule(runtime: Runtime) -> ScheduledJob:
    async def run() -> None:
        await purge(runtime)

    # Nightly, 03:40 in Asia/Shanghai (19:40 UTC).
    return ScheduledJob("lifecycle.retention", "40 19 * * *", run)
