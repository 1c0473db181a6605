"""SQL for identity bars: the blind index of an identity number a termination bars, and until when."""

from __future__ import annotations

from uuid import UUID

import asyncpg


async def bar_verified_identity(conn: asyncpg.Connection, account_id: UUID, case_id: UUID, days: int) -> None:
    """Bar the identity number the account is verified with (its index, under each key it is stored under)."""
    await conn.execute(
        """INSERT INTO identity_bars (id_number_index, case_id, barred_until)
           SELECT DISTINCT id_number_index, $2::uuid, now() + make_interval(days => $3::int)
           FROM real_name_verifications WHERE account_id = $1 AND status = 'verified'""",
        account_id,
        case_id,
        days,
    )


async def is_barred(conn: asyncpg.Connection, id_number_indexes: list[bytes]) -> bool:
    return bool(
        await conn.fetchval(
            """SELECT EXISTS (SELECT 1 FROM identity_bars
                              WHERE id_number_index = ANY($1::bytea[]) AND barred_until > now())""",
            id_number_indexes,
        )
    )
