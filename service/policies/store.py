"""SQL for published policy versions."""

from __future__ import annotations

import asyncpg
import msgspec

from service.policies.catalog import PolicyDocument, parse_document, parse_translation


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


async def insert_translation(conn: asyncpg.Connection, translation: PolicyDocument, published_by: str) -> bool:
    """False when this version already has a text in this language."""
    result = await conn.fetchval(
        """INSERT INTO policy_translations (kind, version, language, title, sha256, source, published_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (kind, version, language) DO NOTHING RETURNING 1""",
        translation.kind,
        translation.version,
        translation.language,
        translation.title,
        translation.sha256,
        translation.source,
        published_by,
    )
    return result is not None


async def sha256_of(conn: asyncpg.Connection, kind: str, version: str, language: str | None = None) -> str | None:
    """The published text's sha256, or its translation's into ``language``."""
    args: tuple[str, ...]
    if language is None:
        query, args = "SELECT sha256 FROM policy_versions WHERE kind = $1 AND version = $2", (kind, version)
    else:
        query = "SELECT sha256 FROM policy_translations WHERE kind = $1 AND version = $2 AND language = $3"
        args = (kind, version, language)
    digest: str | None = await conn.fetchval(query, *args)
    return digest


async def all_documents(conn: asyncpg.Connection | asyncpg.Pool) -> list[PolicyDocument]:
    """Every published version, each with its translations."""
    # One statement (a listener's connection runs it on every notification).
    rows = await conn.fetch(
        """SELECT v.kind, v.version, v.source,
                  coalesce(jsonb_object_agg(t.language, t.source) FILTER (WHERE t.language IS NOT NULL), '{}')
                      AS translations
           FROM policy_versions v LEFT JOIN policy_translations t USING (kind, version)
           GROUP BY v.kind, v.version, v.source"""
    )
    documents = []
    for row in rows:
        texts = msgspec.json.decode(row["translations"], type=dict[str, str])
        translations = [parse_translation(row["kind"], row["version"], lang, text) for lang, text in texts.items()]
        documents.append(parse_document(row["kind"], row["version"], row["source"]).with_translations(translations))
    return documents
