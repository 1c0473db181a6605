"""When an account is erased, the guardianships it was part of end; a minor left without any
guardian is suspended rather than left without one silently."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from service.accounts.suspension import suspend
from service.audit import Actor


async def end_guardianships_of(conn: asyncpg.Connection, account_id: UUID, actor: Actor) -> list[UUID]:
    """End every live guardianship the account is in; returns the minors suspended as a result."""
    rows = await conn.fetch(
        """UPDATE guardianships SET state = 'ended', end_reason = 'account_erased', ended_at = now()
           WHERE (guardian_account_id = $1 OR minor_account_id = $1) AND state IN ('active', 'pending_review')
           RETURNING minor_account_id""",
        account_id,
    )
    await conn.execute("DELETE FROM guardian_invitations WHERE minor_account_id = $1", account_id)
    suspended = []
    for minor_id in {row["minor_account_id"] for row in rows} - {account_id}:
        left = await conn.fetchval(
            "SELECT count(*) FROM guardianships WHERE minor_account_id = $1 AND state IN ('active', 'pending_review')",
            minor_id,
        )
        if not left and await suspend(conn, minor_id, "guardian_account_erased", actor, None):
            suspended.append(minor_id)
    return suspended
