"""SQL for uploaded documents."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec


class DocumentListing(msgspec.Struct, frozen=True):
    id: UUID
    kind: str
    byte_size: int
    width: int | None
    height: int | None
    created_at: datetime
    deleted: bool


class DocumentContent(msgspec.Struct, frozen=True):
    id: UUID
    account_id: UUID
    kind: str
    # Sealed under the account's data key; None once the document is erased.
    content: bytes | None


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


async def for_case(conn: asyncpg.Connection, case_id: UUID) -> list[DocumentListing]:
    rows = await conn.fetch(
        """SELECT d.id, d.kind, d.byte_size, d.width, d.height, d.created_at, d.deleted_at IS NOT NULL AS deleted
           FROM case_documents c JOIN documents d ON d.id = c.document_id
           WHERE c.case_id = $1 ORDER BY d.created_at""",
        case_id,
    )
    return [
        DocumentListing(
            row["id"], row["kind"], row["byte_size"], row["width"], row["height"], row["created_at"], row["deleted"]
        )
        for row in rows
    ]


async def content_for_case(conn: asyncpg.Connection, case_id: UUID, document_id: UUID) -> DocumentContent | None:
    row = await conn.fetchrow(
        """SELECT d.id, d.account_id, d.kind, d.content FROM case_documents c JOIN documents d ON d.id = c.document_id
           WHERE c.case_id = $1 AND c.document_id = $2""",
        case_id,
        document_id,
    )
    return None if row is None else DocumentContent(row["id"], row["account_id"], row["kind"], row["content"])


async def erase(conn: asyncpg.Connection, document_ids: list[UUID]) -> int:
    result: str = await conn.execute(
        """UPDATE documents SET content = NULL, deleted_at = now()
           WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL""",
        document_ids,
    )
    return int(result.split()[-1])
