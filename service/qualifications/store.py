"""SQL for qualifications."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import UUID

import asyncpg
import msgspec

from service.qualifications.states import QualificationState


class Qualification(msgspec.Struct, frozen=True):
    """A qualification; what it certifies is sealed under the account's data key."""

    id: UUID
    account_id: UUID
    case_id: UUID | None
    status: QualificationState
    organization_name: bytes
    credit_code: bytes
    job_title: bytes
    work_email: bytes
    work_email_verified_at: datetime | None
    valid_until: date
    decided_at: datetime | None
    end_reason: str | None
    created_at: datetime
    updated_at: datetime


class QualificationListing(Qualification, frozen=True):
    # How many documents were added to it.
    documents: int


class QualificationHeld(msgspec.Struct, frozen=True):
    """A qualification in force, as the profile shows it."""

    id: UUID
    organization_name: bytes
    job_title: bytes
    valid_until: date


def _qualification(row: asyncpg.Record | None) -> Qualification | None:
    if row is None:
        return None
    return Qualification(
        row["id"],
        row["account_id"],
        row["case_id"],
        QualificationState(row["status"]),
        row["organization_name"],
        row["credit_code"],
        row["job_title"],
        row["work_email"],
        row["work_email_verified_at"],
        row["valid_until"],
        row["decided_at"],
        row["end_reason"],
        row["created_at"],
        row["updated_at"],
    )


async def insert(
    conn: asyncpg.Connection,
    *,
    qualification_id: UUID,
    account_id: UUID,
    organization_name: bytes,
    credit_code: bytes,
    job_title: bytes,
    work_email: bytes,
    valid_until: date,
) -> bool:
    """False when the account already has a qualification in draft or under review."""
    result = await conn.fetchval(
        """INSERT INTO qualifications (id, account_id, status, organization_name, credit_code, job_title,
                                       work_email, valid_until)
           VALUES ($1, $2, 'draft', $3, $4, $5, $6, $7)
           ON CONFLICT (account_id) WHERE status IN ('draft', 'submitted') DO NOTHING RETURNING 1""",
        qualification_id,
        account_id,
        organization_name,
        credit_code,
        job_title,
        work_email,
        valid_until,
    )
    return result is not None


async def lock_own(conn: asyncpg.Connection, account_id: UUID, qualification_id: UUID) -> Qualification | None:
    return _qualification(
        await conn.fetchrow(
            "SELECT * FROM qualifications WHERE id = $1 AND account_id = $2 FOR UPDATE", qualification_id, account_id
        )
    )


async def lock(conn: asyncpg.Connection, qualification_id: UUID) -> Qualification | None:
    return _qualification(
        await conn.fetchrow("SELECT * FROM qualifications WHERE id = $1 FOR UPDATE", qualification_id)
    )


async def lock_for_case(conn: asyncpg.Connection, case_id: UUID) -> Qualification | None:
    return _qualification(await conn.fetchrow("SELECT * FROM qualifications WHERE case_id = $1 FOR UPDATE", case_id))


async def for_account(conn: asyncpg.Connection, account_id: UUID) -> list[QualificationListing]:
    rows = await conn.fetch(
        """SELECT q.*, (SELECT count(*) FROM qualification_documents d WHERE d.qualification_id = q.id) AS documents
           FROM qualifications q WHERE q.account_id = $1 ORDER BY q.created_at DESC""",
        account_id,
    )
    return [
        QualificationListing(
            row["id"],
            row["account_id"],
            row["case_id"],
            QualificationState(row["status"]),
            row["organization_name"],
            row["credit_code"],
            row["job_title"],
            row["work_email"],
            row["work_email_verified_at"],
            row["valid_until"],
            row["decided_at"],
            row["end_reason"],
            row["created_at"],
            row["updated_at"],
            row["documents"],
        )
        for row in rows
    ]


async def set_state(
    conn: asyncpg.Connection,
    qualification_id: UUID,
    state: QualificationState,
    *,
    decided: bool = False,
    end_reason: str | None = None,
) -> None:
    await conn.execute(
        """UPDATE qualifications
           SET status = $2, updated_at = now(), decided_at = CASE WHEN $3 THEN now() ELSE decided_at END,
               end_reason = coalesce($4, end_reason)
           WHERE id = $1""",
        qualification_id,
        state,
        decided,
        end_reason,
    )


async def set_case(conn: asyncpg.Connection, qualification_id: UUID, case_id: UUID) -> None:
    await conn.execute("UPDATE qualifications SET case_id = $2 WHERE id = $1", qualification_id, case_id)


async def mark_work_email_verified(conn: asyncpg.Connection, qualification_id: UUID) -> None:
    await conn.execute(
        "UPDATE qualifications SET work_email_verified_at = now(), updated_at = now() WHERE id = $1",
        qualification_id,
    )


async def attach_document(conn: asyncpg.Connection, qualification_id: UUID, document_id: UUID) -> None:
    await conn.execute(
        "INSERT INTO qualification_documents (qualification_id, document_id) VALUES ($1, $2)",
        qualification_id,
        document_id,
    )


async def document_ids(conn: asyncpg.Connection, qualification_id: UUID) -> list[UUID]:
    rows = await conn.fetch(
        """SELECT q.document_id FROM qualification_documents q JOIN documents d ON d.id = q.document_id
           WHERE q.qualification_id = $1 AND d.deleted_at IS NULL ORDER BY d.created_at""",
        qualification_id,
    )
    return [row["document_id"] for row in rows]


async def due_to_expire(conn: asyncpg.Connection, today: date) -> list[UUID]:
    rows = await conn.fetch(
        "SELECT id FROM qualifications WHERE status = 'approved' AND valid_until < $1 FOR UPDATE SKIP LOCKED", today
    )
    return [row["id"] for row in rows]


async def documents_no_longer_needed(conn: asyncpg.Connection, appeal_window: timedelta) -> list[UUID]:
    """Documents of qualifications that ended, or were rejected longer ago than an appeal may take."""
    rows = await conn.fetch(
        """SELECT d.id FROM qualification_documents qd
           JOIN qualifications q ON q.id = qd.qualification_id
           JOIN documents d ON d.id = qd.document_id
           WHERE d.deleted_at IS NULL
             AND (q.status IN ('withdrawn', 'expired', 'revoked')
                  OR (q.status = 'rejected' AND q.decided_at < now() - $1::interval))""",
        appeal_window,
    )
    return [row["id"] for row in rows]


async def in_force(conn: asyncpg.Connection, account_id: UUID) -> list[QualificationHeld]:
    rows = await conn.fetch(
        """SELECT id, organization_name, job_title, valid_until FROM qualifications
           WHERE account_id = $1 AND status = 'approved' AND valid_until >= current_date ORDER BY valid_until""",
        account_id,
    )
    return [
        QualificationHeld(row["id"], row["organization_name"], row["job_title"], row["valid_until"]) for row in rows
    ]
