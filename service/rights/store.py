"""SQL for exports, and the read side of everything an export gathers (one query per kind of
data held about a person; sealed columns come back sealed and are opened by the caller)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

# What an export reads, per section. Every query takes the account id as $1.
SECTIONS: dict[str, str] = {
    "contacts": "SELECT kind, address, verified_at, created_at FROM contacts WHERE account_id = $1 ORDER BY kind",
    "sessions": """SELECT created_at, last_seen_at, expires_at, ended_at, end_reason, client_address, user_agent
                   FROM sessions WHERE account_id = $1 ORDER BY created_at""",
    "state_history": """SELECT from_state, to_state, event, reason_code, at FROM account_state_changes
                        WHERE account_id = $1 ORDER BY id""",
    "consents": """SELECT purpose, policy_version, action, channel, actor_account_id, at FROM consent_events
                   WHERE account_id = $1 ORDER BY id""",
    "real_name_verifications": """SELECT status, document_type, legal_name, id_number, birth_date, provider,
                                         provider_outcome, checked_at, created_at
                                  FROM real_name_verifications WHERE account_id = $1 ORDER BY created_at""",
    "qualifications": """SELECT status, organization_name, credit_code, job_title, work_email, valid_until,
                                decided_at, end_reason, created_at
                         FROM qualifications WHERE account_id = $1 ORDER BY created_at""",
    "face_verifications": """SELECT status, score, accept_threshold, reject_threshold, model_version,
                                    liveness_method, reason_codes, created_at, decided_at
                             FROM face_verifications WHERE account_id = $1 ORDER BY created_at""",
    "cases": """SELECT id, case_type, state, reason_code, created_at, closed_at FROM review_cases
                WHERE subject_account_id = $1 ORDER BY created_at""",
    "corrections": """SELECT status, birth_date IS NOT NULL AS birth_date, legal_name IS NOT NULL AS legal_name,
                             id_number IS NOT NULL AS id_number, created_at, decided_at
                      FROM correction_requests WHERE account_id = $1 ORDER BY created_at""",
    "guardianships": """SELECT minor_account_id, guardian_account_id, relationship, scopes, state, created_at,
                               ended_at, end_reason
                        FROM guardianships WHERE minor_account_id = $1 OR guardian_account_id = $1
                        ORDER BY created_at""",
    "documents": """SELECT id, kind, byte_size, width, height, created_at, deleted_at FROM documents
                    WHERE account_id = $1 ORDER BY created_at""",
    "disclosures": """SELECT r.name AS recipient, r.kind, d.categories, d.disclosed_at FROM disclosures d
                      JOIN recipients r ON r.id = d.recipient_id WHERE d.account_id = $1 ORDER BY d.disclosed_at""",
}


async def section(conn: asyncpg.Connection, name: str, account_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(SECTIONS[name], account_id)


async def insert(conn: asyncpg.Connection, export_id: UUID, account_id: UUID, requested_by: UUID) -> None:
    await conn.execute(
        "INSERT INTO data_exports (id, account_id, requested_by, status) VALUES ($1, $2, $3, 'preparing')",
        export_id,
        account_id,
        requested_by,
    )


async def lock(conn: asyncpg.Connection, export_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM data_exports WHERE id = $1 FOR UPDATE", export_id)


async def mark_ready(conn: asyncpg.Connection, export_id: UUID, archive: bytes, expires_at: datetime) -> None:
    await conn.execute(
        """UPDATE data_exports SET status = 'ready', archive = $2, ready_at = now(), expires_at = $3
           WHERE id = $1 AND status = 'preparing'""",
        export_id,
        archive,
        expires_at,
    )


async def mark_downloaded(conn: asyncpg.Connection, export_id: UUID) -> None:
    await conn.execute(
        "UPDATE data_exports SET downloaded_at = coalesce(downloaded_at, now()) WHERE id = $1", export_id
    )


async def requested_by(conn: asyncpg.Connection, requester: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT id, account_id, status, requested_at, ready_at, expires_at, downloaded_at FROM data_exports
           WHERE requested_by = $1 ORDER BY requested_at DESC""",
        requester,
    )


async def for_requester(conn: asyncpg.Connection, requester: UUID, export_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM data_exports WHERE id = $1 AND requested_by = $2 AND expires_at > now()", export_id, requester
    )


async def expire(conn: asyncpg.Connection) -> int:
    result: str = await conn.execute(
        """UPDATE data_exports SET status = 'expired', archive = NULL
           WHERE status = 'ready' AND expires_at <= now()"""
    )
    return int(result.split()[-1])
