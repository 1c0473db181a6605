"""A backup taken before an erasure, restored, then the live ledger replayed: the person is gone
from the restored database too."""

from __future__ import annotations

import subprocess
from pathlib import Path

import asyncpg
import httpx
import pytest

from service.database.embedded import find_bindir
from service.lifecycle.cancellation import erase_due
from service.lifecycle.replay import read_ledger, replay
from service.runtime import Runtime
from service.settings import Settings
from service.vault import DataKeyDestroyed
from tests.helpers import STRONG_PASSWORD
from tests.lifecycle.test_cancellation import PERSON, _found_in_clear, _verified_person


async def test_replaying_the_ledger_erases_again_what_a_restored_backup_brought_back(
    client: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    owner_database_url: str,
    empty_database_url: str,
    tmp_path: Path,
) -> None:
    account_id, me = await _verified_person(client, runtime)
    backup = tmp_path / "before.dump"
    bindir = find_bindir()
    subprocess.run([bindir / "pg_dump", "-Fc", "-d", owner_database_url, "-f", backup], check=True)

    assert (await client.post("/v1/me/cancellation", json={"password": STRONG_PASSWORD}, headers=me)).status_code == 202
    async with runtime.database.transaction() as conn:
        await conn.execute("UPDATE cancellations SET erase_after = now() - interval '1 second'")
    assert await erase_due(runtime) == 1
    async with runtime.database.connection() as conn:
        ledger = await read_ledger(conn)
    assert [(entry.account_id, entry.reason) for entry in ledger] == [(account_id, "cancelled")]

    subprocess.run([bindir / "pg_restore", "-d", empty_database_url, backup], check=True)
    async with Runtime.open(settings, empty_database_url, apply_migrations=False) as restored:
        async with restored.database.connection() as conn:
            # The backup brought the person back: their key opens their data again.
            cipher = await restored.vault.open(conn, account_id)
            sealed = await conn.fetchval("SELECT display_name FROM accounts WHERE id = $1", account_id)
            assert cipher.open_text("account.display_name", sealed) == PERSON["display_name"]
        assert await replay(restored, ledger) == 1
        assert await replay(restored, ledger) == 0
        async with restored.database.connection() as conn:
            with pytest.raises(DataKeyDestroyed):
                await restored.vault.open(conn, account_id)
            assert await conn.fetchval("SELECT state FROM accounts WHERE id = $1", account_id) == "erased"
            # The legal hold counts from the erasure, not from the replay.
            assert await conn.fetchval("SELECT erased_at FROM erasure_ledger") == ledger[0].erased_at
    check = await asyncpg.connect(empty_database_url)
    try:
        for secret in (PERSON["email"], PERSON["phone"], PERSON["display_name"], "11010519491231002X"):
            assert await _found_in_clear(check, secret) == [], secret
    finally:
        await check.close()
