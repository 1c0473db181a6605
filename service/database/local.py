"""Where the database is: DATABASE_URL, or else the embedded server under the state directory."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

from service.database.embedded import EmbeddedPostgres
from service.settings import Settings

DATABASE_NAME = "idv"


async def ensure_database(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            # Another process may create it at the same moment; PostgreSQL reports that either way.
            with contextlib.suppress(asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
                await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """Yield a DSN; an embedded server started here is stopped when the block ends."""
    if settings.database_url:
        yield settings.database_url
        return
    server = EmbeddedPostgres(settings.state_dir / "pg", port=settings.embedded_pg_port)
    server.start()
    try:
        asyncio.run(ensure_database(server.dsn(), DATABASE_NAME))
        yield server.dsn(DATABASE_NAME)
    finally:
        server.stop()
