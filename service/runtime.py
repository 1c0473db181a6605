"""Everything a request or a job needs, built once per process and handed to the app factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from service.database import migrations
from service.database.pool import Database
from service.settings import Settings
from service.vault import BlindIndex, MasterKeyRing, Vault

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    database: Database
    vault: Vault
    migrations: tuple[migrations.Migration, ...]

    @classmethod
    @asynccontextmanager
    async def open(
        cls, settings: Settings, dsn: str, *, apply_migrations: bool = True, pool_size: int = 10
    ) -> AsyncIterator[Runtime]:
        known = migrations.discover()
        database = await Database.connect(dsn, min_size=min(2, pool_size), max_size=pool_size)
        try:
            if apply_migrations:
                async with database.connection() as conn:
                    await migrations.migrate(conn, known)
            vault = Vault(
                MasterKeyRing(settings.master_keys, settings.active_master_key_id),
                BlindIndex(settings.blind_index_key),
            )
            yield cls(settings=settings, database=database, vault=vault, migrations=known)
        finally:
            await database.close()
