"""SQL for the keys that sign session tokens (session_signing_keys)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec


class SigningKey(msgspec.Struct, frozen=True):
    id: UUID
    kid: str
    public_key: bytes
    created_at: datetime
    signs_from: datetime
    retired_at: datetime | None


class SealedPrivateKey(msgspec.Struct, frozen=True):
    """The key that signs now, with what opens its private key (fetched in one round trip)."""

    id: UUID
    kid: str
    private_key: bytes
    master_key_id: str | None
    wrapped_key: bytes | None


_COLUMNS = "id, kid, public_key, created_at, signs_from, retired_at"


async def lock_for_rotation(conn: asyncpg.Connection) -> None:
    """Held until the transaction ends: replicas rotating at once take turns, and the second finds
    the first one's key."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('idv.tokens.rotate_signing_keys', 0))")


async def live(conn: asyncpg.Connection) -> list[SigningKey]:
    """Every key not retired (published in the key set), oldest signer first."""
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM session_signing_keys
            WHERE retired_at IS NULL ORDER BY signs_from, created_at"""  # noqa: S608
    )
    return [SigningKey(**dict(row)) for row in rows]


async def insert(
    conn: asyncpg.Connection,
    key: SigningKey,
    sealed_private_key: bytes,
) -> None:
    await conn.execute(
        """INSERT INTO session_signing_keys (id, kid, public_key, private_key, created_at, signs_from)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        key.id,
        key.kid,
        key.public_key,
        sealed_private_key,
        key.created_at,
        key.signs_from,
    )


async def retire(conn: asyncpg.Connection, key_id: UUID, at: datetime) -> bool:
    """Clear the private key and mark the key retired; False when it already was."""
    status: str = await conn.execute(
        """UPDATE session_signing_keys SET retired_at = $2, private_key = NULL
           WHERE id = $1 AND retired_at IS NULL""",
        key_id,
        at,
    )
    return status == "UPDATE 1"


async def signing_at(conn: asyncpg.Connection, at: datetime) -> SealedPrivateKey | None:
    """The key that signs at ``at``: the latest whose signing began by then."""
    row = await conn.fetchrow(
        """SELECT s.id, s.kid, s.private_key, k.master_key_id, k.wrapped_key
           FROM session_signing_keys s LEFT JOIN data_keys k ON k.owner_id = s.id
           WHERE s.retired_at IS NULL AND s.signs_from <= $1
           ORDER BY s.signs_from DESC, s.created_at DESC LIMIT 1""",
        at,
    )
    return None if row is None else SealedPrivateKey(**dict(row))
