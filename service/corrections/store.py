"""SQL for correction requests, and for applying an approved one."""

from __future__ import annotations

from uuid import UUID

import asyncpg


async def insert(
    conn: asyncpg.Connection,
    *,
    correction_id: UUID,
    account_id: UUID,
    case_id: UUID,
    birth_date: bytes | None,
    legal_name: bytes | None,
    id_number: bytes | None,
    id_number_index: bytes | None,
    identity_birth_date: bytes | None,
    document_type: str | None,
) -> bool:
    """False when the account already has a correction pending."""
    result = await conn.fetchval(
        """INSERT INTO correction_requests (id, account_id, case_id, status, birth_date, legal_name, id_number,
                                            id_number_index, identity_birth_date, document_type)
           VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7, $8, $9)
           ON CONFLICT (account_id) WHERE status = 'pending' DO NOTHING RETURNING 1""",
        correction_id,
        account_id,
        case_id,
        birth_date,
        legal_name,
        id_number,
        id_number_index,
        identity_birth_date,
        document_type,
    )
    return result is not None


async def lock_for_case(conn: asyncpg.Connection, case_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM correction_requests WHERE case_id = $1 FOR UPDATE", case_id)


async def for_account(conn: asyncpg.Connection, account_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT id, case_id, status, created_at, decided_at, birth_date IS NOT NULL AS birth_date,
                  legal_name IS NOT NULL AS legal_name, id_number IS NOT NULL AS id_number
           FROM correction_requests WHERE account_id = $1 ORDER BY created_at DESC""",
        account_id,
    )


async def set_status(conn: asyncpg.Connection, correction_id: UUID, status: str) -> None:
    await conn.execute(
        "UPDATE correction_requests SET status = $2, decided_at = now() WHERE id = $1", correction_id, status
    )


async def verified_identity(conn: asyncpg.Connection, account_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT legal_name, id_number, birth_date, document_type FROM real_name_verifications
           WHERE account_id = $1 AND status = 'verified'""",
        account_id,
    )
