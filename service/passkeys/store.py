"""SQL for passkey credentials and the challenges of their ceremonies."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

import asyncpg
import msgspec

from service.accounts.states import AccountState


class Purpose(StrEnum):
    ENROLMENT = "enrolment"
    SIGN_IN = "sign_in"


class Passkey(msgspec.Struct, frozen=True):
    id: UUID
    account_id: UUID
    credential_id: bytes
    public_key: bytes
    sign_count: int
    name: bytes  # sealed under the account's data key
    aaguid: str
    backup_eligible: bool
    backed_up: bool
    created_at: datetime
    last_used_at: datetime | None


class PasskeyOwner(msgspec.Struct, frozen=True):
    """The account a credential belongs to, with what signing in needs."""

    state: AccountState
    master_key_id: str
    wrapped_key: bytes


class Challenge(msgspec.Struct, frozen=True):
    challenge: bytes
    account_id: UUID | None


_COLUMNS = """id, account_id, credential_id, public_key, sign_count, name, aaguid, backup_eligible, backed_up,
              created_at, last_used_at"""


def _passkey(row: asyncpg.Record) -> Passkey:
    return Passkey(**dict(row))


async def for_account(conn: asyncpg.Connection, account_id: UUID) -> list[Passkey]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM passkey_credentials WHERE account_id = $1 ORDER BY created_at",  # noqa: S608
        account_id,
    )
    return [_passkey(row) for row in rows]


async def by_credential_id(conn: asyncpg.Connection, credential_id: bytes) -> Passkey | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM passkey_credentials WHERE credential_id = $1",  # noqa: S608
        credential_id,
    )
    return None if row is None else _passkey(row)


async def owner(conn: asyncpg.Connection, account_id: UUID) -> PasskeyOwner | None:
    row = await conn.fetchrow(
        """SELECT a.state, k.master_key_id, k.wrapped_key
           FROM accounts a JOIN data_keys k ON k.owner_id = a.id WHERE a.id = $1""",
        account_id,
    )
    if row is None:
        return None
    return PasskeyOwner(AccountState(row["state"]), row["master_key_id"], row["wrapped_key"])


async def insert(conn: asyncpg.Connection, passkey: Passkey) -> bool:
    """Store a new credential; False when its credential id is already enrolled (by anyone)."""
    inserted = await conn.fetchval(
        """INSERT INTO passkey_credentials (id, account_id, credential_id, public_key, sign_count, name, aaguid,
                                            backup_eligible, backed_up, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (credential_id) DO NOTHING RETURNING 1""",
        passkey.id,
        passkey.account_id,
        passkey.credential_id,
        passkey.public_key,
        passkey.sign_count,
        passkey.name,
        passkey.aaguid,
        passkey.backup_eligible,
        passkey.backed_up,
        passkey.created_at,
    )
    return inserted is not None


async def record_use(conn: asyncpg.Connection, passkey_id: UUID, sign_count: int, backed_up: bool) -> bool:
    """Record an assertion's counter and backup state; False when the counter did not move forward
    (a non-zero counter at or below the stored one: a cloned authenticator, or a replay). Atomic,
    so two parallel assertions with the same counter cannot both pass."""
    updated = await conn.fetchval(
        """UPDATE passkey_credentials SET sign_count = $2, backed_up = $3, last_used_at = now()
           WHERE id = $1 AND (sign_count < $2 OR ($2 = 0 AND sign_count = 0)) RETURNING 1""",
        passkey_id,
        sign_count,
        backed_up,
    )
    return updated is not None


async def remove(conn: asyncpg.Connection, account_id: UUID, passkey_id: UUID) -> bool:
    removed = await conn.fetchval(
        "DELETE FROM passkey_credentials WHERE id = $1 AND account_id = $2 RETURNING 1", passkey_id, account_id
    )
    return removed is not None


async def put_challenge(
    conn: asyncpg.Connection,
    flow_id: UUID,
    purpose: Purpose,
    challenge: bytes,
    lifetime: timedelta,
    *,
    session_id: UUID | None = None,
    account_id: UUID | None = None,
) -> None:
    # Expired challenges of nobody in particular go as new ones come (retention also purges them).
    await conn.execute("DELETE FROM passkey_challenges WHERE expires_at < now() - interval '1 hour'")
    await conn.execute(
        """INSERT INTO passkey_challenges (id, purpose, challenge, session_id, account_id, expires_at)
           VALUES ($1, $2, $3, $4, $5, now() + $6::interval)""",
        flow_id,
        purpose.value,
        challenge,
        session_id,
        account_id,
        lifetime,
    )


async def take_enrolment_challenge(conn: asyncpg.Connection, session_id: UUID, challenge: bytes) -> bool:
    """Consume the live enrolment challenge this session was given; False if there is none (used,
    expired, or another session's)."""
    taken = await conn.fetchval(
        """DELETE FROM passkey_challenges
           WHERE purpose = 'enrolment' AND session_id = $1 AND challenge = $2 AND expires_at > now()
           RETURNING 1""",
        session_id,
        challenge,
    )
    return taken is not None


async def take_sign_in_challenge(conn: asyncpg.Connection, flow_id: UUID, challenge: bytes) -> Challenge | None:
    """Consume the live sign-in challenge of this flow, if it is the one given."""
    row = await conn.fetchrow(
        """DELETE FROM passkey_challenges
           WHERE id = $1 AND purpose = 'sign_in' AND challenge = $2 AND expires_at > now()
           RETURNING challenge, account_id""",
        flow_id,
        challenge,
    )
    return None if row is None else Challenge(row["challenge"], row["account_id"])
