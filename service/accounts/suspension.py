"""Suspending an account for false information or abuse, and reinstating it.

Suspension ends every session at once (ASVS 7.4.2) and tells the person why and how to appeal.
The person may still sign in, but their session reaches only what a suspended account may do:
see the reason, appeal, and exercise their data rights (sessions.auth). A suspension names the
case that caused it; overturning that case on appeal reinstates the account.

These functions take only a connection, so the case outcome table can call them inside the
decision's transaction; the notice is a job, delivered after the commit (accounts.transitions).
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from service.accounts import store
from service.accounts.reasons import SUSPENSION_REASONS
from service.accounts.states import AccountEvent, AccountState, states_allowing
from service.accounts.transitions import move, way_back
from service.audit import Actor
from service.sessions import store as sessions

# States a suspension may start from (terminated and erased accounts are past it).
SUSPENDABLE = states_allowing(AccountEvent.SUSPENDED)


async def suspend(
    conn: asyncpg.Connection, account_id: UUID, reason_code: str, actor: Actor, case_id: UUID | None
) -> bool:
    """Suspend the account in the caller's transaction. False when it was already suspended or
    cannot be (terminated)."""
    if reason_code not in SUSPENSION_REASONS:
        raise ValueError(f"unknown suspension reason {reason_code!r}")
    if await store.lock_state(conn, account_id) not in SUSPENDABLE:
        return False
    await move(conn, account_id, AccountEvent.SUSPENDED, actor=actor.label, reason_code=reason_code, case_id=case_id)
    await sessions.end_all_for_account(conn, account_id, "account_suspended")
    return True


async def reinstate_if_caused_by(conn: asyncpg.Connection, account_id: UUID, case_id: UUID, actor: Actor) -> bool:
    """Reinstate the account (to where it was before) if its current suspension came from this case."""
    if await store.lock_state(conn, account_id) is not AccountState.SUSPENDED:
        return False
    suspension = await store.latest_change_into(conn, account_id, AccountState.SUSPENDED)
    if suspension is None or suspension.case_id != case_id:
        return False
    event = await way_back(conn, account_id, AccountState.SUSPENDED)
    await move(conn, account_id, event, actor=actor.label, reason_code="overturned_on_appeal", case_id=case_id)
    return True
