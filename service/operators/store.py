"""SQL for operators, their sessions and their passkeys."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
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


class SignedInWith(StrEnum):
    PASSWORD_TOTP = "password_totp"  # noqa: S105 (how a session signed in, not a secret)
    PASSKEY = "passkey"


class SessionChannel(StrEnum):
    """Where a session was signed in, and the only place it is accepted: the API takes it as a
    bearer token, the console from its cookie."""

    API = "api"
    CONSOLE = "console"


class OperatorSession(msgspec.Struct, frozen=True):
    id: UUID
    operator_id: UUID
    expires_at: datetime
    roles: tuple[Role, ...]
    # Last seen long enough ago to record activity again.
    stale: bool
    signed_in_with: SignedInWith
    channel: SessionChannel


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
    conn: asyncpg.Connection,
    session_id: UUID,
    operator_id: UUID,
    token_digest: bytes,
    expires_at: datetime,
    signed_in_with: SignedInWith = SignedInWith.PASSWORD_TOTP,
    channel: SessionChannel = SessionChannel.API,
) -> None:
    await conn.execute(
        """INSERT INTO operator_sessions (id, operator_id, token_digest, expires_at, signed_in_with, channel)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        session_id,
        operator_id,
        token_digest,
        expires_at,
        signed_in_with.value,
        channel.value,
    )


async def resolve_session(
    conn: asyncpg.Connection | asyncpg.Pool, digest: bytes, idle: timedelta
) -> OperatorSession | None:
    row = await conn.fetchrow(
        """SELECT s.id, s.operator_id, s.expires_at, o.roles, s.signed_in_with, s.channel,
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
        row["id"],
        row["operator_id"],
        row["expires_at"],
        tuple(Role(role) for role in row["roles"]),
        row["stale"],
        SignedInWith(row["signed_in_with"]),
        SessionChannel(row["channel"]),
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


# --- Passkeys ---------------------------------------------------------------------------------------


class PasskeyPurpose(StrEnum):
    ENROLMENT = "enrolment"
    SIGN_IN = "sign_in"


class OperatorPasskey(msgspec.Struct, frozen=True):
    id: UUID
    operator_id: UUID
    credential_id: bytes
    public_key: bytes
    sign_count: int
    name: bytes  # sealed under the operator's data key
    aaguid: str
    backup_eligible: bool
    backed_up: bool
    created_at: datetime
    last_used_at: datetime | None


_PASSKEY_COLUMNS = """id, operator_id, credential_id, public_key, sign_count, name, aaguid, backup_eligible,
                      backed_up, created_at, last_used_at"""


async def passkeys_of(conn: asyncpg.Connection, operator_id: UUID) -> list[OperatorPasskey]:
    rows = await conn.fetch(
        f"SELECT {_PASSKEY_COLUMNS} FROM operator_passkeys WHERE operator_id = $1 ORDER BY created_at",  # noqa: S608
        operator_id,
    )
    return [OperatorPasskey(**dict(row)) for row in rows]


async def passkey_by_credential_id(conn: asyncpg.Connection, credential_id: bytes) -> OperatorPasskey | None:
    row = await conn.fetchrow(
        f"SELECT {_PASSKEY_COLUMNS} FROM operator_passkeys WHERE credential_id = $1",  # noqa: S608
        credential_id,
    )
    return None if row is None else OperatorPasskey(**dict(row))


class SealedEmail(msgspec.Struct, frozen=True):
    """An operator's e-mail, sealed under their data key, with that key (wrapped)."""

    id: UUID
    email: bytes
    master_key_id: str
    wrapped_key: bytes


async def sealed_emails(conn: asyncpg.Connection, operator_ids: list[UUID]) -> list[SealedEmail]:
    """The e-mails of these operators, in one query (a page names every operator it shows at once)."""
    rows = await conn.fetch(
        """SELECT o.id, o.email, k.master_key_id, k.wrapped_key
             FROM operators o JOIN data_keys k ON k.owner_id = o.id WHERE o.id = ANY($1)""",
        operator_ids,
    )
    return [SealedEmail(row["id"], row["email"], row["master_key_id"], row["wrapped_key"]) for row in rows]


async def by_id(conn: asyncpg.Connection, operator_id: UUID) -> Operator | None:
    row = await conn.fetchrow(
        f"""SELECT {OPERATOR_COLUMNS} FROM operators o JOIN data_keys k ON k.owner_id = o.id
            WHERE o.id = $1""",  # noqa: S608 - a constant column list
        operator_id,
    )
    return None if row is None else _operator(row)


async def insert_passkey(conn: asyncpg.Connection, passkey: OperatorPasskey) -> bool:
    """Store a new credential; False when its credential id is already an operator's."""
    inserted = await conn.fetchval(
        """INSERT INTO operator_passkeys (id, operator_id, credential_id, public_key, sign_count, name, aaguid,
                                          backup_eligible, backed_up, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (credential_id) DO NOTHING RETURNING 1""",
        passkey.id,
        passkey.operator_id,
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


async def record_passkey_use(conn: asyncpg.Connection, passkey_id: UUID, sign_count: int, backed_up: bool) -> bool:
    """False when the counter did not move forward (cloned authenticator or replay); atomic, so two
    parallel assertions with one counter cannot both pass. Two zeros (synced passkeys) are fine."""
    updated = await conn.fetchval(
        """UPDATE operator_passkeys SET sign_count = $2, backed_up = $3, last_used_at = now()
           WHERE id = $1 AND (sign_count < $2 OR ($2 = 0 AND sign_count = 0)) RETURNING 1""",
        passkey_id,
        sign_count,
        backed_up,
    )
    return updated is not None


async def remove_passkey(conn: asyncpg.Connection, operator_id: UUID, passkey_id: UUID) -> bool:
    removed = await conn.fetchval(
        "DELETE FROM operator_passkeys WHERE id = $1 AND operator_id = $2 RETURNING 1", passkey_id, operator_id
    )
    return removed is not None


async def put_passkey_challenge(
    conn: asyncpg.Connection,
    flow_id: UUID,
    purpose: PasskeyPurpose,
    challenge: bytes,
    lifetime: timedelta,
    session_id: UUID | None = None,
    pre_session_digest: bytes | None = None,
) -> None:
    # Expired challenges go as new ones come: nothing else needs them.
    await conn.execute("DELETE FROM operator_passkey_challenges WHERE expires_at < now()")
    await conn.execute(
        """INSERT INTO operator_passkey_challenges (id, purpose, challenge, session_id, expires_at, pre_session_digest)
           VALUES ($1, $2, $3, $4, now() + $5::interval, $6)""",
        flow_id,
        purpose.value,
        challenge,
        session_id,
        lifetime,
        pre_session_digest,
    )


async def take_passkey_enrolment_challenge(conn: asyncpg.Connection, session_id: UUID, challenge: bytes) -> bool:
    """Consume this operator session's live enrolment challenge; False if used, expired or another's."""
    taken = await conn.fetchval(
        """DELETE FROM operator_passkey_challenges
           WHERE purpose = 'enrolment' AND session_id = $1 AND challenge = $2 AND expires_at > now()
           RETURNING 1""",
        session_id,
        challenge,
    )
    return taken is not None


async def take_passkey_sign_in_challenge(
    conn: asyncpg.Connection, flow_id: UUID, challenge: bytes, pre_session_digest: bytes | None = None
) -> bool:
    """Consume the live sign-in challenge of this flow, if it is the one given and bound to the
    same pre-session (a console sign-in page's) or, for the API's, to none."""
    taken = await conn.fetchval(
        """DELETE FROM operator_passkey_challenges
           WHERE id = $1 AND purpose = 'sign_in' AND challenge = $2 AND expires_at > now()
             AND pre_session_digest IS NOT DISTINCT FROM $3
           RETURNING 1""",
        flow_id,
        challenge,
        pre_session_digest,
    )
    return taken is not None
