"""Master-key rotation on a schedule: re-wrap in bounded batches, and say when a key may go.

Master keys live in the secret store, so adding and removing one is the operator's act (README,
"Rotating keys"); idv records when each key id became active and when the last live data key left
it (``master_keys``), re-wraps data keys still under older keys every hour, and reports per key how
many data keys it wraps and whether it may be retired: it wraps none, and backups taken while it
still did have passed ``IDV_BACKUP_RETENTION``, so no kept backup holds a data key it opens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from service.database.pool import Database
from service.observability import metrics
from service.settings import Settings
from service.vault import reindex, store
from service.vault.vault import Vault

# Keys re-wrapped per scheduled run at most (each batch its own transaction); the rest next hour.
REWRAP_BATCHES_PER_RUN = 20


@dataclass(frozen=True)
class MasterKeyStatus:
    key_id: str
    active: bool
    in_ring: bool
    data_keys: int
    active_since: datetime | None
    emptied_at: datetime | None
    # When it may leave IDV_MASTER_KEYS (None while it wraps data keys or is the active key).
    retire_after: datetime | None

    def retirable(self, now: datetime) -> bool:
        return self.retire_after is not None and now >= self.retire_after


async def record(conn: asyncpg.Connection, vault: Vault) -> dict[str, int]:
    in_use = await store.count_by_master_key(conn)
    await store.record_master_keys(conn, vault.keyring.active_key_id, vault.keyring.key_ids, in_use)
    return in_use


async def status(conn: asyncpg.Connection, vault: Vault, backup_retention: timedelta) -> list[MasterKeyStatus]:
    in_use = await store.count_by_master_key(conn)
    rows = {row.key_id: row for row in await store.master_keys(conn)}
    ring = vault.keyring.key_ids
    result = []
    for key_id in sorted(set(ring) | set(rows) | set(in_use)):
        row = rows.get(key_id)
        active = key_id == vault.keyring.active_key_id
        emptied_at = None if row is None or active or in_use.get(key_id) else row.emptied_at
        result.append(
            MasterKeyStatus(
                key_id=key_id,
                active=active,
                in_ring=key_id in ring,
                data_keys=in_use.get(key_id, 0),
                active_since=None if row is None else row.active_since,
                emptied_at=emptied_at,
                retire_after=None if emptied_at is None else emptied_at + backup_retention,
            )
        )
    return result


def active_key_age(keys: list[MasterKeyStatus], now: datetime) -> timedelta | None:
    for key in keys:
        if key.active and key.active_since is not None:
            return now - key.active_since
    return None


async def rotate(database: Database, vault: Vault, batches: int = REWRAP_BATCHES_PER_RUN) -> int:
    """The scheduled step: note the ring, re-wrap up to ``batches`` batches (the code of `idv vault
    rewrap`), note again, so a key emptied by this run starts its wait for the backups now."""
    async with database.transaction() as conn:
        await record(conn, vault)
    moved = 0
    for _ in range(batches):
        async with database.transaction() as conn:
            count = await vault.rewrap(conn)
        moved += count
        if not count:
            break
    async with database.transaction() as conn:
        await record(conn, vault)
    return moved


async def publish_metrics(conn: asyncpg.Connection, vault: Vault, settings: Settings, now: datetime) -> None:
    """Counted at scrape time from the database every replica shares."""
    keys = await status(conn, vault, settings.backup_retention)
    for key in keys:
        metrics.MASTER_KEY_DATA_KEYS.labels(key.key_id).set(key.data_keys)
        metrics.MASTER_KEY_RETIRABLE.labels(key.key_id).set(1 if key.retirable(now) else 0)
    blind = await reindex.status(conn, vault.blind_index)
    if blind.rotating:
        metrics.BLIND_INDEX_REINDEXED.set(1 if blind.done else 0)
    age = active_key_age(keys, now)
    if age is not None:
        metrics.MASTER_KEY_ACTIVE_AGE.set(age.total_seconds())
        metrics.MASTER_KEY_ROTATION_DUE.set(1 if age > settings.master_key_max_age else 0)
