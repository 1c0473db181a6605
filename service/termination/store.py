"""SQL for identity bars: the blind index of an identity number a termination bars, and until when."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import msgspec


class BarToReindex(msgspec.Struct, frozen=True):
    """A bar with the barred person's data key (both None once they are erased)."""

    id: int
    id_number_index: bytes
    subject_account_id: UUID
    master_key_id: str | None
    wrapped_key: bytes | None


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


async def lock_bars_after(conn: asyncpg.Connection, after: int, limit: int) -> list[BarToReindex]:
    """The next bars by id, locked, for vault.reindex."""
    rows = await conn.fetch(
        """SELECT b.id, b.id_number_index, c.subject_account_id, k.master_key_id, k.wrapped_key
           FROM identity_bars b JOIN review_cases c ON c.id = b.case_id
           LEFT JOIN data_keys k ON k.owner_id = c.subject_account_id AND k.destroyed_at IS NULL
           WHERE b.id > $1 ORDER BY b.id LIMIT $2 FOR UPDATE OF b""",
        after,
        limit,
    )
    return [
        BarToReindex(
            row["id"], row["id_number_index"], row["subject_account_id"], row["master_key_id"], row["wrapped_key"]
        )
        for row in rows
    ]


async def replace_bar_index(conn: asyncpg.Connection, bar_id: int, new: bytes) -> None:
    await conn.execute("UPDATE identity_bars SET id_number_index = $2 WHERE id = $1", bar_id, new)
