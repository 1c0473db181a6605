"""Migrations: applied once under a lock, recorded with checksums, edits refused."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest

from service.database import migrations
from service.database.migrations import Migration, MigrationError


async def test_concurrent_runners_apply_each_migration_exactly_once(empty_database_url: str) -> None:
    known = migrations.discover()
    connections = [await asyncpg.connect(empty_database_url) for _ in range(6)]
    try:
        results = await asyncio.gather(*(migrations.migrate(c, known) for c in connections))
        applied_counts = sorted(len(r) for r in results)
        assert applied_counts == [0] * 5 + [len(known)]
        rows = await connections[0].fetch("SELECT version, checksum FROM schema_migrations ORDER BY 1")
        assert [(r["version"], r["checksum"]) for r in rows] == [(m.version, m.checksum) for m in known]
        assert (await migrations.status(connections[0], known)).up_to_date
    finally:
        for conn in connections:
            await conn.close()


async def test_an_edited_applied_migration_is_refused(empty_database_url: str) -> None:
    known = migrations.discover()
    conn = await asyncpg.connect(empty_database_url)
    try:
        await migrations.migrate(conn, known)
        edited = (replace(known[0], sql=known[0].sql + "\n-- tweak\n"), *known[1:])
        with pytest.raises(MigrationError, match="0001"):
            await migrations.migrate(conn, edited)
        assert (await migrations.status(conn, edited)).edited == (1,)
    finally:
        await conn.close()


async def test_a_failing_migration_writes_nothing(empty_database_url: str) -> None:
    good = Migration(1, "good", "CREATE TABLE first (x int);")
    bad = Migration(2, "bad", "CREATE TABLE second (x int); SELECT no_such_function();")
    conn = await asyncpg.connect(empty_database_url)
    try:
        with pytest.raises(asyncpg.UndefinedFunctionError):
            await migrations.migrate(conn, (good, bad))
        assert await conn.fetchval("SELECT to_regclass('first') IS NOT NULL")
        assert not await conn.fetchval("SELECT to_regclass('second') IS NOT NULL")
        versions = await conn.fetch("SELECT version FROM schema_migrations")
        assert [r["version"] for r in versions] == [1]
        # The lock was released: another runner can proceed.
        assert await conn.fetchval("SELECT pg_try_advisory_lock($1)", migrations.MIGRATION_LOCK_ID)
    finally:
        await conn.close()


def test_discovery_is_ordered_and_refuses_bad_names(tmp_path: Path) -> None:
    (tmp_path / "0002_second.sql").write_text("SELECT 2;")
    (tmp_path / "0001_first.sql").write_text("SELECT 1;")
    assert [m.version for m in migrations.discover(tmp_path)] == [1, 2]  # type: ignore[arg-type]
    (tmp_path / "3_bad.sql").write_text("SELECT 3;")
    with pytest.raises(MigrationError, match=r"0001_name\.sql"):
        migrations.discover(tmp_path)  # type: ignore[arg-type]


def test_shipped_migrations_are_numbered_without_gaps() -> None:
    versions = [m.version for m in migrations.discover()]
    assert versions == list(range(1, len(versions) + 1))


async def test_a_process_that_may_not_migrate_waits_for_the_schema(empty_database_url: str, tmp_path: Path) -> None:
    """A pod of a new release (IDV_MIGRATE_ON_START=false) starts before the migration Job has
    finished: it waits for the schema, and is up the moment the Job is done."""
    from service.runtime import Runtime
    from service.settings import load_settings
    from tests.conftest import environment_for_tests

    settings = load_settings(environment_for_tests(tmp_path, IDV_MIGRATE_ON_START="false", IDV_SCHEMA_WAIT="60s"))

    async def start() -> bool:
        async with Runtime.open(settings, empty_database_url) as runtime, runtime.database.connection() as conn:
            return (await migrations.status(conn, runtime.migrations)).up_to_date

    starting = asyncio.create_task(start())
    await asyncio.sleep(3)
    assert not starting.done()  # waiting, not failing
    job = await asyncpg.connect(empty_database_url)
    try:
        await migrations.migrate(job, migrations.discover())
    finally:
        await job.close()
    assert await asyncio.wait_for(starting, 30) is True


async def test_a_schema_that_never_arrives_is_an_error(empty_database_url: str, tmp_path: Path) -> None:
    from service.runtime import Runtime
    from service.settings import load_settings
    from tests.conftest import environment_for_tests

    settings = load_settings(environment_for_tests(tmp_path, IDV_MIGRATE_ON_START="false", IDV_SCHEMA_WAIT="1s"))
    with pytest.raises(MigrationError, match="idv migrate"):
        async with Runtime.open(settings, empty_database_url):
            pass
