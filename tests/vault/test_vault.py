"""The vault: sealed values, master-key rotation, crypto-shredding, blind indexes."""

from __future__ import annotations

import subprocess
import uuid

import asyncpg
import pytest

from service.database.embedded import EmbeddedPostgres, find_bindir
from service.settings import MasterKey
from service.vault import BlindIndex, DataKeyDestroyed, MasterKeyRing, Vault
from service.vault.cipher import CiphertextInvalid

KEY_1 = MasterKey("k1", bytes(range(32)))
KEY_2 = MasterKey("k2", bytes(range(100, 132)))
INDEX = BlindIndex(bytes(32))


def vault(*keys: MasterKey, active: str) -> Vault:
    return Vault(MasterKeyRing(keys, active), INDEX)


async def test_sealed_values_open_only_for_their_owner_and_field(db: asyncpg.Connection) -> None:
    v = vault(KEY_1, active="k1")
    alice, bob = uuid.uuid4(), uuid.uuid4()
    alice_cipher = await v.create_key(db, alice)
    bob_cipher = await v.create_key(db, bob)
    sealed = alice_cipher.seal_text("email", "alice@example.com")

    assert b"alice" not in sealed
    assert (await v.open(db, alice)).open_text("email", sealed) == "alice@example.com"
    with pytest.raises(CiphertextInvalid):
        alice_cipher.open("phone", sealed)  # moved to another column
    with pytest.raises(CiphertextInvalid):
        bob_cipher.open("email", sealed)  # moved to another owner
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(CiphertextInvalid):
        alice_cipher.open("email", tampered)


async def test_rotation_keeps_old_keys_readable_and_wraps_new_keys_with_the_new_master(
    db: asyncpg.Connection,
) -> None:
    before = vault(KEY_1, active="k1")
    old_owner = uuid.uuid4()
    sealed = (await before.create_key(db, old_owner)).seal_text("name", "Zhang San")

    after = vault(KEY_1, KEY_2, active="k2")
    assert (await after.open(db, old_owner)).open_text("name", sealed) == "Zhang San"
    new_owner = uuid.uuid4()
    await after.create_key(db, new_owner)
    wrapped_by = dict(
        await db.fetch(
            "SELECT owner_id, master_key_id FROM data_keys WHERE owner_id = ANY($1::uuid[])", [old_owner, new_owner]
        )
    )
    assert wrapped_by == {old_owner: "k1", new_owner: "k2"}

    assert await after.rewrap(db) == 1
    assert await after.rewrap(db) == 0
    only_new = vault(KEY_2, active="k2")
    assert (await only_new.open(db, old_owner)).open_text("name", sealed) == "Zhang San"


async def test_destroyed_key_makes_every_value_unreadable(db: asyncpg.Connection) -> None:
    v = vault(KEY_1, active="k1")
    owner = uuid.uuid4()
    cipher = await v.create_key(db, owner)
    values = [cipher.seal_text(field, "secret") for field in ("email", "phone", "id_number")]

    assert await v.destroy(db, owner)
    assert not await v.destroy(db, owner)
    with pytest.raises(DataKeyDestroyed):
        await v.open(db, owner)
    row = await db.fetchrow("SELECT master_key_id, wrapped_key, destroyed_at FROM data_keys WHERE owner_id = $1", owner)
    assert row is not None
    assert row["wrapped_key"] is None and row["master_key_id"] is None and row["destroyed_at"]
    assert len(values) == 3  # the ciphertexts remain, and nothing left can open them


async def _restore(server: EmbeddedPostgres, dump: bytes, name: str) -> str:
    admin = await asyncpg.connect(server.dsn())
    await admin.execute(f"CREATE DATABASE {name}")
    await admin.close()
    subprocess.run(
        [str(find_bindir() / "pg_restore"), "--no-owner", "-d", server.dsn(name)],
        input=dump,
        check=True,
        capture_output=True,
    )
    return server.dsn(name)


async def test_a_backup_from_before_shredding_stops_opening_once_its_master_key_is_retired(
    postgres_server: EmbeddedPostgres, database_url: str, db: asyncpg.Connection, owner_db: asyncpg.Connection
) -> None:
    v1 = vault(KEY_1, active="k1")
    erased, kept = uuid.uuid4(), uuid.uuid4()
    await owner_db.execute("CREATE TABLE people (owner_id uuid, email bytea)")
    for owner in (erased, kept):
        cipher = await v1.create_key(db, owner)
        await db.execute("INSERT INTO people VALUES ($1, $2)", owner, cipher.seal_text("email", f"{owner}@x"))

    backup = subprocess.run(
        [str(find_bindir() / "pg_dump"), "-Fc", database_url], check=True, capture_output=True
    ).stdout

    # Erase one account, rotate the master key, re-wrap the live keys, retire the old master.
    await v1.destroy(db, erased)
    v2 = vault(KEY_1, KEY_2, active="k2")
    while await v2.rewrap(db):
        pass
    current = vault(KEY_2, active="k2")
    email = await db.fetchval("SELECT email FROM people WHERE owner_id = $1", kept)
    assert (await current.open(db, kept)).open_text("email", email) == f"{kept}@x"

    restored = await asyncpg.connect(await _restore(postgres_server, backup, "restored_backup"))
    try:
        for owner in (erased, kept):
            with pytest.raises(Exception, match="retired master key"):
                await current.open(restored, owner)
    finally:
        await restored.close()
        admin = await asyncpg.connect(postgres_server.dsn())
        await admin.execute("DROP DATABASE restored_backup WITH (FORCE)")
        await admin.close()


async def test_blind_index_finds_rows_without_plaintext(owner_db: asyncpg.Connection) -> None:
    db = owner_db
    await db.execute("CREATE TEMP TABLE lookups (digest bytea PRIMARY KEY, owner int)")
    for owner, email in enumerate(["a@example.com", "b@example.com"]):
        await db.execute("INSERT INTO lookups VALUES ($1, $2)", INDEX.digest("email", email), owner)
    found = await db.fetchval("SELECT owner FROM lookups WHERE digest = $1", INDEX.digest("email", "b@example.com"))
    assert found == 1
    assert INDEX.digest("email", "a@example.com") != INDEX.digest("username", "a@example.com")
    assert INDEX.digest("email", "a@example.com") != BlindIndex(bytes([1] * 32)).digest("email", "a@example.com")
    assert INDEX.matches("email", "a@example.com", INDEX.digest("email", "a@example.com"))
