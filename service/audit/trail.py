"""Appending to the audit trail.

Client addresses and user agents are personal data, and network logs must be kept for a
while (six months under the Cybersecurity Law, Art. 21), so they are sealed under a data key
per calendar month: retention ends by destroying that month's key, without touching the
append-only rows. Append entries last in a transaction; the chain head stays locked until commit.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import msgspec

from service.audit import store
from service.audit.entries import AuditEntry, canonical_json
from service.database.pool import Database
from service.vault import OwnerCipher, Vault
from service.vault.labels import VaultField

_ORIGIN_KEYS = uuid.UUID("6a1d3c55-5f0e-4b8e-9d7e-0b1f2c3d4e5f")


class Origin(msgspec.Struct, frozen=True, omit_defaults=True):
    client_address: str | None = None
    user_agent: str | None = None


def origin_key_owner(month: str) -> UUID:
    """The data-key owner id of one month's sealed origins (``YYYY-MM``)."""
    return uuid.uuid5(_ORIGIN_KEYS, month)


class AuditTrail:
    def __init__(self, database: Database, vault: Vault, dsn: str) -> None:
        self._database = database
        self._vault = vault
        self._dsn = dsn
        self._ciphers: dict[str, OwnerCipher] = {}
        self._key_lock = asyncio.Lock()

    async def prepare(self) -> None:
        """Open this month's and next month's origin keys at start-up, so requests rarely have to."""
        now = datetime.now(UTC)
        await self._origin_cipher(now.strftime("%Y-%m"))
        await self._origin_cipher((now.replace(day=1) + timedelta(days=32)).strftime("%Y-%m"))

    async def _origin_cipher(self, month: str) -> OwnerCipher:
        cipher = self._ciphers.get(month)
        if cipher is not None:
            return cipher
        async with self._key_lock:
            if (cipher := self._ciphers.get(month)) is not None:
                return cipher
            # A connection of its own, committed at once: a key made in a caller's transaction
            # that later rolls back would leave this cache sealing under a key nobody stored,
            # and waiting for a pooled connection while the caller holds one can starve the pool.
            conn = await asyncpg.connect(self._dsn)
            try:
                async with conn.transaction():
                    cipher = await self._vault.open_or_create(conn, origin_key_owner(month))
            finally:
                await conn.close()
            self._ciphers[month] = cipher
            return cipher

    async def seal_origin(self, entry: AuditEntry) -> bytes | None:
        if not entry.actor.has_origin:
            return None
        month = datetime.now(UTC).strftime("%Y-%m")
        cipher = await self._origin_cipher(month)
        origin = Origin(entry.actor.client_address, (entry.actor.user_agent or "")[:512] or None)
        # The month travels with the value, so opening never depends on whose clock said what.
        return month.encode() + cipher.seal(VaultField.AUDIT_ORIGIN, msgspec.json.encode(origin))

    async def open_origin(self, conn: asyncpg.Connection, sealed: bytes) -> Origin:
        month, body = sealed[:7].decode(), sealed[7:]
        cipher = await self._vault.open(conn, origin_key_owner(month))
        return msgspec.json.decode(cipher.open(VaultField.AUDIT_ORIGIN, body), type=Origin)

    def origin_opener(self, conn: asyncpg.Connection) -> Callable[[bytes], Awaitable[Origin]]:
        """``open_origin`` for many entries read together: each month's key is opened once. The keys are kept
        for this opener only, never across calls, so a month whose key retention destroyed stays closed."""
        ciphers: dict[str, OwnerCipher] = {}

        async def open_one(sealed: bytes) -> Origin:
            month, body = sealed[:7].decode(), sealed[7:]
            if month not in ciphers:
                ciphers[month] = await self._vault.open(conn, origin_key_owner(month))
            return msgspec.json.decode(ciphers[month].open(VaultField.AUDIT_ORIGIN, body), type=Origin)

        return open_one

    async def append(self, conn: asyncpg.Connection, entry: AuditEntry) -> None:
        """Append within the caller's transaction: the entry exists only if the change does."""
        await _insert(conn, entry, await self.seal_origin(entry))

    async def recorded(self, conn: asyncpg.Connection, action: str, target_type: str, target_id: str) -> bool:
        """Whether the trail holds any ``action`` about the target (e.g. whether an account ever signed in)."""
        return await store.any_for_target(conn, action, target_type, target_id)

    async def append_alone(self, entry: AuditEntry) -> None:
        """Append in a transaction of its own (e.g. a failed sign-in, where nothing else commits)."""
        origin = await self.seal_origin(entry)
        async with self._database.transaction() as conn:
            await _insert(conn, entry, origin)


async def _insert(conn: asyncpg.Connection, entry: AuditEntry, origin: bytes | None) -> None:
    await store.insert(
        conn,
        actor_type=entry.actor.kind.value,
        actor_id=entry.actor.id,
        action=entry.action,
        target_type=entry.target_type,
        target_id=entry.target_id,
        origin=origin,
        before_hash=entry.before_hash,
        after_hash=entry.after_hash,
        details=canonical_json(entry.details),
    )
