"""SQL for real-name verifications."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

import asyncpg
import msgspec


class VerificationStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    # Replaced by the verification carrying an approved correction (corrections).
    SUPERSEDED = "superseded"


class RealNameVerification(msgspec.Struct, frozen=True):
    """A verification with the identity it checks, sealed under the account's data key."""

    id: UUID
    account_id: UUID
    case_id: UUID
    status: VerificationStatus
    document_type: str
    legal_name: bytes
    id_number: bytes
    id_number_index: bytes


class VerificationSummary(msgspec.Struct, frozen=True):
    """Where a verification stands, without the identity."""

    id: UUID
    status: VerificationStatus
    case_id: UUID
    document_type: str
    provider: str | None
    provider_outcome: str | None
    checked_at: datetime | None
    created_at: datetime


class VerificationOfCase(msgspec.Struct, frozen=True):
    id: UUID
    account_id: UUID
    status: VerificationStatus


_VERIFICATION = "id, account_id, case_id, status, document_type, legal_name, id_number, id_number_index"
_SUMMARY = "id, status, case_id, document_type, provider, provider_outcome, checked_at, created_at"


def _verification(row: asyncpg.Record | None) -> RealNameVerification | None:
    if row is None:
        return None
    return RealNameVerification(
        row["id"],
        row["account_id"],
        row["case_id"],
        VerificationStatus(row["status"]),
        row["document_type"],
        row["legal_name"],
        row["id_number"],
        row["id_number_index"],
    )


def _summary(row: asyncpg.Record | None) -> VerificationSummary | None:
    if row is None:
        return None
    return VerificationSummary(
        row["id"],
        VerificationStatus(row["status"]),
        row["case_id"],
        row["document_type"],
        row["provider"],
        row["provider_outcome"],
        row["checked_at"],
        row["created_at"],
    )


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


async def lock(conn: asyncpg.Connection, verification_id: UUID) -> RealNameVerification | None:
    return _verification(
        await conn.fetchrow(
            f"SELECT {_VERIFICATION} FROM real_name_verifications WHERE id = $1 FOR UPDATE",  # noqa: S608 - constant columns
            verification_id,
        )
    )


async def fetch(conn: asyncpg.Connection, verification_id: UUID) -> RealNameVerification | None:
    return _verification(
        await conn.fetchrow(
            f"SELECT {_VERIFICATION} FROM real_name_verifications WHERE id = $1",  # noqa: S608 - constant columns
            verification_id,
        )
    )


async def live_for_account(conn: asyncpg.Connection, account_id: UUID) -> VerificationSummary | None:
    return _summary(
        await conn.fetchrow(
            f"""SELECT {_SUMMARY} FROM real_name_verifications
                WHERE account_id = $1 AND status IN ('pending', 'verified')""",  # noqa: S608 - constant columns
            account_id,
        )
    )


async def latest_for_account(conn: asyncpg.Connection, account_id: UUID) -> VerificationSummary | None:
    return _summary(
        await conn.fetchrow(
            f"""SELECT {_SUMMARY} FROM real_name_verifications
                WHERE account_id = $1 ORDER BY created_at DESC LIMIT 1""",  # noqa: S608 - constant columns
            account_id,
        )
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


async def lock_for_case(conn: asyncpg.Connection, case_id: UUID) -> VerificationOfCase | None:
    row = await conn.fetchrow(
        "SELECT id, account_id, status FROM real_name_verifications WHERE case_id = $1 FOR UPDATE", case_id
    )
    return None if row is None else VerificationOfCase(row["id"], row["account_id"], VerificationStatus(row["status"]))


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


class IndexedIdNumber(msgspec.Struct, frozen=True):
    id: UUID
    account_id: UUID
    id_number: bytes  # sealed under the account's data key
    id_number_index: bytes


async def indexed_id_numbers(conn: asyncpg.Connection, account_ids: list[UUID]) -> list[IndexedIdNumber]:
    """The accounts' verifications with an ID number index (vault.reindex re-makes them; an index
    blanked by the legal hold is empty and stays so)."""
    rows = await conn.fetch(
        """SELECT id, account_id, id_number, id_number_index FROM real_name_verifications
           WHERE account_id = ANY($1) AND length(id_number_index) > 0""",
        account_ids,
    )
    return [IndexedIdNumber(row["id"], row["account_id"], row["id_number"], row["id_number_index"]) for row in rows]


async def replace_id_number_index(conn: asyncpg.Connection, row_id: UUID, old: bytes, new: bytes) -> None:
    """Compare-and-set: a change made since ``old`` was read wins."""
    await conn.execute(
        "UPDATE real_name_verifications SET id_number_index = $3 WHERE id = $1 AND id_number_index = $2",
        row_id,
        old,
        new,
    )


async def indexed_id_numbers_of(conn: asyncpg.Connection, account_id: UUID) -> list[bytes]:
    """The ID numbers (sealed) of the account's verifications that still have an index."""
    rows = await conn.fetch(
        "SELECT id_number FROM real_name_verifications WHERE account_id = $1 AND length(id_number_index) > 0",
        account_id,
    )
    return [row["id_number"] for row in rows]


async def accounts_verified_with_number(conn: asyncpg.Connection, id_number_indexes: list[bytes]) -> list[UUID]:
    """The accounts verified with this number (its index under each blind-index key in use), by the
    index on verified numbers; never a scan of the sealed numbers."""
    rows = await conn.fetch(
        """SELECT DISTINCT account_id FROM real_name_verifications
           WHERE id_number_index = ANY($1::bytea[]) AND status = 'verified' ORDER BY account_id""",
        id_number_indexes,
    )
    return [row["account_id"] for row in rows]
