"""Master-key rotation on a schedule: re-wrapped in batches, and told when an old key may go."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
from prometheus_client import REGISTRY

from service.runtime import Runtime
from service.settings import MasterKey
from service.vault import BlindIndex, MasterKeyRing, Vault, rotation

KEY_1 = MasterKey("2026-09", bytes(range(32)))
KEY_2 = MasterKey("2026-12", bytes(range(100, 132)))
RETENTION = timedelta(days=30)


def vault(*keys: MasterKey, active: str) -> Vault:
    return Vault(MasterKeyRing(keys, active), BlindIndex(bytes(32)))


def by_id(keys: list[rotation.MasterKeyStatus]) -> dict[str, rotation.MasterKeyStatus]:
    return {key.key_id: key for key in keys}


async def test_the_schedule_rewraps_old_keys_and_the_old_master_may_go_once_backups_have_expired(
    runtime: Runtime, db: asyncpg.Connection
) -> None:
    before = vault(KEY_1, active=KEY_1.key_id)
    owners = [uuid.uuid4() for _ in range(3)]
    sealed = {owner: (await before.create_key(db, owner)).seal_text("name", "Li Si") for owner in owners}
    async with runtime.database.transaction() as conn:
        await rotation.record(conn, before)

    after = vault(KEY_1, KEY_2, active=KEY_2.key_id)
    keys = by_id(await rotation.status(db, after, RETENTION))
    assert keys[KEY_1.key_id].data_keys == 3 and keys[KEY_1.key_id].retire_after is None

    assert await rotation.rotate(runtime.database, after) == 3
    assert await rotation.rotate(runtime.database, after) == 0

    now = datetime.now(UTC)
    keys = by_id(await rotation.status(db, after, RETENTION))
    old, new = keys[KEY_1.key_id], keys[KEY_2.key_id]
    assert old.data_keys == 0 and old.emptied_at is not None and not old.active
    assert old.retire_after == old.emptied_at + RETENTION
    assert not old.retirable(now)  # a backup from this morning still holds keys it opens
    assert old.retirable(now + RETENTION + timedelta(minutes=1))
    assert new.active and new.data_keys == 3 and new.retire_after is None and new.active_since is not None

    only_new = vault(KEY_2, active=KEY_2.key_id)
    for owner in owners:
        assert (await only_new.open(db, owner)).open_text("name", sealed[owner]) == "Li Si"


async def test_a_key_made_active_again_is_no_longer_counted_as_emptied(
    runtime: Runtime, db: asyncpg.Connection
) -> None:
    await vault(KEY_1, active=KEY_1.key_id).create_key(db, uuid.uuid4())
    await rotation.rotate(runtime.database, vault(KEY_1, KEY_2, active=KEY_2.key_id))
    back = vault(KEY_1, KEY_2, active=KEY_1.key_id)
    await rotation.rotate(runtime.database, back)
    keys = by_id(await rotation.status(db, back, RETENTION))
    assert keys[KEY_1.key_id].retire_after is None and keys[KEY_1.key_id].data_keys == 1
    assert keys[KEY_2.key_id].data_keys == 0 and keys[KEY_2.key_id].retire_after is not None


async def test_metrics_say_when_the_active_key_is_past_its_age_and_which_keys_may_go(
    runtime: Runtime, db: asyncpg.Connection
) -> None:
    current = vault(KEY_1, KEY_2, active=KEY_2.key_id)
    await current.create_key(db, uuid.uuid4())
    await rotation.rotate(runtime.database, current)
    await db.execute("UPDATE master_keys SET active_since = now() - interval '100 days' WHERE key_id = $1", "2026-12")
    await db.execute("UPDATE master_keys SET emptied_at = now() - interval '31 days' WHERE key_id = $1", "2026-09")

    await rotation.publish_metrics(db, current, runtime.settings, datetime.now(UTC))

    assert REGISTRY.get_sample_value("idv_master_key_rotation_due") == 1
    assert (REGISTRY.get_sample_value("idv_master_key_active_age_seconds") or 0) > 99 * 86400
    assert REGISTRY.get_sample_value("idv_master_key_retirable", {"key_id": "2026-09"}) == 1
    assert REGISTRY.get_sample_value("idv_master_key_retirable", {"key_id": "2026-12"}) == 0
    assert REGISTRY.get_sample_value("idv_master_key_data_keys", {"key_id": "2026-12"}) == 1
