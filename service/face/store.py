"""SQL for face verifications and the images kept for review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

import asyncpg
import msgspec

# Challenges count against the daily bound for this long after they were issued.
ATTEMPT_WINDOW = timedelta(days=1)


class FaceStatus(StrEnum):
    CHALLENGED = "challenged"
    PROCESSING = "processing"
    RETRY = "retry"
    VERIFIED = "verified"
    REJECTED = "rejected"
    IN_REVIEW = "in_review"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class OwnChallenge(msgspec.Struct, frozen=True):
    id: UUID
    account_id: UUID
    case_id: UUID
    status: FaceStatus
    actions: tuple[str, ...]
    nonce_digest: bytes
    expires_at: datetime
    expired: bool


class AttemptOfCase(msgspec.Struct, frozen=True):
    id: UUID
    status: FaceStatus


class VerifiedFace(msgspec.Struct, frozen=True):
    """How the attempt in force was decided."""

    decided_by: str | None
    liveness_method: str | None
    pad_certified: bool | None
    decided_at: datetime | None


class LatestAttempt(msgspec.Struct, frozen=True):
    id: UUID
    case_id: UUID
    status: FaceStatus
    reason_codes: tuple[str, ...]
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    liveness_method: str | None


class ReferenceTemplate(msgspec.Struct, frozen=True):
    """The template of the account's face verification in force, to compare a live face against."""

    verification_id: UUID
    template: bytes  # sealed under the attempt's biometric key (VaultField.FACE_TEMPLATE)
    model_version: str | None


class ChallengeOwner(msgspec.Struct, frozen=True):
    account_id: UUID
    case_id: UUID


class CaseSample(msgspec.Struct, frozen=True):
    verification_id: UUID
    # Sealed under the attempt's biometric key (FieldFamily.FACE_SAMPLE of the role).
    content: bytes


@dataclass(frozen=True, slots=True)
class Attempts:
    challenges_today: int  # issued within ATTEMPT_WINDOW, answered or not
    oldest_today: datetime | None
    failures_in_a_row: int  # rejected (or being judged, within a day) since the last verified attempt


async def lock_attempts(conn: asyncpg.Connection, account_id: UUID) -> Attempts:
    """Lock the account's row (so attempts of one account are counted one at a time) and count."""
    await conn.execute("SELECT 1 FROM accounts WHERE id = $1 FOR NO KEY UPDATE", account_id)
    row = await conn.fetchrow(
        """SELECT count(*) FILTER (WHERE created_at > now() - $2::interval) AS challenges_today,
                  min(created_at) FILTER (WHERE created_at > now() - $2::interval) AS oldest_today,
                  count(*) FILTER (
                      -- An answer still being judged counts, unless it was left behind by a crash long ago.
                      WHERE (status = 'rejected' OR (status = 'processing' AND created_at > now() - $2::interval))
                        AND created_at > coalesce(
                            (SELECT max(created_at) FROM face_verifications
                             WHERE account_id = $1 AND status = 'verified'), '-infinity')
                  ) AS failures_in_a_row
           FROM face_verifications WHERE account_id = $1""",
        account_id,
        ATTEMPT_WINDOW,
    )
    assert row is not None
    return Attempts(row["challenges_today"], row["oldest_today"], row["failures_in_a_row"])


async def insert(
    conn: asyncpg.Connection,
    *,
    verification_id: UUID,
    account_id: UUID,
    case_id: UUID,
    actions: list[str],
    nonce_digest: bytes,
    expires_at: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO face_verifications (id, account_id, case_id, status, actions, nonce_digest, expires_at)
           VALUES ($1, $2, $3, 'challenged', $4, $5, $6)""",
        verification_id,
        account_id,
        case_id,
        actions,
        nonce_digest,
        expires_at,
    )


async def expire_open_challenges(conn: asyncpg.Connection, account_id: UUID) -> None:
    """A new challenge replaces any unanswered one."""
    await conn.execute(
        "UPDATE face_verifications SET status = 'expired' WHERE account_id = $1 AND status = 'challenged'",
        account_id,
    )


async def lock_own(conn: asyncpg.Connection, account_id: UUID, verification_id: UUID) -> OwnChallenge | None:
    row = await conn.fetchrow(
        """SELECT id, account_id, case_id, status, actions, nonce_digest, expires_at, expires_at <= now() AS expired
           FROM face_verifications WHERE id = $1 AND account_id = $2 FOR UPDATE""",
        verification_id,
        account_id,
    )
    if row is None:
        return None
    return OwnChallenge(
        id=row["id"],
        account_id=row["account_id"],
        case_id=row["case_id"],
        status=FaceStatus(row["status"]),
        actions=tuple(row["actions"]),
        nonce_digest=row["nonce_digest"],
        expires_at=row["expires_at"],
        expired=row["expired"],
    )


async def lock_for_case(conn: asyncpg.Connection, case_id: UUID) -> list[AttemptOfCase]:
    rows = await conn.fetch(
        "SELECT id, status FROM face_verifications WHERE case_id = $1 ORDER BY created_at FOR UPDATE", case_id
    )
    return [AttemptOfCase(row["id"], FaceStatus(row["status"])) for row in rows]


async def set_status(conn: asyncpg.Connection, verification_id: UUID, status: str) -> None:
    await conn.execute("UPDATE face_verifications SET status = $2 WHERE id = $1", verification_id, status)


async def reopen_for_retake(conn: asyncpg.Connection, verification_id: UUID, max_retakes: int) -> bool:
    """Open the challenge being answered again, unless it was retaken `max_retakes` times or expired."""
    reopened = await conn.fetchval(
        """UPDATE face_verifications SET status = 'challenged', retakes = retakes + 1
           WHERE id = $1 AND status = 'processing' AND retakes < $2 AND expires_at > now()
           RETURNING id""",
        verification_id,
        max_retakes,
    )
    return reopened is not None


async def record_decision(
    conn: asyncpg.Connection,
    verification_id: UUID,
    *,
    status: str,
    score: float | None,
    accept_threshold: float,
    reject_threshold: float,
    model_version: str,
    liveness_method: str,
    reason_codes: list[str],
    template: bytes | None,
    decided_by: str | None,
    pad_certified: bool,
) -> datetime | None:
    """Record the outcome; `decided_by` None leaves it undecided (under review). Returns decided_at."""
    decided_at: datetime | None = await conn.fetchval(
        """UPDATE face_verifications
           SET status = $2, score = $3, accept_threshold = $4, reject_threshold = $5, model_version = $6,
               liveness_method = $7, reason_codes = $8, template = $9, decided_by = $10, pad_certified = $11,
               decided_at = CASE WHEN $10::text IS NOT NULL THEN now() ELSE decided_at END
           WHERE id = $1
           RETURNING decided_at""",
        verification_id,
        status,
        score,
        accept_threshold,
        reject_threshold,
        model_version,
        liveness_method,
        reason_codes,
        template,
        decided_by,
        pad_certified,
    )
    return decided_at


async def verified_in_force(conn: asyncpg.Connection, account_id: UUID) -> VerifiedFace | None:
    """The account's latest verified attempt: how it was decided (whoami reads the same in its query)."""
    row = await conn.fetchrow(
        """SELECT decided_by, liveness_method, pad_certified, decided_at FROM face_verifications
           WHERE account_id = $1 AND status = 'verified' ORDER BY decided_at DESC NULLS LAST LIMIT 1""",
        account_id,
    )
    if row is None:
        return None
    return VerifiedFace(row["decided_by"], row["liveness_method"], row["pad_certified"], row["decided_at"])


async def latest_for_account(conn: asyncpg.Connection, account_id: UUID) -> LatestAttempt | None:
    # Face verification cases only: a comparison made for an assisted recovery is that case's evidence.
    row = await conn.fetchrow(
        """SELECT f.id, f.case_id, f.status, f.reason_codes, f.created_at, f.decided_at, f.decided_by,
                  f.liveness_method
           FROM face_verifications f JOIN review_cases c ON c.id = f.case_id AND c.case_type = 'face'
           WHERE f.account_id = $1 AND f.status <> 'expired' ORDER BY f.created_at DESC LIMIT 1""",
        account_id,
    )
    if row is None:
        return None
    return LatestAttempt(
        id=row["id"],
        case_id=row["case_id"],
        status=FaceStatus(row["status"]),
        reason_codes=tuple(row["reason_codes"]),
        created_at=row["created_at"],
        decided_at=row["decided_at"],
        decided_by=row["decided_by"],
        liveness_method=row["liveness_method"],
    )


async def reference_template(conn: asyncpg.Connection, account_id: UUID) -> ReferenceTemplate | None:
    """The latest verified attempt that still keeps its template (withdrawing the consent erases it)."""
    row = await conn.fetchrow(
        """SELECT id, template, model_version FROM face_verifications
           WHERE account_id = $1 AND status = 'verified' AND template IS NOT NULL
           ORDER BY decided_at DESC NULLS LAST LIMIT 1""",
        account_id,
    )
    return None if row is None else ReferenceTemplate(row["id"], row["template"], row["model_version"])


async def owner_of(conn: asyncpg.Connection, verification_id: UUID) -> ChallengeOwner | None:
    row = await conn.fetchrow("SELECT account_id, case_id FROM face_verifications WHERE id = $1", verification_id)
    return None if row is None else ChallengeOwner(row["account_id"], row["case_id"])


async def put_sample(
    conn: asyncpg.Connection, verification_id: UUID, role: str, content: bytes, keep_until: datetime | None
) -> None:
    await conn.execute(
        "INSERT INTO face_samples (verification_id, role, content, keep_until) VALUES ($1, $2, $3, $4)",
        verification_id,
        role,
        content,
        keep_until,
    )


async def erase_samples_past_retention(conn: asyncpg.Connection) -> int:
    result: str = await conn.execute(
        """UPDATE face_samples SET content = NULL, deleted_at = now()
           WHERE content IS NOT NULL AND keep_until <= now()"""
    )
    return int(result.split()[-1])


async def sample_for_case(conn: asyncpg.Connection, case_id: UUID, role: str) -> CaseSample | None:
    row = await conn.fetchrow(
        """SELECT s.content, s.verification_id FROM face_samples s JOIN face_verifications v ON v.id = s.verification_id
           WHERE v.case_id = $1 AND s.role = $2 AND s.content IS NOT NULL
           ORDER BY v.created_at DESC LIMIT 1""",
        case_id,
        role,
    )
    return None if row is None else CaseSample(row["verification_id"], row["content"])


async def sample_roles_for_case(conn: asyncpg.Connection, case_id: UUID) -> list[str]:
    """The images the case's latest attempt keeps: document, live, frame-<action>-<frame>."""
    rows = await conn.fetch(
        """SELECT s.role FROM face_samples s JOIN face_verifications v ON v.id = s.verification_id
           WHERE v.id = (SELECT v2.id FROM face_verifications v2 JOIN face_samples s2 ON s2.verification_id = v2.id
                         WHERE v2.case_id = $1 AND s2.content IS NOT NULL ORDER BY v2.created_at DESC LIMIT 1)
             AND s.content IS NOT NULL
           ORDER BY s.role""",
        case_id,
    )
    return [row["role"] for row in rows]


async def erase_samples_of_case(conn: asyncpg.Connection, case_id: UUID) -> int:
    result: str = await conn.execute(
        """UPDATE face_samples SET content = NULL, deleted_at = now()
           WHERE deleted_at IS NULL AND keep_until IS NULL
             AND verification_id IN (SELECT id FROM face_verifications WHERE case_id = $1)""",
        case_id,
    )
    return int(result.split()[-1])


async def verification_ids(conn: asyncpg.Connection, account_id: UUID) -> list[UUID]:
    rows = await conn.fetch("SELECT id FROM face_verifications WHERE account_id = $1", account_id)
    return [row["id"] for row in rows]


async def erase_biometric_data(conn: asyncpg.Connection, account_id: UUID) -> int:
    """Templates and images of every face verification of the account; verified ones lapse."""
    samples: str = await conn.execute(
        """UPDATE face_samples SET content = NULL, deleted_at = now()
           WHERE deleted_at IS NULL
             AND verification_id IN (SELECT id FROM face_verifications WHERE account_id = $1)""",
        account_id,
    )
    templates: str = await conn.execute(
        """UPDATE face_verifications
           SET template = NULL, status = CASE WHEN status = 'verified' THEN 'withdrawn' ELSE status END
           WHERE account_id = $1 AND (template IS NOT NULL OR status = 'verified')""",
        account_id,
    )
    return int(samples.split()[-1]) + int(templates.split()[-1])


async def settle(
    conn: asyncpg.Connection, verification_id: UUID, status: str, *, keep_template: bool, decided_by: str | None
) -> None:
    await conn.execute(
        """UPDATE face_verifications
           SET status = $2, decided_at = now(), template = CASE WHEN $3 THEN template END, decided_by = $4
           WHERE id = $1""",
        verification_id,
        status,
        keep_template,
        decided_by,
    )
