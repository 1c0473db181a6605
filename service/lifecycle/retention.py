"""How long each kind of data is kept, as a table, enforced by a nightly job.

Each category names what it purges and how it finds and purges it (SQL, or a function for
``audit_origins``, which destroys month keys, and ``terminated_accounts``, which erases accounts);
the period comes from ``IDV_RETENTION`` (``category=duration,...``; unnamed categories keep their
default). Purging deletes rows, blanks sealed values or destroys keys. ``legal_hold`` ends the hold
on an erased account's transaction records (lifecycle.holds). ``OWN_CLOCKS`` lists the data whose
period is a setting of its own and which another job ends (face images, documents, exports, the
guardian window, identity bars), so the report shows a period for every kind of personal data;
records kept for good without personal values (state histories, the consent ledger, case events,
the audit trail) are not categories here. Every entry of the personal-data registry
(lifecycle.personal_data) names one of these, the account's own end, or "kept for good".
`idv retention report` prints, per line, the rule, what is due now and the job that ends it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg

from service.accounts import store as accounts
from service.accounts.states import AccountEvent
from service.audit import Actor
from service.audit.trail import origin_key_owner
from service.guardians import store as guardians
from service.jobs.runner import ScheduledJob
from service.lifecycle import holds
from service.lifecycle.erasure import erase_account
from service.qualifications import store as qualifications
from service.retention_categories import DEFAULT_PERIODS, Retained
from service.runtime import Runtime
from service.settings import Settings

KEEPER = Actor.system("lifecycle.retention")
logger = logging.getLogger(__name__)


# Given the period: how much is due now, and (in the purge's transaction) purge it, returning how much.
Count = Callable[[asyncpg.Connection, timedelta], Awaitable[int]]
Purge = Callable[[Runtime, asyncpg.Connection, timedelta], Awaitable[int]]


@dataclass(frozen=True)
class RetentionCategory:
    name: Retained
    what: str
    count: Count
    purge: Purge
    # The SQL a category runs, when it is plain SQL: tests/lifecycle/test_plans.py checks each one's plan.
    statements: tuple[str, ...] = ()

    @property
    def default(self) -> timedelta:
        return DEFAULT_PERIODS[self.name]


def _by_sql(name: Retained, what: str, count_sql: str, purge_sql: str) -> RetentionCategory:
    """A category whose SQL takes the period as $1 and returns a count (the purge: of rows purged)."""

    async def count(conn: asyncpg.Connection, period: timedelta) -> int:
        due: int = await conn.fetchval(count_sql, period)
        return due

    async def purge(_: Runtime, conn: asyncpg.Connection, period: timedelta) -> int:
        purged: int = await conn.fetchval(purge_sql, period)
        return purged

    return RetentionCategory(name, what, count, purge, (count_sql, purge_sql))


def _origin_months_past(first: datetime | None, period: timedelta) -> list[str]:
    """The calendar months (UTC, ``YYYY-MM``) from ``first``'s that ended longer than ``period``
    ago: every origin sealed in them is older than the period."""
    if first is None:
        return []
    cutoff = datetime.now(UTC) - period
    months, month = [], datetime(first.year, first.month, 1, tzinfo=UTC)
    while (end := (month + timedelta(days=32)).replace(day=1)) <= cutoff:
        months.append(month.strftime("%Y-%m"))
        month = end
    return months


# A month's key is made in that month or the one before: no key is older than the oldest key.
OLDEST_LIVE_KEY = "SELECT min(created_at) FROM data_keys WHERE destroyed_at IS NULL"


async def _origin_keys_past(conn: asyncpg.Connection, period: timedelta) -> list[UUID]:
    first = await conn.fetchval(OLDEST_LIVE_KEY)
    owners = [origin_key_owner(month) for month in _origin_months_past(first, period)]
    rows = await conn.fetch(
        "SELECT owner_id FROM data_keys WHERE owner_id = ANY($1::uuid[]) AND destroyed_at IS NULL", owners
    )
    return [row["owner_id"] for row in rows]


async def _count_audit_origins(conn: asyncpg.Connection, period: timedelta) -> int:
    return len(await _origin_keys_past(conn, period))


async def _purge_audit_origins(runtime: Runtime, conn: asyncpg.Connection, period: timedelta) -> int:
    # The rows are append-only and stay; destroying the month's key ends every origin sealed in it.
    return sum([await runtime.vault.destroy(conn, owner) for owner in await _origin_keys_past(conn, period)])


# Terminated accounts, by when they were terminated.
_TERMINATED_PAST = """SELECT a.id FROM accounts a
    WHERE a.state = 'terminated'
      AND (SELECT max(c.at) FROM account_state_changes c WHERE c.account_id = a.id AND c.to_state = 'terminated')
          < now() - $1::interval"""


async def _count_terminated(conn: asyncpg.Connection, period: timedelta) -> int:
    due: int = await conn.fetchval(f"SELECT count(*) FROM ({_TERMINATED_PAST}) t", period)  # noqa: S608
    return due


async def _erase_terminated(runtime: Runtime, conn: asyncpg.Connection, period: timedelta) -> int:
    """Erase each terminated account past the period, as a cancellation erases (its transaction
    records then go under the legal hold; the identity bar keeps its own period)."""
    erased = 0
    for row in await conn.fetch(_TERMINATED_PAST + " FOR UPDATE OF a SKIP LOCKED", period):
        try:
            async with conn.transaction():
                await erase_account(runtime, conn, row["id"], AccountEvent.ERASED, "retention_ended", KEEPER)
        except Exception:
            # One account's failure does not keep the others: the next night tries it again.
            logger.warning("erasing a terminated account failed", extra={"account": str(row["id"])}, exc_info=True)
            continue
        erased += 1
    return erased


CATEGORIES: tuple[RetentionCategory, ...] = (
    _by_sql(
        Retained.SESSIONS,
        "sessions ended or expired longer ago (with their sealed address and user agent)",
        "SELECT count(*) FROM sessions WHERE coalesce(ended_at, expires_at) < now() - $1::interval",
        """WITH purged AS (DELETE FROM sessions WHERE coalesce(ended_at, expires_at) < now() - $1::interval RETURNING 1)
           SELECT count(*) FROM purged""",
    ),
    _by_sql(
        Retained.ONE_TIME_CODES,
        "one-time codes and passkey challenges expired or used longer ago, and addresses that waited for one in vain "
        "(sealed)",
        """SELECT (SELECT count(*) FROM one_time_codes WHERE expires_at < now() - $1::interval)
                + (SELECT count(*) FROM contact_additions WHERE expires_at < now() - $1::interval)
                + (SELECT count(*) FROM passkey_challenges WHERE expires_at < now() - $1::interval)""",
        """WITH purged AS (DELETE FROM one_time_codes WHERE expires_at < now() - $1::interval RETURNING 1),
                additions AS (DELETE FROM contact_additions WHERE expires_at < now() - $1::interval RETURNING 1),
                challenges AS (DELETE FROM passkey_challenges WHERE expires_at < now() - $1::interval RETURNING 1)
           SELECT (SELECT count(*) FROM purged) + (SELECT count(*) FROM additions)
                + (SELECT count(*) FROM challenges)""",
    ),
    _by_sql(
        Retained.OUTBOX_MESSAGES,
        "sent or abandoned messages (sealed recipient and content)",
        """SELECT count(*) FROM courier_messages
           WHERE status IN ('sent', 'abandoned') AND created_at < now() - $1::interval""",
        """WITH purged AS (DELETE FROM courier_messages
           WHERE status IN ('sent', 'abandoned') AND created_at < now() - $1::interval RETURNING 1)
           SELECT count(*) FROM purged""",
    ),
    _by_sql(
        Retained.SIGN_IN_THROTTLE,
        "sign-in throttling counters not touched since",
        "SELECT count(*) FROM sign_in_throttle WHERE updated_at < now() - $1::interval",
        """WITH purged AS (DELETE FROM sign_in_throttle WHERE updated_at < now() - $1::interval RETURNING 1)
           SELECT count(*) FROM purged""",
    ),
    _by_sql(
        Retained.CLOSED_CASE_EVIDENCE,
        "evidence values of cases closed longer ago (the case, its events and reasons stay)",
        # The due cases' ids first, then their evidence by primary key: joined, the planner read the whole
        # evidence table into a hash for a few hundred due cases (README, "Scale").
        """SELECT count(*) FROM review_case_evidence
           WHERE case_id = ANY(ARRAY(SELECT c.id FROM review_cases c WHERE c.closed_at < now() - $1::interval))""",
        """WITH purged AS (DELETE FROM review_case_evidence
           WHERE case_id = ANY(ARRAY(SELECT c.id FROM review_cases c WHERE c.closed_at < now() - $1::interval))
           RETURNING 1)
           SELECT count(*) FROM purged""",
    ),
    RetentionCategory(
        Retained.LEGAL_HOLD,
        "erased accounts' transaction records (verification outcomes, decisions, disclosures), kept "
        "minimized after the erasure (lifecycle.holds); counted per account",
        holds.count_ended,
        holds.purge_ended,
    ),
    _by_sql(
        Retained.GUARDIAN_INVITATIONS,
        "invitations to a guardian (the guardian's sealed e-mail or phone) accepted or expired longer ago",
        "SELECT count(*) FROM guardian_invitations WHERE coalesce(accepted_at, expires_at) < now() - $1::interval",
        """WITH purged AS (DELETE FROM guardian_invitations
           WHERE coalesce(accepted_at, expires_at) < now() - $1::interval RETURNING 1)
           SELECT count(*) FROM purged""",
    ),
    RetentionCategory(
        Retained.AUDIT_ORIGINS,
        "the audit trail's client addresses and user agents, by destroying the key of each month that "
        "ended longer ago (the entries stay); counted in month keys",
        _count_audit_origins,
        _purge_audit_origins,
    ),
    RetentionCategory(
        Retained.TERMINATED_ACCOUNTS,
        "accounts terminated longer ago, erased as a cancellation erases (their records then go under "
        "legal_hold; an identity bar keeps its own period)",
        _count_terminated,
        _erase_terminated,
    ),
)
BY_NAME = {category.name: category for category in CATEGORIES}
if set(BY_NAME) != set(Retained):
    raise ImportError("each retention category (retention_categories.py) has one count and purge here")
# Not a configurable category: a bar is kept exactly as long as it bars (IDV_TERMINATION_BAR).
PURGE_ENDED_BARS = "DELETE FROM identity_bars WHERE barred_until <= now()"


@dataclass(frozen=True)
class OwnClock:
    """Data whose period is a setting of its own and which another job ends; listed in the report
    so that every category of personal data shows its period and what is due."""

    name: str
    period: Callable[[Settings], timedelta]
    what: str
    ended_by: str
    count: Callable[[asyncpg.Connection, Settings], Awaitable[int]]


def _count_sql(sql: str) -> Callable[[asyncpg.Connection, Settings], Awaitable[int]]:
    async def count(conn: asyncpg.Connection, _: Settings) -> int:
        due: int = await conn.fetchval(sql)
        return due

    return count


async def _documents_due(conn: asyncpg.Connection, settings: Settings) -> int:
    return len(await qualifications.documents_no_longer_needed(conn, settings.case_appeal_window))


async def _minors_due(conn: asyncpg.Connection, settings: Settings) -> int:
    async with conn.transaction():  # its query locks what it finds, until this ends; nothing changes
        return len(await guardians.minors_past_window(conn, settings.guardian_consent_window))


OWN_CLOCKS: tuple[OwnClock, ...] = (
    OwnClock(
        "face_images",
        lambda settings: settings.face_image_retention,
        "face images kept after an automated decision (IDV_FACE_IMAGE_RETENTION); those kept for a review "
        "go with its decision",
        "face.erase_expired_images",
        _count_sql("SELECT count(*) FROM face_samples WHERE content IS NOT NULL AND keep_until <= now()"),
    ),
    OwnClock(
        "documents",
        lambda settings: settings.case_appeal_window,
        "qualification documents once the qualification ended, or its rejection is past the appeal "
        "window (IDV_CASE_APPEAL_WINDOW); document-review photos go with the decision",
        "qualifications.expire",
        _documents_due,
    ),
    OwnClock(
        "exports",
        lambda settings: settings.export_lifetime,
        "export archives past their download period (IDV_EXPORT_LIFETIME)",
        "lifecycle.erase_due",
        _count_sql("SELECT count(*) FROM data_exports WHERE status = 'ready' AND expires_at <= now()"),
    ),
    OwnClock(
        "guardian_window",
        lambda settings: settings.guardian_consent_window,
        "minors' accounts no guardian consented for within the window (IDV_GUARDIAN_CONSENT_WINDOW), erased",
        "guardians.daily",
        _minors_due,
    ),
    OwnClock(
        "unverified_accounts",
        lambda settings: settings.unverified_account_lifetime,
        "accounts still pending verification (no contact verified) this long, erased so their e-mail, phone "
        "and username are free again (IDV_UNVERIFIED_ACCOUNT_LIFETIME)",
        "lifecycle.erase_due",
        lambda conn, settings: accounts.count_unverified_past(conn, settings.unverified_account_lifetime),
    ),
    OwnClock(
        "identity_bars",
        lambda settings: settings.termination_bar,
        "identity bars (a blind index) once the bar ends (IDV_TERMINATION_BAR)",
        "lifecycle.retention",
        _count_sql("SELECT count(*) FROM identity_bars WHERE barred_until <= now()"),
    ),
)


@dataclass(frozen=True)
class RetentionLine:
    category: str
    period: timedelta
    what: str
    due_now: int
    ended_by: str = "lifecycle.retention"


def periods(configured: dict[str, timedelta]) -> dict[str, timedelta]:
    return {c.name: configured.get(c.name, c.default) for c in CATEGORIES}


async def report(conn: asyncpg.Connection, configured: dict[str, timedelta]) -> list[RetentionLine]:
    kept = periods(configured)
    return [RetentionLine(c.name, kept[c.name], c.what, await c.count(conn, kept[c.name])) for c in CATEGORIES]


async def own_clocks(conn: asyncpg.Connection, settings: Settings) -> list[RetentionLine]:
    return [
        RetentionLine(c.name, c.period(settings), c.what, await c.count(conn, settings), c.ended_by) for c in OWN_CLOCKS
    ]


async def purge(runtime: Runtime) -> dict[str, int]:
    kept = periods(runtime.settings.retention)
    purged: dict[str, int] = {}
    async with runtime.database.transaction() as conn:
        for category in CATEGORIES:
            purged[category.name] = await category.purge(runtime, conn, kept[category.name])
        ended: str = await conn.execute(PURGE_ENDED_BARS)
        purged["identity_bars"] = int(ended.split()[-1])
    return purged


def retention_schedule(runtime: Runtime) -> ScheduledJob:
    async def run() -> None:
        await purge(runtime)

    # Nightly, 03:40 in Asia/Shanghai (19:40 UTC).
    return ScheduledJob("lifecycle.retention", "40 19 * * *", run)
