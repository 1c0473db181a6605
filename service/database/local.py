"""Where the database is: DATABASE_URL, or else the embedded server under the state directory."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import asyncpg

from service.database.embedded import EmbeddedPostgres
from service.database.roles import EMBEDDED_SERVICE_LOGIN, ensure_service_login
from service.settings import Settings

DATABASE_NAME = "idv"


@dataclass(frozen=True)
class DatabaseUrls:
    """The service's connection, and the owner's for migrations (the same URL when the
    deployment gives only one)."""

    service: str
    migrations: str


async def ensure_database(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            # Another process may create it at the same moment; PostgreSQL reports that either way.
            with contextlib.suppress(asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
                await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def prepare_embedded(server: EmbeddedPostgres, name: str) -> None:
    await ensure_database(server.dsn(), name)
    conn = await asyncpg.connect(server.dsn())
    try:
        await ensure_service_login(conn, EMBEDDED_SERVICE_LOGIN, server.service_password())
    finally:
        await conn.close()


@contextmanager
def database_urls(settings: Settings) -> Iterator[DatabaseUrls]:
    """Yield the URLs; an embedded server started here is stopped when the block ends."""
    if settings.database_url:
        yield DatabaseUrls(settings.database_url, settings.migrations_database_url or settings.database_url)
        return
    server = EmbeddedPostgres(settings.state_dir / "pg", port=settings.embedded_pg_port)
    server.start()
    try:
        asyncio.run(prepare_embedded(server, DATABASE_NAME))
        yield DatabaseUrls(server.service_dsn(DATABASE_NAME), server.dsn(DATABASE_NAME))
    finally:
        server.stop()
