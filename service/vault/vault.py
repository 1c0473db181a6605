"""The vault: creates, opens, destroys and re-wraps per-owner data keys.

Crypto-shredding: every personal value is sealed under its owner's data key, so destroying
that one key makes all of the owner's values unreadable wherever copies of the ciphertext
live. Backups hold the wrapped key too, until the master key that wrapped it is retired:
``rewrap`` moves live keys to the active master key, after which the old master key can be
removed from IDV_MASTER_KEYS and every backup taken before the rotation stops opening.
"""

from __future__ import annotations

import os
from uuid import UUID

import asyncpg

from service.vault import store
from service.vault.blind_index import BlindIndex
from service.vault.cipher import OwnerCipher
from service.vault.keyring import MasterKeyRing, UnknownMasterKey


class VaultError(RuntimeError):
    pass


class DataKeyDestroyed(VaultError):
    """The owner's data key was destroyed (or never existed): their values cannot be read."""


class Vault:
    def __init__(self, keyring: MasterKeyRing, blind_index: BlindIndex) -> None:
        self.keyring = keyring
        self.blind_index = blind_index

    async def create_key(self, conn: asyncpg.Connection, owner_id: UUID) -> OwnerCipher:
        data_key = os.urandom(32)
        key_id, wrapped = self.keyring.wrap(owner_id, data_key)
        await store.insert(conn, owner_id, key_id, wrapped)
        return OwnerCipher(owner_id, data_key)

    async def open_or_create(self, conn: asyncpg.Connection, owner_id: UUID) -> OwnerCipher:
        """The owner's key, made on first use; concurrent first uses agree on one key."""
        data_key = os.urandom(32)
        key_id, wrapped = self.keyring.wrap(owner_id, data_key)
        await store.insert_if_missing(conn, owner_id, key_id, wrapped)
        return await self.open(conn, owner_id)

    def open_wrapped(self, owner_id: UUID, master_key_id: str | None, wrapped: bytes | None) -> OwnerCipher:
        """Open a key fetched alongside other columns (saves a round trip on hot paths)."""
        if master_key_id is None or wrapped is None:
            raise DataKeyDestroyed(str(owner_id))
        try:
            return OwnerCipher(owner_id, self.keyring.unwrap(owner_id, master_key_id, wrapped))
        except UnknownMasterKey as exc:
            raise VaultError(f"data key of {owner_id} is wrapped by retired master key {exc}") from None

    async def open(self, conn: asyncpg.Connection, owner_id: UUID) -> OwnerCipher:
        row = await store.fetch(conn, owner_id)
        if row is None:
            raise DataKeyDestroyed(str(owner_id))
        return self.open_wrapped(owner_id, row.master_key_id, row.wrapped_key)

    async def destroy(self, conn: asyncpg.Connection, owner_id: UUID) -> bool:
        """Shred the owner's data key. Returns False when it was already destroyed."""
        return await store.destroy(conn, owner_id)

    async def rewrap(self, conn: asyncpg.Connection, batch_size: int = 500) -> int:
        """Re-wrap one batch of live data keys under the active master key; 0 when done."""
        rows = await store.wrapped_by_other_keys(conn, self.keyring.active_key_id, self.keyring.key_ids, batch_size)
        for row in rows:
            owner_id = row.owner_id
            data_key = self.keyring.unwrap(owner_id, row.master_key_id, row.wrapped_key)
            key_id, wrapped = self.keyring.wrap(owner_id, data_key)
            await store.replace_wrapping(conn, owner_id, key_id, wrapped)
        return len(rows)
