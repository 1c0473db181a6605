"""Where the database is: DATABASE_URL, or else the embedded server under the state directory."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from service.database.embedded import EmbeddedPostgres, server_user_can_reach
from service.database.roles import EMBEDDED_SERVICE_LOGIN, ensure_service_login
from service.settings import Settings

logger = logging.getLogger(__name__)

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


# Where the embedded cluster goes when PostgreSQL's OS user cannot reach the state directory.
UNREACHABLE_STATE_FALLBACK = Path("/var/lib/idv-development")


def embedded_root(state_dir: Path, *, create: bool) -> Path | None:
    """``<state dir>/pg``, unless PostgreSQL's OS user cannot get there (`scripts/serve` as root in
    a checkout under /root or another 0700 folder): then a directory of this state directory's own
    under ``UNREACHABLE_STATE_FALLBACK``. A cluster that exists in either place stays where it is;
    with ``create=False``, None when there is none."""
    inside = state_dir / "pg"
    outside = UNREACHABLE_STATE_FALLBACK / hashlib.sha256(str(state_dir).encode()).hexdigest()[:16] / "pg"
    if (inside / "data" / "PG_VERSION").is_file():
        return inside
    if (outside / "data" / "PG_VERSION").is_file():
        return outside
    if not create:
        return None
    state_dir.mkdir(parents=True, exist_ok=True)
    if server_user_can_reach(state_dir):
        return inside
    logger.info(
        "the embedded postgresql lives outside the state directory, which its OS user cannot reach",
        extra={"data": str(outside), "state_dir": str(state_dir)},
    )
    # Only the last level is handed to the server's user; the levels above must let it through.
    outside.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    outside.parent.chmod(0o755)
    UNREACHABLE_STATE_FALLBACK.chmod(0o755)
    return outside


class NoDevelopmentDatabase(RuntimeError):
    """A command that works on an existing database found none; the message says where it looked."""


@contextmanager
def database_urls(settings: Settings, *, create: bool = True) -> Iterator[DatabaseUrls]:
    """Yield the URLs; an embedded server started here is stopped when the block ends.

    ``create=False`` (commands that act on data: operators, policies, audit, jobs...) refuses to
    create an embedded server where there is none: a command run with other settings than the
    server's would otherwise act on a new, empty database and report success."""
    if settings.database_url:
        yield DatabaseUrls(settings.database_url, settings.migrations_database_url or settings.database_url)
        return
    root = embedded_root(settings.state_dir, create=create)
    if root is None:
        raise NoDevelopmentDatabase(
            f"no development database in {settings.state_dir / 'pg'}: start one with `bash scripts/serve` "
            "(or `idv serve`), or set IDV_STATE_DIR to the state directory the server uses, or DATABASE_URL"
        )
    server = EmbeddedPostgres(root, port=settings.embedded_pg_port)
    server.start()
    try:
        asyncio.run(prepare_embedded(server, DATABASE_NAME))
        yield DatabaseUrls(server.service_dsn(DATABASE_NAME), server.dsn(DATABASE_NAME))
    finally:
        server.stop()
