"""Re-applying erasures to a database restored from a backup taken before them.

Backups are kept apart and cannot be edited; what makes them safe to restore is this: after a
restore, every entry of the live erasure ledger is applied again, so nobody erased comes back.
An account the restored database does not know, or already erased, is skipped.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple
from uuid import UUID

import asyncpg

from service.accounts import store as accounts
from service.accounts.states import AccountEvent, AccountState
from service.audit import Actor
from service.lifecycle.erasure import erase_account
from service.runtime import Runtime

REPLAYER = Actor.system("lifecycle.erasure_replay")


class LedgerEntry(NamedTuple):
    account_id: UUID
    reason: str
    erased_at: datetime


async def read_ledger(conn: asyncpg.Connection) -> list[LedgerEntry]:
    rows = await conn.fetch("SELECT account_id, reason, erased_at FROM erasure_ledger ORDER BY id")
    return [LedgerEntry(row["account_id"], row["reason"], row["erased_at"]) for row in rows]


async def replay(runtime: Runtime, entries: list[LedgerEntry]) -> int:
    applied = 0
    for account_id, reason, erased_at in entries:
        async with runtime.database.transaction() as conn:
            state = await accounts.lock_state(conn, account_id)
            if state is None or state is AccountState.ERASED:
                continue
            await erase_account(runtime, conn, account_id, AccountEvent.ERASURE_REPLAYED, reason, REPLAYER, erased_at)
        applied += 1
    return applied
