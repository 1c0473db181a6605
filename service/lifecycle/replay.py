"""Re-applying erasures to a database restored from a backup taken before them.

Backups are kept apart and cannot be edited; what makes them safe to restore is this: after a
restore, every entry of the live erasure ledger is applied again, so nobody erased comes back,
and no part of anyone that was erased either: whole accounts, and the partial erasures (face data
erased when the biometric consent was withdrawn, documents after a decision, images after review,
export archives past their download period). An account the restored database does not know, or
already erased, is skipped; so is an item already erased. What a replay redoes is ledgered again
in the restored database with the original time (``idv.replayed_erased_at``), and recipient
notices keep their original ids and bodies (lifecycle.erasure), so a recipient sees a duplicate,
never a second erasure.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple
from uuid import UUID

import asyncpg

from service.accounts import store as accounts
from service.accounts.states import AccountEvent, AccountState
from service.audit import Actor
from service.consents import store as consents
from service.consents.effects import apply_withdrawal_effects
from service.consents.purposes import ConsentPurpose
from service.face.keys import biometric_key_owner
from service.lifecycle import ledger
from service.lifecycle.erasure import erase_account
from service.lifecycle.ledger import Category
from service.runtime import Runtime

REPLAYER = Actor.system("lifecycle.erasure_replay")

# Re-applying a partial erasure: statements taking the entry's items as $1.
REDO: dict[Category, str] = {
    Category.DOCUMENTS: """UPDATE documents SET content = NULL, deleted_at = erasure_time()
        WHERE id = ANY($1::uuid[]) AND content IS NOT NULL""",
    Category.FACE_IMAGES: """UPDATE face_samples SET content = NULL, deleted_at = erasure_time()
        WHERE verification_id = ANY($1::uuid[]) AND content IS NOT NULL""",
    Category.FACE_TEMPLATES: """UPDATE face_verifications
        SET template = NULL, status = CASE WHEN status = 'verified' THEN 'withdrawn' ELSE status END
        WHERE id = ANY($1::uuid[]) AND template IS NOT NULL""",
    Category.EXPORTS: """UPDATE data_exports SET status = 'expired', archive = NULL
        WHERE id = ANY($1::uuid[]) AND archive IS NOT NULL""",
}


class LedgerEntry(NamedTuple):
    account_id: UUID
    reason: str
    erased_at: datetime
    category: Category = Category.ACCOUNT
    items: tuple[UUID, ...] = ()


async def read_ledger(conn: asyncpg.Connection) -> list[LedgerEntry]:
    rows = await conn.fetch("SELECT account_id, reason, erased_at, category, items FROM erasure_ledger ORDER BY id")
    return [
        LedgerEntry(row["account_id"], row["reason"], row["erased_at"], Category(row["category"]), tuple(row["items"]))
        for row in rows
    ]


async def replay(runtime: Runtime, entries: list[LedgerEntry]) -> int:
    """Apply the entries in order; how many changed something."""
    applied = 0
    for entry in entries:
        async with runtime.database.transaction() as conn:
            # Content the triggers ledger again is ledgered at the original time.
            await conn.execute("SELECT set_config('idv.replayed_erased_at', $1, true)", entry.erased_at.isoformat())
            applied += await _apply(runtime, conn, entry)
    return applied


async def _apply(runtime: Runtime, conn: asyncpg.Connection, entry: LedgerEntry) -> bool:
    if entry.category is Category.ACCOUNT:
        state = await accounts.lock_state(conn, entry.account_id)
        if state is None or state is AccountState.ERASED:
            return False
        await erase_account(
            runtime, conn, entry.account_id, AccountEvent.ERASURE_REPLAYED, entry.reason, REPLAYER, entry.erased_at
        )
        return True
    if entry.category is Category.CONSENT:
        # Withdrawn again in the restored database, with the effects a withdrawal has (open cases
        # relying on it ended, its data erased by the job it queues), and no second notice.
        withdrawn = await consents.withdraw_granted(conn, entry.account_id, [entry.reason], entry.account_id, "replay")
        for purpose in withdrawn:
            await apply_withdrawal_effects(conn, entry.account_id, ConsentPurpose(purpose), notify_recipients=False)
        return bool(withdrawn)
    if entry.category is Category.BIOMETRIC_KEYS:
        destroyed = [v for v in entry.items if await runtime.vault.destroy(conn, biometric_key_owner(v))]
        if destroyed:
            await ledger.record(conn, entry.account_id, entry.category, entry.reason, destroyed, entry.erased_at)
        return bool(destroyed)
    result: str = await conn.execute(REDO[entry.category], list(entry.items))
    return int(result.split()[-1]) > 0
