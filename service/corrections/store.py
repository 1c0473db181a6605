"""SQL for correction requests, and for applying an approved one."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

import asyncpg
import msgspec


class CorrectionState(StrEnum):
    PENDING = "pending"
    APPLIED = "applied"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class Correction(msgspec.Struct, frozen=True):
    """A correction request; the requested values are sealed as the values they replace are."""

    id: UUID
    account_id: UUID
    case_id: UUID
    status: CorrectionState
    birth_date: bytes | None
    legal_name: bytes | None
    id_number: bytes | None
    id_number_index: bytes | None
    identity_birth_date: bytes | None
    document_type: str | None


class CorrectionListing(msgspec.Struct, frozen=True):
    """A correction request as its requester sees it: which fields it corrects, not their values."""

    id: UUID
    case_id: UUID
    status: CorrectionState
    created_at: datetime
    decided_at: datetime | None
    birth_date: bool
    legal_name: bool
    id_number: bool


class VerifiedIdentity(msgspec.Struct, frozen=True):
    legal_name: bytes
    id_number: bytes
    birth_date: bytes
    document_type: str


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


async def lock_for_case(conn: asyncpg.Connection, case_id: UUID) -> Correction | None:
    row = await conn.fetchrow("SELECT * FROM correction_requests WHERE case_id = $1 FOR UPDATE", case_id)
    if row is None:
        return None
    return Correction(
        id=row["id"],
        account_id=row["account_id"],
        case_id=row["case_id"],
        status=CorrectionState(row["status"]),
        birth_date=row["birth_date"],
        legal_name=row["legal_name"],
        id_number=row["id_number"],
        id_number_index=row["id_number_index"],
        identity_birth_date=row["identity_birth_date"],
        document_type=row["document_type"],
    )


async def for_account(conn: asyncpg.Connection, account_id: UUID) -> list[CorrectionListing]:
    rows = await conn.fetch(
        """SELECT id, case_id, status, created_at, decided_at, birth_date IS NOT NULL AS birth_date,
                  legal_name IS NOT NULL AS legal_name, id_number IS NOT NULL AS id_number
           FROM correction_requests WHERE account_id = $1 ORDER BY created_at DESC""",
        account_id,
    )
    return [
        CorrectionListing(
            id=row["id"],
            case_id=row["case_id"],
            status=CorrectionState(row["status"]),
            created_at=row["created_at"],
            decided_at=row["decided_at"],
            birth_date=row["birth_date"],
            legal_name=row["legal_name"],
            id_number=row["id_number"],
        )
        for row in rows
    ]


async def set_status(conn: asyncpg.Connection, correction_id: UUID, status: CorrectionState) -> None:
    await conn.execute(
        "UPDATE correction_requests SET status = $2, decided_at = now() WHERE id = $1", correction_id, status
    )


async def verified_identity(conn: asyncpg.Connection, account_id: UUID) -> VerifiedIdentity | None:
    row = await conn.fetchrow(
        """SELECT legal_name, id_number, birth_date, document_type FROM real_name_verifications
           WHERE account_id = $1 AND status = 'verified'""",
        account_id,
    )
    if row is None:
        return None
    return VerifiedIdentity(row["legal_name"], row["id_number"], row["birth_date"], row["document_type"])


class IndexedIdNumber(msgspec.Struct, frozen=True):
    id: UUID
    account_id: UUID
    id_number: bytes  # sealed under the account's data key
    id_number_index: bytes


async def indexed_id_numbers(conn: asyncpg.Connection, account_ids: list[UUID]) -> list[IndexedIdNumber]:
    """The accounts' correction requests with an ID number index (vault.reindex re-makes them; an index
    blanked by the legal hold is empty and stays so)."""
    rows = await conn.fetch(
        """SELECT id, account_id, id_number, id_number_index FROM correction_requests
           WHERE account_id = ANY($1) AND length(id_number_index) > 0""",
        account_ids,
    )
    return [IndexedIdNumber(row["id"], row["account_id"], row["id_number"], row["id_number_index"]) for row in rows]


async def replace_id_number_index(conn: asyncpg.Connection, row_id: UUID, old: bytes, new: bytes) -> None:
    """Compare-and-set: a change made since ``old`` was read wins."""
    await conn.execute(
        "UPDATE correction_requests SET id_number_index = $3 WHERE id = $1 AND id_number_index = $2", row_id, old, new
    )
