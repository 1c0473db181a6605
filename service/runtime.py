"""Everything a request or a job needs, built once per process and handed to the app factory."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg

from service.audit import AuditTrail
from service.courier.adapters import (
    EmailSender,
    FileOutbox,
    HttpSmsGateway,
    NotDelivering,
    SmsSender,
    SmtpEmailSender,
)
from service.courier.outbox import Courier
from service.database import migrations
from service.database.listening import Listener
from service.database.pool import Database
from service.database.roles import writable_append_only_tables
from service.face.pad import SANDBOX_METHOD, CertifiedPadDetector, HttpPadVendor, SandboxPadVendor
from service.i18n.languages import Language
from service.memory_budget import MemoryBudget
from service.passwords.hasher import PasswordHasher
from service.policies.catalog import PolicyCatalog
from service.policies.publishing import CatalogFreshness, load_catalog
from service.realname.providers import HttpRealNameProvider, RealNameProvider, SandboxRealNameProvider
from service.sessions.cache import SessionCache, SessionCacheInvalidation
from service.settings import Environment, Settings
from service.vault import BlindIndex, MasterKeyRing, Vault
from verification.face.models import LoadedModels, load_models
from verification.face.pool import FacePool
from verification.face.presentation import ActiveChallengeDetector, PresentationAttackDetector

logger = logging.getLogger(__name__)
# How long an upload waits for decode memory before it is answered 503: a few decodes' time.
DECODE_PATIENCE = 10.0


@dataclass
class Runtime:
    settings: Settings
    database: Database
    vault: Vault
    migrations: tuple[migrations.Migration, ...]
    passwords: PasswordHasher
    policies: PolicyCatalog
    courier: Courier
    audit: AuditTrail
    real_name: RealNameProvider
    # CPU-heavy work other than argon2 (screening uploads; later, face models): sized to the
    # cores so a burst of uploads queues here instead of starving the event loop.
    cpu: ThreadPoolExecutor
    # Memory for decoding images on the CPU pool, shared by all requests (see service.memory_budget).
    decode_memory: MemoryBudget
    # Face detection and recognition: one engine per worker thread (see verification.face.pool).
    faces: FacePool
    # Liveness: the active challenge by default; a certified PAD vendor plugs in here.
    liveness: PresentationAttackDetector
    # Resolved sessions, dropped across replicas through LISTEN/NOTIFY (service.sessions.cache).
    session_cache: SessionCache
    # The process's one LISTEN connection (policies published, sessions changed).
    listener: Listener

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        settings: Settings,
        dsn: str,
        *,
        migrations_dsn: str | None = None,
        apply_migrations: bool = True,
        pool_size: int | None = None,
        migrate: bool | None = None,
    ) -> AsyncIterator[Runtime]:
        """``pool_size``: the most pooled connections, IDV_DB_POOL_SIZE unless a one-off command
        needs fewer. ``migrate``: apply pending migrations (True: `idv migrate`), or wait for
        another process to (False); None follows IDV_MIGRATE_ON_START."""
        known = migrations.discover()
        size = pool_size or settings.db_pool_size
        database = await Database.connect(dsn, min_size=min(2, size), max_size=size)
        try:
            if apply_migrations and (settings.migrate_on_start if migrate is None else migrate):
                # Its own connection: the migration lock is session-level, and closing the
                # connection is what guarantees it is released.
                conn = await asyncpg.connect(migrations_dsn or dsn)
                try:
                    await migrations.migrate(conn, known)
                finally:
                    await conn.close()
            elif apply_migrations:
                # The service role may not migrate: a pod of a new release waits for the migration
                # Job rather than failing and being restarted until the Job is done.
                await migrations.wait_until_applied(database, known, give_up_after=settings.schema_wait.total_seconds())
            await _check_role(settings, database)
            vault = Vault(
                MasterKeyRing(settings.master_keys, settings.active_master_key_id),
                BlindIndex(settings.blind_index_key, settings.blind_index_key_previous),
            )
            passwords = PasswordHasher(settings.argon2, settings.hash_concurrency)
            cpu = ThreadPoolExecutor(max_workers=settings.cpu_workers, thread_name_prefix="idv-cpu")
            # Threads start with the first face; the models are read and checked once per process.
            faces = FacePool(workers=settings.cpu_workers, models=face_models())
            audit = AuditTrail(database, vault, dsn)
            await audit.prepare()
            policies = await load_catalog(database)
            session_cache = SessionCache(settings.session_cache_ttl, settings.session_cache_max_entries)
            freshness = CatalogFreshness(policies)
            # Answers computed under the previous catalogue are recomputed (they also carry it).
            freshness.replaced.append(session_cache.clear)
            listener = Listener(
                dsn, [SessionCacheInvalidation(session_cache), freshness], settings.policy_refresh_interval
            )
            stop_watching = asyncio.Event()
            watching = asyncio.create_task(listener.run(stop_watching))
            try:
                yield cls(
                    settings=settings,
                    database=database,
                    vault=vault,
                    migrations=known,
                    passwords=passwords,
                    policies=policies,
                    courier=Courier(
                        database,
                        vault,
                        *couriers(settings),
                        settings.public_name,
                        Language(settings.default_language),
                        settings.sms_signature,
                    ),
                    audit=audit,
                    real_name=real_name_provider(settings),
                    cpu=cpu,
                    decode_memory=MemoryBudget(settings.decode_memory_budget_mib * 1024 * 1024, DECODE_PATIENCE),
                    faces=faces,
                    liveness=presentation_attack_detector(settings, faces, cpu),
                    session_cache=session_cache,
                    listener=listener,
                )
            finally:
                stop_watching.set()
                watching.cancel()  # also when it is waiting on a connection attempt
                with contextlib.suppress(asyncio.CancelledError):
                    await watching
                passwords.close()
                cpu.shutdown(wait=False, cancel_futures=True)
                faces.close()
        finally:
            await database.close()


@functools.cache
def face_models() -> LoadedModels:
    return load_models()


class DatabaseRoleError(RuntimeError):
    """The service's database role could rewrite the audit trail or the ledgers."""


async def _check_role(settings: Settings, database: Database) -> None:
    async with database.connection() as conn:
        writable = await writable_append_only_tables(conn)
    if not writable:
        return
    message = (
        "DATABASE_URL connects as a role that can rewrite append-only tables "
        f"({', '.join(writable)}): connect as a member of idv_service and run migrations "
        "with IDV_MIGRATIONS_DATABASE_URL (see README)"
    )
    if settings.env is Environment.PRODUCTION:
        raise DatabaseRoleError(message)
    logger.warning(message)


def real_name_provider(settings: Settings) -> RealNameProvider:
    """The registry settings ask for; production settings never name the sandbox."""
    if settings.real_name_provider == "http" and settings.real_name_url and settings.real_name_secret:
        return HttpRealNameProvider(
            settings.real_name_url,
            settings.real_name_key_id or "",
            settings.real_name_secret,
            timeout=settings.real_name_timeout,
        )
    return SandboxRealNameProvider()


def presentation_attack_detector(
    settings: Settings, faces: FacePool, encoder: ThreadPoolExecutor | None
) -> PresentationAttackDetector:
    """The built-in active challenge, or a certified vendor beside it; production settings never name the
    sandbox vendor."""
    built_in = ActiveChallengeDetector(faces)
    suffices = settings.face_certified_pad_suffices
    if settings.face_pad == "http" and settings.face_pad_url and settings.face_pad_secret:
        vendor = HttpPadVendor(
            settings.face_pad_url,
            settings.face_pad_key_id or "",
            settings.face_pad_secret,
            timeout=settings.face_pad_timeout,
        )
        return CertifiedPadDetector(
            vendor, built_in, encoder, method=settings.face_pad_name or "http-pad", suffices=suffices
        )
    if settings.face_pad == "sandbox":
        return CertifiedPadDetector(SandboxPadVendor(), built_in, encoder, method=SANDBOX_METHOD, suffices=suffices)
    return built_in


def couriers(settings: Settings) -> tuple[EmailSender, SmsSender]:
    """The adapters settings ask for; production settings never name the file outbox. A process
    started without the credentials (the API: only workers deliver) gets an adapter that refuses,
    never the file outbox in their place."""
    outbox = FileOutbox(settings.outbox_path)
    email: EmailSender = outbox
    sms: SmsSender = outbox
    if settings.courier_email == "smtp":
        email = (
            SmtpEmailSender(settings.smtp_url, settings.smtp_sender)
            if settings.smtp_url
            else NotDelivering("IDV_SMTP_URL")
        )
    if settings.courier_sms == "http" and settings.sms_gateway_url:
        sms = HttpSmsGateway(settings.sms_gateway_url, settings.sms_gateway_token)
        if settings.env is Environment.PRODUCTION and not settings.sms_gateway_token:
            sms = NotDelivering("IDV_SMS_GATEWAY_TOKEN")
    return email, sms
