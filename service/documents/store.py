"""SQL for uploaded documents."""

from __future__ import annotations

from uuid import UUID

import asyncpg


async def insert(
    conn: asyncpg.Connection,
    *,
    document_id: UUID,
    account_id: UUID,
    kind: str,
    content: bytes,
    byte_size: int,
    width: int | None,
    height: int | None,
) -> None:
    await conn.execute(
        """INSERT INTO documents (id, account_id, kind, content, byte_size, width, height)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        document_id,
        account_id,
        kind,
        content,
        byte_size,
        width,
        height,
    )


async def link_to_case(conn: asyncpg.Connection, case_id: UUID, document_ids: list[UUID]) -> None:
    await conn.execute(
        """INSERT INTO case_documents (case_id, document_id) SELECT $1, unnest($2::uuid[])
           ON CONFLICT DO NOTHING""",
        case_id,
        document_ids,
    )


async def for_case(conn: asyncpg.Connection, case_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT d.id, d.kind, d.byte_size, d.width, d.height, d.created_at, d.deleted_at IS NOT NULL AS deleted
           FROM case_documents c JOIN documents d ON d.id = c.document_id
           WHERE c.case_id = $1 ORDER BY d.created_at""",
        case_id,
    )


async def content_for_case(conn: asyncpg.Connection, case_id: UUID, document_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT d.id, d.account_id, d.kind, d.content FROM case_documents c JOIN documents d ON d.id = c.document_id
           WHERE c.case_id = $1 AND c.document_id = $2""",
        case_id,
        document_id,
    )


async def erase(conn: asyncpg.Connection, document_ids: list[UUID]) -> int:
    result: str = await conn.execute(
        """UPDATE documents SET content = NULL, deleted_at = now()
           WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL""",
        document_ids,
    )
    return int(result.split()[-1])
