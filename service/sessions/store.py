"""SQL for sessions."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

import asyncpg
import msgspec


async def insert(
    conn: asyncpg.Connection,
    *,
    session_id: UUID,
    account_id: UUID,
    token_digest: bytes,
    assurance: int,
    expires_at: datetime,
    client_address: bytes | None,
    user_agent: bytes | None,
) -> None:
    await conn.execute(
        """INSERT INTO sessions (id, account_id, token_digest, assurance, expires_at,
                                 client_address, user_agent)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        session_id,
        account_id,
        token_digest,
        assurance,
        expires_at,
        client_address,
        user_agent,
    )


# The query behind whoami: one index look-up on the token digest, the account, its contacts, and
# how its face verification was decided.
RESOLVE = """
SELECT s.id, s.account_id, s.assurance, s.expires_at, s.last_seen_at,
       s.last_seen_at < now() - interval '60 seconds' AS stale,
       a.state, a.in_doubt_since IS NOT NULL AS in_doubt,
       EXISTS (SELECT 1 FROM contacts c WHERE c.account_id = a.id AND c.kind = 'email'
               AND c.verified_at IS NOT NULL) AS email_verified,
       EXISTS (SELECT 1 FROM contacts c WHERE c.account_id = a.id AND c.kind = 'phone'
               AND c.verified_at IS NOT NULL) AS phone_verified,
       EXISTS (SELECT 1 FROM totp_credentials t WHERE t.account_id = a.id
               AND t.confirmed_at IS NOT NULL) AS totp_enabled,
       EXISTS (SELECT 1 FROM real_name_verifications r WHERE r.account_id = a.id
               AND r.status = 'verified') AS real_name_verified,
       fv.account_id IS NOT NULL AS face_verified,
       fv.decided_by AS face_decided_by, fv.liveness_method AS face_pad, fv.pad_certified AS face_pad_certified,
       fv.decided_at AS face_verified_at,
       EXISTS (SELECT 1 FROM review_cases d WHERE d.subject_account_id = a.id
               AND d.case_type = 'document_review' AND d.state = 'approved') AS document_reviewed,
       EXISTS (SELECT 1 FROM qualifications q WHERE q.account_id = a.id
               AND q.status = 'approved' AND q.valid_until >= current_date) AS qualified,
       -- A required purpose with no grant of a version that still counts ($3/$4: the pairs).
       EXISTS (SELECT 1 FROM unnest($3::text[]) AS r(purpose)
               WHERE NOT EXISTS (
                   SELECT 1 FROM consent_events ce
                   JOIN unnest($3::text[], $4::text[]) AS ok(purpose, version)
                     ON ok.purpose = ce.purpose AND ok.version = ce.policy_version
                   WHERE ce.account_id = a.id AND ce.purpose = r.purpose AND ce.action = 'granted'))
           AS consent_required
FROM sessions s JOIN accounts a ON a.id = s.account_id
-- How the face verification in force was decided: its latest verified attempt, read through the
-- partial index of verified attempts (face_verifications_verified_idx).
LEFT JOIN LATERAL (SELECT f.account_id, f.decided_by, f.liveness_method, f.pad_certified, f.decided_at
                   FROM face_verifications f WHERE f.account_id = a.id AND f.status = 'verified'
                   ORDER BY f.decided_at DESC NULLS LAST LIMIT 1) fv ON true
WHERE s.token_digest = $1 AND s.ended_at IS NULL AND s.expires_at > now()
  AND s.last_seen_at > now() - $2::interval
"""


async def resolve(
    conn: asyncpg.Connection | asyncpg.Pool,
    digest: bytes,
    idle: timedelta,
    required_purposes: list[str],
    required_versions: list[str],
) -> asyncpg.Record | None:
    return await conn.fetchrow(RESOLVE, digest, idle, required_purposes, required_versions)


async def touch(conn: asyncpg.Connection | asyncpg.Pool, session_id: UUID) -> None:
    await conn.execute("UPDATE sessions SET last_seen_at = now() WHERE id = $1", session_id)


async def end(conn: asyncpg.Connection, account_id: UUID, session_id: UUID, reason: str) -> bool:
    result: str = await conn.execute(
        """UPDATE sessions SET ended_at = now(), end_reason = $3
           WHERE id = $2 AND account_id = $1 AND ended_at IS NULL""",
        account_id,
        session_id,
        reason,
    )
    return result.endswith(" 1")


class SessionOrigin(msgspec.Struct, frozen=True):
    # Both sealed under the account's data key; None when the client gave none.
    client_address: bytes | None
    user_agent: bytes | None


class LiveSession(msgspec.Struct, frozen=True):
    id: UUID
    assurance: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    client_address: bytes | None  # sealed under the account's data key
    user_agent: bytes | None  # sealed under the account's data key


async def live_for_account(conn: asyncpg.Connection, account_id: UUID, idle: timedelta) -> list[LiveSession]:
    rows = await conn.fetch(
        """SELECT id, assurance, created_at, last_seen_at, expires_at, client_address, user_agent
           FROM sessions
           WHERE account_id = $1 AND ended_at IS NULL AND expires_at > now()
             AND last_seen_at > now() - $2::interval
           ORDER BY created_at DESC""",
        account_id,
        idle,
    )
    return [
        LiveSession(
            row["id"],
            row["assurance"],
            row["created_at"],
            row["last_seen_at"],
            row["expires_at"],
            row["client_address"],
            row["user_agent"],
        )
        for row in rows
    ]


async def end_all_for_account(conn: asyncpg.Connection, account_id: UUID, reason: str) -> int:
    result: str = await conn.execute(
        "UPDATE sessions SET ended_at = now(), end_reason = $2 WHERE account_id = $1 AND ended_at IS NULL",
        account_id,
        reason,
    )
    return int(result.split()[-1])


# One attempt on each subject's counter (sessions.throttle): a subject past its free attempts whose
# wait has not ended is not updated, and so not returned.
_RESERVE_ATTEMPTS = """
INSERT INTO sign_in_throttle AS t (subject, free_attempts, failures, next_allowed_at, updated_at)
SELECT s.subject, s.free, 1, sign_in_next_allowed(1, s.free), clock_timestamp()
FROM unnest($1::bytea[], $2::int[]) AS s(subject, free)
ON CONFLICT (subject) DO UPDATE
SET failures = CASE WHEN t.updated_at < clock_timestamp() - $3::interval THEN 1 ELSE t.failures + 1 END,
    next_allowed_at = sign_in_next_allowed(
        CASE WHEN t.updated_at < clock_timestamp() - $3::interval THEN 1 ELSE t.failures + 1 END, t.free_attempts),
    updated_at = clock_timestamp()
WHERE t.next_allowed_at <= clock_timestamp()
RETURNING subject
"""


async def reserve_attempts(
    conn: asyncpg.Connection, subjects: list[bytes], free_attempts: list[int], failure_memory: timedelta
) -> int:
    """Count one attempt against each subject; how many subjects allowed it."""
    return len(await conn.fetch(_RESERVE_ATTEMPTS, subjects, free_attempts, failure_memory))


async def held_back(conn: asyncpg.Connection, subjects: list[bytes]) -> dict[bytes, Decimal]:
    """The subjects whose wait has not ended, with the seconds left."""
    rows = await conn.fetch(
        """SELECT subject, extract(epoch FROM next_allowed_at - clock_timestamp()) AS wait
           FROM sign_in_throttle WHERE subject = ANY($1::bytea[]) AND next_allowed_at > clock_timestamp()""",
        subjects,
    )
    return {row["subject"]: row["wait"] for row in rows}


async def free_attempts_just_spent(conn: asyncpg.Connection, subject: bytes) -> bool:
    return bool(
        await conn.fetchval("SELECT failures = free_attempts FROM sign_in_throttle WHERE subject = $1", subject)
    )


async def clear_attempts(conn: asyncpg.Connection, subjects: list[bytes]) -> None:
    await conn.execute("DELETE FROM sign_in_throttle WHERE subject = ANY($1::bytea[])", subjects)


async def take_back_attempt(conn: asyncpg.Connection, subject: bytes) -> None:
    """Take one failure back from the subject's counter, and lift its wait if that frees it."""
    await conn.execute(
        """UPDATE sign_in_throttle
           SET failures = greatest(failures - 1, 0),
               next_allowed_at = CASE WHEN failures - 1 < free_attempts THEN '-infinity' ELSE next_allowed_at END
           WHERE subject = $1""",
        subject,
    )


async def end_all_but(conn: asyncpg.Connection, account_id: UUID, keep: UUID | None, reason: str) -> int:
    """End every live session of the account except ``keep`` (a password change keeps the caller's)."""
    result: str = await conn.execute(
        """UPDATE sessions SET ended_at = now(), end_reason = $3
           WHERE account_id = $1 AND ended_at IS NULL AND id IS DISTINCT FROM $2""",
        account_id,
        keep,
        reason,
    )
    return int(result.split()[-1])


async def recent_origins(
    conn: asyncpg.Connection, account_id: UUID, since: datetime, limit: int
) -> list[SessionOrigin]:
    """The sealed address and user agent of the account's latest sessions (live or ended) created since ``since``."""
    rows = await conn.fetch(
        """SELECT client_address, user_agent FROM sessions
           WHERE account_id = $1 AND created_at >= $2 ORDER BY created_at DESC LIMIT $3""",
        account_id,
        since,
        limit,
    )
    return [SessionOrigin(row["client_address"], row["user_agent"]) for row in rows]
