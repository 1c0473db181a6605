"""SQL for TOTP credentials and recovery codes."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec


class TotpCredential(msgspec.Struct, frozen=True):
    secret: bytes  # sealed under the account's data key
    confirmed_at: datetime | None
    last_used_step: int | None


async def fetch(conn: asyncpg.Connection, account_id: UUID) -> TotpCredential | None:
    row = await conn.fetchrow(
        "SELECT secret, confirmed_at, last_used_step FROM totp_credentials WHERE account_id = $1",
        account_id,
    )
    return None if row is None else TotpCredential(row["secret"], row["confirmed_at"], row["last_used_step"])


async def put_pending(conn: asyncpg.Connection, account_id: UUID, secret: bytes) -> bool:
    """Store a new unconfirmed secret; refuses (False) when TOTP is already confirmed."""
    result = await conn.fetchval(
        """INSERT INTO totp_credentials (account_id, secret) VALUES ($1, $2)
           ON CONFLICT (account_id) DO UPDATE SET secret = excluded.secret, created_at = now(),
                  last_used_step = NULL
           WHERE totp_credentials.confirmed_at IS NULL
           RETURNING 1""",
        account_id,
        secret,
    )
    return result is not None


async def claim_step(conn: asyncpg.Connection, account_id: UUID, secret: bytes, step: int, *, confirming: bool) -> bool:
    """Record that the code of ``step`` was used; False if that step (or a later one) already was.
    This is what makes a code single-use within its time step."""
    confirmed_clause = "confirmed_at IS NULL" if confirming else "confirmed_at IS NOT NULL"
    result = await conn.fetchval(
        f"""UPDATE totp_credentials
            SET last_used_step = $2,
                confirmed_at = CASE WHEN $3 THEN now() ELSE confirmed_at END
            WHERE account_id = $1 AND secret = $4 AND {confirmed_clause}
              AND (last_used_step IS NULL OR last_used_step < $2)
            RETURNING 1""",  # noqa: S608 - the clause is one of two constants
        account_id,
        step,
        confirming,
        secret,
    )
    return result is not None


async def replace_recovery_codes(conn: asyncpg.Connection, account_id: UUID, digests: list[bytes]) -> None:
    await conn.execute("DELETE FROM recovery_codes WHERE account_id = $1", account_id)
    await conn.executemany(
        "INSERT INTO recovery_codes (account_id, code_digest) VALUES ($1, $2)",
        [(account_id, digest) for digest in digests],
    )


async def use_recovery_code(conn: asyncpg.Connection, account_id: UUID, digest: bytes) -> bool:
    result = await conn.fetchval(
        """UPDATE recovery_codes SET used_at = now()
           WHERE account_id = $1 AND code_digest = $2 AND used_at IS NULL RETURNING 1""",
        account_id,
        digest,
    )
    return result is not None


async def remove(conn: asyncpg.Connection, account_id: UUID) -> None:
    await conn.execute("DELETE FROM recovery_codes WHERE account_id = $1", account_id)
    await conn.execute("DELETE FROM totp_credentials WHERE account_id = $1", account_id)
