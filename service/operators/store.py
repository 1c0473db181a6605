"""SQL for operators and their sessions."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import asyncpg
import msgspec

from service.operators.roles import Role


class Operator(msgspec.Struct, frozen=True):
    """An operator with its data key (wrapped); the e-mail and TOTP secret are sealed under it."""

    id: UUID
    email: bytes
    roles: tuple[Role, ...]
    password_hash: str | None
    totp_secret: bytes | None
    totp_last_step: int | None
    enrolled_at: datetime | None
    disabled_at: datetime | None
    created_at: datetime
    created_by: str
    approved_at: datetime | None
    master_key_id: str
    wrapped_key: bytes


class OperatorSession(msgspec.Struct, frozen=True):
    id: UUID
    operator_id: UUID
    expires_at: datetime
    roles: tuple[Role, ...]
    # Last seen long enough ago to record activity again.
    stale: bool


def _operator(row: asyncpg.Record) -> Operator:
    return Operator(
        id=row["id"],
        email=row["email"],
        roles=tuple(Role(role) for role in row["roles"]),
        password_hash=row["password_hash"],
        totp_secret=row["totp_secret"],
        totp_last_step=row["totp_last_step"],
        enrolled_at=row["enrolled_at"],
        disabled_at=row["disabled_at"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        approved_at=row["approved_at"],
        master_key_id=row["master_key_id"],
        wrapped_key=row["wrapped_key"],
    )


OPERATOR_COLUMNS = """o.id, o.email, o.roles, o.password_hash, o.totp_secret, o.totp_last_step,
    o.enrolled_at, o.disabled_at, o.created_at, o.created_by, o.approved_at, k.master_key_id, k.wrapped_key"""


async def insert(
    conn: asyncpg.Connection,
    *,
    operator_id: UUID,
    email: bytes,
    email_index: bytes,
    roles: list[str],
    created_by: str,
) -> bool:
    """False when an operator with this e-mail address exists. The operator waits for approval."""
    result = await conn.fetchval(
        """INSERT INTO operators (id, email, email_index, roles, created_by)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (email_index) DO NOTHING RETURNING 1""",
        operator_id,
        email,
        email_index,
        roles,
        created_by,
    )
    return result is not None


async def approve(
    conn: asyncpg.Connection, operator_id: UUID, approved_by: str, enrolment_digest: bytes, expires_at: datetime
) -> None:
    await conn.execute(
        """UPDATE operators SET approved_by = $2, approved_at = now(), enrolment_digest = $3, enrolment_expires_at = $4
           WHERE id = $1 AND approved_at IS NULL""",
        operator_id,
        approved_by,
        enrolment_digest,
        expires_at,
    )


async def by_enrolment(conn: asyncpg.Connection, digest: bytes) -> Operator | None:
    row = await conn.fetchrow(
        f"""SELECT {OPERATOR_COLUMNS} FROM operators o JOIN data_keys k ON k.owner_id = o.id
            WHERE o.enrolment_digest = $1 AND o.enrolment_expires_at > now() AND o.disabled_at IS NULL
              AND o.approved_at IS NOT NULL
            FOR UPDATE OF o""",  # noqa: S608 - a constant column list
        digest,
    )
    return None if row is None else _operator(row)


async def by_email(conn: asyncpg.Connection | asyncpg.Pool, email_indexes: list[bytes]) -> Operator | None:
    """The operator with this e-mail (its index under each blind-index key in use)."""
    row = await conn.fetchrow(
        f"""SELECT {OPERATOR_COLUMNS} FROM operators o JOIN data_keys k ON k.owner_id = o.id
            WHERE o.email_index = ANY($1::bytea[])""",  # noqa: S608 - a constant column list
        email_indexes,
    )
    return None if row is None else _operator(row)


async def lock(conn: asyncpg.Connection, operator_id: UUID) -> Operator | None:
    row = await conn.fetchrow(
        f"""SELECT {OPERATOR_COLUMNS} FROM operators o JOIN data_keys k ON k.owner_id = o.id
            WHERE o.id = $1 FOR UPDATE OF o""",  # noqa: S608 - a constant column list
        operator_id,
    )
    return None if row is None else _operator(row)


async def set_pending_factors(conn: asyncpg.Connection, operator_id: UUID, password_hash: str, secret: bytes) -> None:
    await conn.execute(
        "UPDATE operators SET password_hash = $2, totp_secret = $3, totp_last_step = NULL WHERE id = $1",
        operator_id,
        password_hash,
        secret,
    )


async def complete_enrolment(conn: asyncpg.Connection, operator_id: UUID, step: int) -> None:
    await conn.execute(
        """UPDATE operators SET enrolled_at = now(), enrolment_digest = NULL, enrolment_expires_at = NULL,
                  totp_last_step = $2
           WHERE id = $1""",
        operator_id,
        step,
    )


async def claim_step(conn: asyncpg.Connection, operator_id: UUID, step: int) -> bool:
    """Single use of a TOTP code within its time step."""
    result = await conn.fetchval(
        """UPDATE operators SET totp_last_step = $2
           WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2) RETURNING 1""",
        operator_id,
        step,
    )
    return result is not None


async def replace_password_hash(conn: asyncpg.Connection, operator_id: UUID, old: str, new: str) -> None:
    await conn.execute(
        "UPDATE operators SET password_hash = $3 WHERE id = $1 AND password_hash = $2", operator_id, old, new
    )


async def list_all(conn: asyncpg.Connection) -> list[Operator]:
    rows = await conn.fetch(
        f"""SELECT {OPERATOR_COLUMNS} FROM operators o JOIN data_keys k ON k.owner_id = o.id
            ORDER BY o.created_at"""  # noqa: S608 - a constant column list
    )
    return [_operator(row) for row in rows]


async def disable(conn: asyncpg.Connection, operator_id: UUID) -> bool:
    result: str = await conn.execute(
        "UPDATE operators SET disabled_at = now() WHERE id = $1 AND disabled_at IS NULL", operator_id
    )
    if not result.endswith(" 1"):
        return False
    await conn.execute(
        """UPDATE operator_sessions SET ended_at = now(), end_reason = 'operator_disabled'
           WHERE operator_id = $1 AND ended_at IS NULL""",
        operator_id,
    )
    return True


async def insert_session(
    conn: asyncpg.Connection, session_id: UUID, operator_id: UUID, token_digest: bytes, expires_at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO operator_sessions (id, operator_id, token_digest, expires_at) VALUES ($1, $2, $3, $4)",
        session_id,
        operator_id,
        token_digest,
        expires_at,
    )


async def resolve_session(
    conn: asyncpg.Connection | asyncpg.Pool, digest: bytes, idle: timedelta
) -> OperatorSession | None:
    row = await conn.fetchrow(
        """SELECT s.id, s.operator_id, s.expires_at, o.roles,
                  s.last_seen_at < now() - interval '30 seconds' AS stale
           FROM operator_sessions s JOIN operators o ON o.id = s.operator_id
           WHERE s.token_digest = $1 AND s.ended_at IS NULL AND s.expires_at > now()
             AND s.last_seen_at > now() - $2::interval
             AND o.disabled_at IS NULL AND o.enrolled_at IS NOT NULL""",
        digest,
        idle,
    )
    if row is None:
        return None
    return OperatorSession(
        row["id"], row["operator_id"], row["expires_at"], tuple(Role(role) for role in row["roles"]), row["stale"]
    )


async def touch_session(conn: asyncpg.Connection | asyncpg.Pool, session_id: UUID) -> None:
    await conn.execute("UPDATE operator_sessions SET last_seen_at = now() WHERE id = $1", session_id)


async def end_session(conn: asyncpg.Connection, session_id: UUID, reason: str) -> None:
    await conn.execute(
        "UPDATE operator_sessions SET ended_at = now(), end_reason = $2 WHERE id = $1 AND ended_at IS NULL",
        session_id,
        reason,
    )


class IndexedEmail(msgspec.Struct, frozen=True):
    id: UUID
    email: bytes  # sealed under the operator's data key
    email_index: bytes


async def indexed_emails(conn: asyncpg.Connection, operator_ids: list[UUID]) -> list[IndexedEmail]:
    """The operators' e-mails with their blind indexes (vault.reindex re-makes them)."""
    rows = await conn.fetch("SELECT id, email, email_index FROM operators WHERE id = ANY($1)", operator_ids)
    return [IndexedEmail(row["id"], row["email"], row["email_index"]) for row in rows]


async def replace_email_index(conn: asyncpg.Connection, operator_id: UUID, old: bytes, new: bytes) -> None:
    """Compare-and-set: a change made since ``old`` was read wins."""
    await conn.execute(
        "UPDATE operators SET email_index = $3 WHERE id = $1 AND email_index = $2", operator_id, old, new
    )
