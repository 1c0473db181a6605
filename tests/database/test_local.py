"""Finding the development database: from any folder, and where PostgreSQL's OS user can reach it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from service.database import local
from service.database.local import NoDevelopmentDatabase, database_urls
from service.settings import load_settings
from tests.conftest import environment_for_tests, run_sync, traversable_tmpdir

ROOT = Path(__file__).resolve().parents[2]


def test_without_idv_state_dir_every_folder_uses_the_checkouts_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment = environment_for_tests(tmp_path)
    del environment["IDV_STATE_DIR"]
    monkeypatch.chdir(tmp_path)
    assert load_settings(environment).state_dir == ROOT / ".idv"


def test_a_command_on_data_refuses_where_there_is_no_database_instead_of_making_one(tmp_path: Path) -> None:
    state_dir = tmp_path / "elsewhere" / ".idv"
    env = {**os.environ, **environment_for_tests(state_dir)}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "service", "operators", "create", "--email", "a@example.com", "--role", "admin"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert f"no development database in {state_dir / 'pg'}" in result.stderr
    assert "IDV_STATE_DIR" in result.stderr
    assert not (state_dir / "pg").exists()


@pytest.fixture
def fallback(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = traversable_tmpdir("idv-fallback-")
    monkeypatch.setattr(local, "UNREACHABLE_STATE_FALLBACK", root / "clusters")
    yield root / "clusters"
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands PostgreSQL to another OS user")
def test_as_root_a_state_dir_postgres_cannot_traverse_still_gets_a_database(tmp_path: Path, fallback: Path) -> None:
    private = tmp_path / "home"  # like /root: 0700
    private.mkdir(mode=0o700)
    settings = load_settings(environment_for_tests(private / "checkout" / ".idv"))

    async def write(dsn: str) -> None:
        conn = await asyncpg.connect(dsn)
        await conn.execute("CREATE TABLE kept (x int); INSERT INTO kept VALUES (7)")
        await conn.close()

    async def read(dsn: str) -> int:
        conn = await asyncpg.connect(dsn)
        value: int = await conn.fetchval("SELECT x FROM kept")
        await conn.close()
        return value

    with database_urls(settings) as urls:
        run_sync(write(urls.migrations))
    clusters = list(fallback.glob("*/pg/data/PG_VERSION"))
    assert len(clusters) == 1, "the cluster should live where its OS user can reach it"
    assert not (settings.state_dir / "pg").exists()
    # Found again by the server and by the commands that only use an existing database.
    with database_urls(settings, create=False) as urls:
        assert run_sync(read(urls.migrations)) == 7


def test_create_false_names_what_to_do(tmp_path: Path) -> None:
    settings = load_settings(environment_for_tests(tmp_path / ".idv"))
    with pytest.raises(NoDevelopmentDatabase, match="scripts/serve"), database_urls(settings, create=False):
        pass
