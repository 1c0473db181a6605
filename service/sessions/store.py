"""SQL for sessions."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import asyncpg


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
SELECT s.id, s.account_id, s.assurance, s.expires_at,
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


async def live_for_account(conn: asyncpg.Connection, account_id: UUID, idle: timedelta) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT id, assurance, created_at, last_seen_at, expires_at, client_address, user_agent
           FROM sessions
           WHERE account_id = $1 AND ended_at IS NULL AND expires_at > now()
             AND last_seen_at > now() - $2::interval
           ORDER BY created_at DESC""",
        account_id,
        idle,
    )


async def recent_origins(
    conn: asyncpg.Connection, account_id: UUID, since: datetime, limit: int
) -> list[asyncpg.Record]:
    """The sealed address and user agent of the account's latest sessions (live or ended) created since ``since``."""
    return await conn.fetch(
        """SELECT client_address, user_agent FROM sessions
           WHERE account_id = $1 AND created_at >= $2 ORDER BY created_at DESC LIMIT $3""",
        account_id,
        since,
        limit,
    )
