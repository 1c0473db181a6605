"""Publishing policy versions, from the repository at start-up or by an admin."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg

from service.audit import Actor, AuditEntry, AuditTrail
from service.audit.entries import DetailValue
from service.database.pool import Database
from service.errors import Conflict, NotFound, invalid_field
from service.policies import store
from service.policies.catalog import (
    ORIGINAL_LANGUAGE,
    PolicyCatalog,
    PolicyDocument,
    PolicySourceError,
    parse_document,
    parse_translation,
    repository_documents,
)

logger = logging.getLogger(__name__)

CHANNEL = "idv_policies_published"


async def publish_repository_documents(conn: asyncpg.Connection) -> None:
    """Publish the repository's documents (versions first, then their translations) that are not
    yet published; refuse to start if one was edited after publication (what people agreed to must
    stay what they read)."""
    documents = sorted(repository_documents(), key=lambda d: d.language != ORIGINAL_LANGUAGE)
    for document in documents:
        original = document.language == ORIGINAL_LANGUAGE
        if original and await store.insert(conn, document, "repository"):
            continue
        if not original and await store.insert_translation(conn, document, "repository"):
            continue
        published = await store.sha256_of(
            conn, document.kind, document.version, None if original else document.language
        )
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


class CatalogFreshness:
    """Keeps this process's catalogue in step with what any replica publishes (a subscriber of
    ``service.database.listening.Listener``): publishing sends a NOTIFY on ``CHANNEL`` in its
    transaction, and the catalogue is re-read when told, on every (re)connection and every interval."""

    channel = CHANNEL

    def __init__(self, catalog: PolicyCatalog) -> None:
        self.catalog = catalog
        self.replaced: list[Callable[[], None]] = []

    def notified(self, payload: str) -> bool:
        return True

    async def resync(self, conn: asyncpg.Connection) -> None:
        self.catalog.replace(await store.all_documents(conn))
        for hook in self.replaced:
            hook()


async def publish(
    database: Database,
    catalog: PolicyCatalog,
    audit: AuditTrail,
    kind: str,
    version: str,
    source: str,
    actor: Actor,
    language: str = ORIGINAL_LANGUAGE,
) -> PolicyDocument:
    """Publish a new version. It may take effect today or later, never earlier: nobody can be
    held to a text before it existed. With another ``language``: a translation of a published
    version (the same effective date and weight), which is not a new version."""
    if language != ORIGINAL_LANGUAGE:
        return await publish_translation(database, catalog, audit, kind, version, source, actor, language)
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
            raise Conflict("policy_version_exists", "This version is published already; use a new version")
        details: dict[str, DetailValue] = {
            "major": document.major,
            "effective_at": document.effective_at.isoformat(),
            "sha256": document.sha256,
        }
        await audit.append(conn, AuditEntry(actor, "policy.published", "policy", f"{kind}:{version}", details))
        # Every process re-reads the catalogue when this commits (CatalogFreshness).
        await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, f"{kind}:{version}")
    await refresh_catalog(catalog, database)
    return document


async def publish_translation(
    database: Database,
    catalog: PolicyCatalog,
    audit: AuditTrail,
    kind: str,
    version: str,
    source: str,
    actor: Actor,
    language: str,
) -> PolicyDocument:
    try:
        translation = parse_translation(kind, version, language, source)
    except PolicySourceError as exc:
        raise invalid_field("source", "policy_source_invalid", str(exc)) from None
    original = catalog.find(translation.kind, version)
    if original is None:
        raise NotFound("policy_not_found", "No such policy version")
    if (translation.effective_at, translation.major) != (original.effective_at, original.major):
        raise invalid_field(
            "source", "translation_differs", "a translation has the effective_at and major of its version"
        )
    async with database.transaction() as conn:
        if not await store.insert_translation(conn, translation, actor.label):
            raise Conflict("policy_translation_exists", "This version already has a text in this language")
        details: dict[str, DetailValue] = {"language": language, "sha256": translation.sha256}
        target = f"{kind}:{version}"
        await audit.append(conn, AuditEntry(actor, "policy.translation_published", "policy", target, details))
        await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, f"{kind}:{version}:{language}")
    await refresh_catalog(catalog, database)
    return translation
