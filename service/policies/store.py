"""SQL for published policy versions."""

from __future__ import annotations

import asyncpg

from service.policies.catalog import PolicyDocument, parse_document


async def insert(conn: asyncpg.Connection, document: PolicyDocument, published_by: str) -> bool:
    """False when this kind and version is already published (with whatever text)."""
    result = await conn.fetchval(
        """INSERT INTO policy_versions (kind, version, title, effective_at, major, sha256, source, published_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (kind, version) DO NOTHING RETURNING 1""",
        document.kind,
        document.version,
        document.title,
        document.effective_at,
        document.major,
        document.sha256,
        document.source,
        published_by,
    )
    return result is not None


async def sha256_of(conn: asyncpg.Connection, kind: str, version: str) -> str | None:
    digest: str | None = await conn.fetchval(
        "SELECT sha256 FROM policy_versions WHERE kind = $1 AND version = $2", kind, version
    )
    return digest


async def all_documents(conn: asyncpg.Connection | asyncpg.Pool) -> list[PolicyDocument]:
    rows = await conn.fetch("SELECT kind, version, source FROM policy_versions")
    return [parse_document(row["kind"], row["version"], row["source"]) for row in rows]
