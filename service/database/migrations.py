"""Ordered plain-SQL migrations applied under an advisory lock, each in its own transaction.

Files are named ``NNNN_what_it_does.sql``. An applied migration is recorded with the SHA-256
of its text; if the file changes afterwards, start-up is refused instead of silently
diverging from what the database really holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib.resources
import logging
import math
import re
from dataclasses import dataclass
from importlib.resources.abc import Traversable

import asyncpg

from service.database.pool import Database

logger = logging.getLogger(__name__)

# Any constant works; it only has to be the same in every replica.
MIGRATION_LOCK_ID = 0x1D7_0001
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(RuntimeError):
    """The migrations on disk and in the database disagree; the message says how."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


@dataclass(frozen=True)
class MigrationStatus:
    pending: tuple[Migration, ...]
    edited: tuple[int, ...]

    @property
    def up_to_date(self) -> bool:
        return not self.pending and not self.edited


def discover(directory: Traversable | None = None) -> tuple[Migration, ...]:
    """Read the migration files in version order; refuse duplicates and stray names."""
    folder = directory or importlib.resources.files("migrations")
    found: dict[int, Migration] = {}
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _NAME.match(entry.name)
        if not match:
            raise MigrationError(f"migration file name must look like 0001_name.sql: {entry.name}")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"two migrations have version {version:04d}")
        found[version] = Migration(version, match.group(2), entry.read_text(encoding="utf-8"))
    return tuple(found[v] for v in sorted(found))


_CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


async def _applied(conn: asyncpg.Connection) -> dict[int, str]:
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return {}
    rows = await conn.fetch("SELECT version, checksum FROM schema_migrations")
    return {row["version"]: row["checksum"] for row in rows}


def _compare(migrations: tuple[Migration, ...], applied: dict[int, str]) -> MigrationStatus:
    edited = tuple(m.version for m in migrations if m.version in applied and applied[m.version] != m.checksum)
    pending = tuple(m for m in migrations if m.version not in applied)
    return MigrationStatus(pending=pending, edited=edited)


async def status(conn: asyncpg.Connection, migrations: tuple[Migration, ...]) -> MigrationStatus:
    return _compare(migrations, await _applied(conn))


async def wait_until_applied(
    database: Database, migrations: tuple[Migration, ...], *, give_up_after: float, poll: float = 2.0
) -> None:
    """Wait for another process (the migration Job) to bring the schema up to this release's
    migrations, instead of failing and being restarted over and over while it runs. An edited
    migration is final at once; a schema still behind after ``timeout`` seconds is an error."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + give_up_after
    said_at = -math.inf
    while True:
        async with database.connection() as conn:
            current = await status(conn, migrations)
        if current.edited:
            names = ", ".join(f"{v:04d}" for v in current.edited)
            raise MigrationError(f"applied migrations were edited afterwards: {names}")
        if not current.pending:
            return
        now = loop.time()
        if now >= deadline:
            raise MigrationError(
                f"the schema is still {len(current.pending)} migration(s) behind after {give_up_after:.0f} s: "
                "run `idv migrate` (the migration Job)"
            )
        if now - said_at >= 30:
            logger.info(
                "waiting for migrations",
                extra={"pending": len(current.pending), "first": current.pending[0].name},
            )
            said_at = now
        await asyncio.sleep(poll)


async def migrate(conn: asyncpg.Connection, migrations: tuple[Migration, ...]) -> list[Migration]:
    """Apply what is pending. Safe to run from many replicas at once: they queue on the lock."""
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_ID)
    try:
        # Only when missing: the service's own role may check the ledger but not create tables.
        if not await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL"):
            await conn.execute(_CREATE_LEDGER)
        current = _compare(migrations, await _applied(conn))
        if current.edited:
            names = ", ".join(f"{v:04d}" for v in current.edited)
            raise MigrationError(
                f"applied migrations were edited afterwards: {names}. Restore the original "
                "files and put the change in a new migration."
            )
        for migration in current.pending:
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
            logger.info("migration applied", extra={"version": migration.version, "migration": migration.name})
        return list(current.pending)
    finally:
        # If the connection broke, the error that broke it matters, not this; closing the
        # connection releases the lock anyway.
        with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
            await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_ID)
