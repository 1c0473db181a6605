"""SQL for real-name verifications."""

from __future__ import annotations

from uuid import UUID

import asyncpg


async def insert(
    conn: asyncpg.Connection,
    *,
    verification_id: UUID,
    account_id: UUID,
    case_id: UUID,
    document_type: str,
    legal_name: bytes,
    id_number: bytes,
    id_number_index: bytes,
    birth_date: bytes,
) -> bool:
    """False when the account already has a verification pending or in force."""
    result = await conn.fetchval(
        """INSERT INTO real_name_verifications (id, account_id, case_id, status, document_type, legal_name,
                                                id_number, id_number_index, birth_date)
           VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7, $8)
           ON CONFLICT (account_id) WHERE status IN ('pending', 'verified') DO NOTHING RETURNING 1""",
        verification_id,
        account_id,
        case_id,
        document_type,
        legal_name,
        id_number,
        id_number_index,
        birth_date,
    )
    return result is not None


async def lock(conn: asyncpg.Connection, verification_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT id, account_id, case_id, status, document_type, legal_name, id_number, id_number_index
           FROM real_name_verifications WHERE id = $1 FOR UPDATE""",
        verification_id,
    )


async def fetch(conn: asyncpg.Connection, verification_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT id, account_id, status, document_type, legal_name, id_number
           FROM real_name_verifications WHERE id = $1""",
        verification_id,
    )


async def live_for_account(conn: asyncpg.Connection, account_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT id, status, case_id, provider, checked_at, created_at FROM real_name_verifications
           WHERE account_id = $1 AND status IN ('pending', 'verified')""",
        account_id,
    )


async def latest_for_account(conn: asyncpg.Connection, account_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT id, status, case_id, document_type, provider, provider_outcome, checked_at, created_at
           FROM real_name_verifications WHERE account_id = $1 ORDER BY created_at DESC LIMIT 1""",
        account_id,
    )


async def rejections(conn: asyncpg.Connection, account_id: UUID) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM real_name_verifications WHERE account_id = $1 AND status = 'rejected'", account_id
    )
    return count


async def accounts_verified_with(conn: asyncpg.Connection, id_number_indexes: list[bytes], except_account: UUID) -> int:
    """Other accounts verified with this number (its index under each blind-index key in use)."""
    count: int = await conn.fetchval(
        """SELECT count(DISTINCT account_id) FROM real_name_verifications
           WHERE id_number_index = ANY($1::bytea[]) AND status = 'verified' AND account_id <> $2""",
        id_number_indexes,
        except_account,
    )
    return count


async def record_answer(
    conn: asyncpg.Connection, verification_id: UUID, status: str, provider: str, outcome: str, reference: str
) -> None:
    await conn.execute(
        """UPDATE real_name_verifications
           SET status = $2, provider = $3, provider_outcome = $4, provider_reference = $5,
               checked_at = now(), updated_at = now()
           WHERE id = $1""",
        verification_id,
        status,
        provider,
        outcome,
        reference,
    )


async def set_status(conn: asyncpg.Connection, verification_id: UUID, status: str) -> None:
    await conn.execute(
        "UPDATE real_name_verifications SET status = $2, updated_at = now() WHERE id = $1", verification_id, status
    )


async def withdraw_for_account(conn: asyncpg.Connection, account_id: UUID) -> int:
    result: str = await conn.execute(
        """UPDATE real_name_verifications SET status = 'withdrawn', updated_at = now()
           WHERE account_id = $1 AND status IN ('pending', 'verified')""",
        account_id,
    )
    return int(result.split()[-1])


async def lock_for_case(conn: asyncpg.Connection, case_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, account_id, status FROM real_name_verifications WHERE case_id = $1 FOR UPDATE", case_id
    )


async def registry_mismatches(conn: asyncpg.Connection, account_id: UUID) -> int:
    count: int = await conn.fetchval(
        """SELECT count(*) FROM real_name_verifications
           WHERE account_id = $1 AND provider_outcome = 'mismatch'""",
        account_id,
    )
    return count


async def supersede_with_correction(
    conn: asyncpg.Connection,
    *,
    verification_id: UUID,
    account_id: UUID,
    case_id: UUID,
    document_type: str | None,
    legal_name: bytes | None,
    id_number: bytes | None,
    id_number_index: bytes | None,
    birth_date: bytes | None,
) -> bool:
    """Supersede the account's verification in force with one carrying a corrected identity
    (the parts given as None are copied from it, as ciphertext). False when none is in force."""
    old = await conn.fetchrow(
        """UPDATE real_name_verifications SET status = 'superseded', updated_at = now()
           WHERE account_id = $1 AND status = 'verified'
           RETURNING document_type, legal_name, id_number, id_number_index, birth_date""",
        account_id,
    )
    if old is None:
        return False
    await conn.execute(
        """INSERT INTO real_name_verifications
               (id, account_id, case_id, status, document_type, legal_name, id_number, id_number_index, birth_date,
                provider, provider_outcome, provider_reference, checked_at)
           VALUES ($1, $2, $3, 'verified', $4, $5, $6, $7, $8, 'operator', 'corrected', $3::uuid::text, now())""",
        verification_id,
        account_id,
        case_id,
        document_type or old["document_type"],
        legal_name or old["legal_name"],
        id_number or old["id_number"],
        id_number_index or old["id_number_index"],
        birth_date or old["birth_date"],
    )
    return True
