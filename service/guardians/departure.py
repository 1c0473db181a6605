"""When an account is erased, the guardianships it was part of end; a minor left without any
guardian is suspended rather than left without one silently."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from service.accounts.suspension import suspend
from service.audit import Actor
from service.guardians import store


async def end_guardianships_of(conn: asyncpg.Connection, account_id: UUID, actor: Actor) -> list[UUID]:
    """End every live guardianship the account is in; returns the minors suspended as a result."""
    minors = await store.end_live_involving(conn, account_id, "account_erased")
    await store.delete_invitations_of_minor(conn, account_id)
    suspended = []
    for minor_id in set(minors) - {account_id}:
        left = await store.live_guardians(conn, minor_id)
        if not left and await suspend(conn, minor_id, "guardian_account_erased", actor, None):
            suspended.append(minor_id)
    return suspended
