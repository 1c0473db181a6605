"""Publishing policy versions, from the repository at start-up or by an admin."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

import asyncpg

from service.audit import Actor, AuditEntry, AuditTrail
from service.audit.entries import DetailValue
from service.database.pool import Database
from service.http.problems import ProblemError, invalid_field
from service.policies import store
from service.policies.catalog import (
    PolicyCatalog,
    PolicyDocument,
    PolicySourceError,
    parse_document,
    repository_documents,
)

logger = logging.getLogger(__name__)

REFRESH_SECONDS = 30


async def publish_repository_documents(conn: asyncpg.Connection) -> None:
    """Publish the repository's documents that are not yet published; refuse to start if one
    was edited after publication (what people agreed to must stay what they read)."""
    for document in repository_documents():
        if await store.insert(conn, document, "repository"):
            continue
        published = await store.sha256_of(conn, document.kind, document.version)
        if published != document.sha256:
            raise PolicySourceError(
                f"{document.kind}@{document.version} in the repository differs from the published text; "
                "publish the change as a new version"
            )


async def load_catalog(database: Database) -> PolicyCatalog:
    async with database.transaction() as conn:
        await publish_repository_documents(conn)
        return PolicyCatalog(await store.all_documents(conn))


async def refresh_catalog(catalog: PolicyCatalog, database: Database) -> None:
    catalog.replace(await store.all_documents(database.pool))


async def keep_catalog_fresh(catalog: PolicyCatalog, database: Database, stop: asyncio.Event) -> None:
    """Pick up versions other replicas published."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), REFRESH_SECONDS)
        if stop.is_set():
            return
        try:
            await refresh_catalog(catalog, database)
        except (OSError, asyncpg.PostgresError) as exc:
            logger.warning("policy refresh failed", extra={"error": type(exc).__name__})


async def publish(
    database: Database, catalog: PolicyCatalog, audit: AuditTrail, kind: str, version: str, source: str, actor: Actor
) -> PolicyDocument:
    """Publish a new version. It may take effect today or later, never earlier: nobody can be
    held to a text before it existed."""
    try:
        document = parse_document(kind, version, source)
    except PolicySourceError as exc:
        raise invalid_field("source", "policy_source_invalid", str(exc)) from None
    today = datetime.now(UTC).date()
    if document.effective_at < today:
        raise invalid_field("source", "effective_in_the_past", "effective_at must be today or later")
    later = [d.version for d in catalog.documents if d.kind is document.kind and d.effective_at > document.effective_at]
    if later:
        raise invalid_field("source", "effective_before_a_later_version", f"versions {later} take effect later")
    async with database.transaction() as conn:
        if not await store.insert(conn, document, actor.label):
            raise ProblemError(409, "policy_version_exists", "This version is published already; use a new version")
        details: dict[str, DetailValue] = {
            "major": document.major,
            "effective_at": document.effective_at.isoformat(),
            "sha256": document.sha256,
        }
        await audit.append(conn, AuditEntry(actor, "policy.published", "policy", f"{kind}:{version}", details))
    await refresh_catalog(catalog, database)
    return document
