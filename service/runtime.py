"""Everything a request or a job needs, built once per process and handed to the app factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg

from service.courier.adapters import (
    EmailSender,
    FileOutbox,
    HttpSmsGateway,
    SmsSender,
    SmtpEmailSender,
)
from service.courier.outbox import Courier
from service.database import migrations
from service.database.pool import Database
from service.passwords.hasher import PasswordHasher
from service.policies.catalog import PolicyCatalog
from service.settings import Settings
from service.vault import BlindIndex, MasterKeyRing, Vault

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    database: Database
    vault: Vault
    migrations: tuple[migrations.Migration, ...]
    passwords: PasswordHasher
    policies: PolicyCatalog
    courier: Courier

    @classmethod
    @asynccontextmanager
    async def open(
        cls, settings: Settings, dsn: str, *, apply_migrations: bool = True, pool_size: int = 10
    ) -> AsyncIterator[Runtime]:
        known = migrations.discover()
        database = await Database.connect(dsn, min_size=min(2, pool_size), max_size=pool_size)
        try:
            if apply_migrations:
                # Its own connection: the migration lock is session-level, and closing the
                # connection is what guarantees it is released.
                conn = await asyncpg.connect(dsn)
                try:
                    await migrations.migrate(conn, known)
                finally:
                    await conn.close()
            vault = Vault(
                MasterKeyRing(settings.master_keys, settings.active_master_key_id),
                BlindIndex(settings.blind_index_key),
            )
            passwords = PasswordHasher(settings.argon2, settings.hash_concurrency)
            try:
                yield cls(
                    settings=settings,
                    database=database,
                    vault=vault,
                    migrations=known,
                    passwords=passwords,
                    policies=PolicyCatalog.load(),
                    courier=Courier(database, vault, *couriers(settings), settings.public_name),
                )
            finally:
                passwords.close()
        finally:
            await database.close()


def couriers(settings: Settings) -> tuple[EmailSender, SmsSender]:
    """The adapters settings ask for; production settings never name the file outbox."""
    outbox = FileOutbox(settings.outbox_path)
    email: EmailSender = outbox
    sms: SmsSender = outbox
    if settings.courier_email == "smtp" and settings.smtp_url:
        email = SmtpEmailSender(settings.smtp_url, settings.smtp_sender)
    if settings.courier_sms == "http" and settings.sms_gateway_url:
        sms = HttpSmsGateway(settings.sms_gateway_url, settings.sms_gateway_token)
    return email, sms
