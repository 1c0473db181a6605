"""SQL for exports. What an export gathers is read from the personal-data registry
(lifecycle.personal_data)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

import asyncpg
import msgspec


class ExportStatus(StrEnum):
    PREPARING = "preparing"
    READY = "ready"
    EXPIRED = "expired"


class ExportListing(msgspec.Struct, frozen=True):
    id: UUID
    account_id: UUID
    status: ExportStatus
    requested_at: datetime
    ready_at: datetime | None
    expires_at: datetime | None
    downloaded_at: datetime | None


class DataExport(ExportListing, frozen=True):
    requested_by: UUID
    # Sealed under the account's data key; present exactly while the export is ready.
    archive: bytes | None


def _export(row: asyncpg.Record | None) -> DataExport | None:
    if row is None:
        return None
    return DataExport(
        row["id"],
        row["account_id"],
        ExportStatus(row["status"]),
        row["requested_at"],
        row["ready_at"],
        row["expires_at"],
        row["downloaded_at"],
        row["requested_by"],
        row["archive"],
    )


async def insert(conn: asyncpg.Connection, export_id: UUID, account_id: UUID, requested_by: UUID) -> None:
    await conn.execute(
        "INSERT INTO data_exports (id, account_id, requested_by, status) VALUES ($1, $2, $3, 'preparing')",
        export_id,
        account_id,
        requested_by,
    )


async def lock(conn: asyncpg.Connection, export_id: UUID) -> DataExport | None:
    return _export(await conn.fetchrow("SELECT * FROM data_exports WHERE id = $1 FOR UPDATE", export_id))


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


async def requested_by(conn: asyncpg.Connection, requester: UUID) -> list[ExportListing]:
    rows = await conn.fetch(
        """SELECT id, account_id, status, requested_at, ready_at, expires_at, downloaded_at FROM data_exports
           WHERE requested_by = $1 ORDER BY requested_at DESC""",
        requester,
    )
    return [
        ExportListing(
            row["id"],
            row["account_id"],
            ExportStatus(row["status"]),
            row["requested_at"],
            row["ready_at"],
            row["expires_at"],
            row["downloaded_at"],
        )
        for row in rows
    ]


async def for_requester(conn: asyncpg.Connection, requester: UUID, export_id: UUID) -> DataExport | None:
    return _export(
        await conn.fetchrow(
            "SELECT * FROM data_exports WHERE id = $1 AND requested_by = $2 AND expires_at > now()",
            export_id,
            requester,
        )
    )


async def expire(conn: asyncpg.Connection) -> int:
    result: str = await conn.execute(
        """UPDATE data_exports SET status = 'expired', archive = NULL
           WHERE status = 'ready' AND expires_at <= now()"""
    )
    return int(result.split()[-1])
