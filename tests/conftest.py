"""Test fixtures: one real PostgreSQL per session (per worker when pytest-xdist runs the suite on
several cores: each worker is a session of its own), a fresh database per test.

The server is the same embedded server `idv serve` uses, with fsync off. Migrations run once
into a template database; each test gets a copy of it (CREATE DATABASE ... TEMPLATE), so tests
never see each other's rows and never mock the database.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import shutil
import tempfile
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest

from service.app import create_asgi
from service.database import migrations
from service.database.embedded import EmbeddedPostgres, EmbeddedPostgresError, free_port
from service.database.local import prepare_embedded
from service.runtime import Runtime
from service.settings import Settings, load_settings

# The real face models and embeddings of the shared photos, for tests of verification/face and
# of service/face alike (loaded once per session, when a test asks for them).
pytest_plugins = ["tests.arrange.face_models"]

T = TypeVar("T")

TEMPLATE = "idv_template"
MASTER_KEY = base64.b64encode(bytes(range(32))).decode()
BLIND_INDEX_KEY = base64.b64encode(bytes(range(32, 64))).decode()


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous fixture code, on a private loop."""
    result: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coroutine))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]


def environment_for_tests(state_dir: Path, **overrides: str) -> dict[str, str]:
    env = {
        "IDV_ENV": "test",
        "IDV_STATE_DIR": str(state_dir),
        "IDV_MASTER_KEYS": f"test-1:{MASTER_KEY}",
        "IDV_BLIND_INDEX_KEY": BLIND_INDEX_KEY,
        # Real argon2id, cheaper than production so the suite stays quick; the benchmark and
        # the parameter tests use the production defaults.
        "IDV_ARGON2_MEMORY_KIB": "1024",
        "IDV_ARGON2_TIME_COST": "1",
        "IDV_RATE_REGISTRATIONS_PER_HOUR": "100000",
        "IDV_RATE_SIGN_INS_PER_MINUTE": "100000",
        "IDV_RATE_CODES_PER_MINUTE": "100000",
        "IDV_RATE_UPLOADS_PER_MINUTE": "100000",
        # `idv worker` started by a test serves its probes only where the test asks (a fixed port
        # would collide between tests running side by side).
        "IDV_WORKER_HEALTH_PORT": "0",
        # A write is seen by whoami once its notification arrives (milliseconds, tests/sessions/
        # test_cache.py): tests that change rows and look at once resolve in the database instead.
        "IDV_SESSION_CACHE_TTL": "0",
        # The suite's assertions read the English texts; tests/i18n asks for Chinese explicitly.
        "IDV_DEFAULT_LANGUAGE": "en",
    }
    env.update(overrides)
    return env


def traversable_tmpdir(prefix: str) -> Path:
    """A temporary directory the server's unprivileged OS user can enter (pytest's are 0700)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[EmbeddedPostgres]:
    root = traversable_tmpdir("idv-test-pg-")
    server = EmbeddedPostgres(root / "pg", durable=False)
    server.start()
    try:
        run_sync(prepare_embedded(server, "postgres"))
        run_sync(_create_template(server.dsn()))
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


async def _create_template(admin_dsn: str) -> None:
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {TEMPLATE}")
        await admin.execute(f"CREATE DATABASE {TEMPLATE}")
    finally:
        await admin.close()
    conn = await asyncpg.connect(admin_dsn.rsplit("/", 1)[0] + f"/{TEMPLATE}")
    try:
        await migrations.migrate(conn, migrations.discover())
    finally:
        await conn.close()


@pytest.fixture
def restartable_postgres() -> Iterator[EmbeddedPostgres]:
    """A server of the test's own, which it may stop and start again (the session's is shared): on a
    fixed port, so that URLs taken before a restart still reach it after."""
    root = traversable_tmpdir("idv-restart-")
    # A port found free may be taken before the server binds it (the other xdist worker's tests
    # pick ports too): try another.
    for attempt in range(3):
        server = EmbeddedPostgres(root / "pg", port=free_port(), durable=False)
        try:
            server.start()
            break
        except EmbeddedPostgresError:
            if attempt == 2:
                raise
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


_database_numbers = itertools.count()


@pytest.fixture
def empty_database_url(postgres_server: EmbeddedPostgres) -> Iterator[str]:
    """A database with nothing in it, not even migrations; connects as the owner."""
    for name in _database(postgres_server, template=None):
        yield postgres_server.dsn(name)


@pytest.fixture
def database_name(postgres_server: EmbeddedPostgres) -> Iterator[str]:
    """A fresh, fully migrated database of this test's own."""
    yield from _database(postgres_server, template=TEMPLATE)


@pytest.fixture
def database_url(postgres_server: EmbeddedPostgres, database_name: str) -> str:
    """This test's database as the service connects to it: a member of idv_service."""
    return postgres_server.service_dsn(database_name)


@pytest.fixture
def owner_database_url(postgres_server: EmbeddedPostgres, database_name: str) -> str:
    """This test's database as its owner, a superuser: for what the service may not do."""
    return postgres_server.dsn(database_name)


def _database(server: EmbeddedPostgres, template: str | None) -> Iterator[str]:
    name = f"test_{next(_database_numbers)}"
    clause = f" TEMPLATE {template} STRATEGY FILE_COPY" if template else ""

    async def create() -> None:
        admin = await asyncpg.connect(server.dsn())
        try:
            await admin.execute(f"CREATE DATABASE {name}{clause}")
            if template:
                # Database privileges are not copied from a template; migration 0007 set these.
                await admin.execute(f"REVOKE TEMPORARY ON DATABASE {name} FROM PUBLIC")
        finally:
            await admin.close()

    async def drop() -> None:
        admin = await asyncpg.connect(server.dsn())
        try:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            await admin.close()

    run_sync(create())
    try:
        yield name
    finally:
        run_sync(drop())


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(environment_for_tests(tmp_path / "state"))


@pytest.fixture
async def runtime(settings: Settings, database_url: str) -> AsyncIterator[Runtime]:
    async with Runtime.open(settings, database_url, apply_migrations=False) as opened:
        yield opened


@pytest.fixture
async def client(settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_asgi(settings, runtime=runtime)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.10", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://idv.test") as http:
        yield http


@pytest.fixture
async def db(runtime: Runtime) -> AsyncIterator[asyncpg.Connection]:
    """A plain connection to this test's database, for arranging and inspecting rows."""
    async with runtime.database.connection() as conn:
        yield conn


@pytest.fixture
async def owner_db(owner_database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection as the database's owner (a superuser), for what the service may not do."""
    conn = await asyncpg.connect(owner_database_url)
    try:
        yield conn
    finally:
        await conn.close()
