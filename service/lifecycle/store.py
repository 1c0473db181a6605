"""SQL for cancellations."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import NamedTuple
from uuid import UUID

import asyncpg

from service.accounts.states import AccountState


async def insert(conn: asyncpg.Connection, cancellation_id: UUID, account_id: UUID, erase_after: datetime) -> None:
    await conn.execute(
        "INSERT INTO cancellations (id, account_id, erase_after) VALUES ($1, $2, $3)",
        cancellation_id,
        account_id,
        erase_after,
    )


async def withdraw(conn: asyncpg.Connection, account_id: UUID) -> bool:
    result = await conn.fetchval(
        """UPDATE cancellations SET withdrawn_at = now()
           WHERE account_id = $1 AND withdrawn_at IS NULL AND outcome IS NULL RETURNING 1""",
        account_id,
    )
    return result is not None


class DueCancellation(NamedTuple):
    id: UUID
    account_id: UUID
    state: AccountState


# Open cancellations past their cooling-off, longest due first, whose account is (or is not) in
# the states $1; leaving out the ids $2 and rows another worker holds.
_DUE = """SELECT c.id, c.account_id, a.state FROM cancellations c JOIN accounts a ON a.id = c.account_id
    WHERE c.withdrawn_at IS NULL AND c.outcome IS NULL AND c.erase_after <= now()
      AND {states} AND c.id <> ALL($2::uuid[])
    ORDER BY c.erase_after LIMIT 1 FOR UPDATE OF c SKIP LOCKED"""
_LOCK_DUE_IN = _DUE.format(states="a.state = ANY($1::text[])")
_LOCK_DUE_NOT_IN = _DUE.format(states="NOT (a.state = ANY($1::text[]))")


async def lock_next_due(
    conn: asyncpg.Connection, states: Collection[AccountState], *, in_states: bool, passed_over: Collection[UUID] = ()
) -> DueCancellation | None:
    row = await conn.fetchrow(
        _LOCK_DUE_IN if in_states else _LOCK_DUE_NOT_IN, [state.value for state in states], list(passed_over)
    )
    return None if row is None else DueCancellation(row["id"], row["account_id"], AccountState(row["state"]))


async def mark_erased(conn: asyncpg.Connection, cancellation_id: UUID) -> None:
    await conn.execute("UPDATE cancellations SET erased_at = now(), outcome = 'erased' WHERE id = $1", cancellation_id)


async def settle_without_erasure(conn: asyncpg.Connection, cancellation_id: UUID, outcome: str, reason: str) -> None:
    """``already_erased`` or ``set_aside``: either way the job does not pick it again."""
    await conn.execute(
        "UPDATE cancellations SET outcome = $2, outcome_reason = $3 WHERE id = $1", cancellation_id, outcome, reason
    )


async def record_failure(conn: asyncpg.Connection, cancellation_id: UUID, error: str) -> None:
    await conn.execute(
        "UPDATE cancellations SET failed_attempts = failed_attempts + 1, last_error = $2 WHERE id = $1",
        cancellation_id,
        error,
    )


async def stuck_by_reason(conn: asyncpg.Connection, reasons: list[str]) -> list[tuple[str, int]]:
    """Per reason (every one named, so a gauge falls back to zero): cancellations set aside, and
    open ones whose last attempt failed (``error``)."""
    rows = await conn.fetch(
        """WITH stuck AS (
               SELECT outcome_reason AS reason FROM cancellations WHERE outcome = 'set_aside'
               UNION ALL
               SELECT 'error' FROM cancellations
               WHERE withdrawn_at IS NULL AND outcome IS NULL AND last_error IS NOT NULL
           )
           SELECT r.reason, count(s.reason) AS stuck FROM unnest($1::text[]) AS r (reason)
           LEFT JOIN stuck s ON s.reason = r.reason GROUP BY r.reason""",
        reasons,
    )
    return [(row["reason"], row["stuck"]) for row in rows]


async def latest_erase_after(conn: asyncpg.Connection, account_id: UUID) -> datetime | None:
    """When the latest cancellation was to erase the account, even if kept since."""
    value: datetime | None = await conn.fetchval(
        "SELECT erase_after FROM cancellations WHERE account_id = $1 ORDER BY requested_at DESC LIMIT 1", account_id
    )
    return value


async def open_erase_after(conn: asyncpg.Connection, account_id: UUID) -> datetime | None:
    value: datetime | None = await conn.fetchval(
        """SELECT erase_after FROM cancellations
           WHERE account_id = $1 AND withdrawn_at IS NULL AND outcome IS NULL""",
        account_id,
    )
    return value
