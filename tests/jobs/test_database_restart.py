"""PostgreSQL restarts under a burst of registrations; the job runner rides it out.

A server of the test's own is stopped and started again (the session's server is shared) while
registrations keep coming, each queueing one e-mail with its code. Neither `idv worker` nor the
runner inside `idv serve --with-worker` may exit; each reports not ready while the database is away
and ready again once it is back; and every message queued is delivered exactly once: as many outbox
lines as `courier_messages` rows, every row `sent`, every recipient once.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest

from service.app import create_asgi
from service.database import migrations
from service.database.embedded import EmbeddedPostgres, free_port
from service.database.local import prepare_embedded
from service.runtime import Runtime
from service.settings import load_settings
from tests.conftest import environment_for_tests
from tests.helpers import registration

ROOT = Path(__file__).resolve().parents[2]
DATABASE = "idv"
OUTAGE_SECONDS = 4.0

pytestmark = pytest.mark.slow

Register = Callable[[dict[str, object]], Awaitable[int]]


async def _migrated(server: EmbeddedPostgres) -> None:
    await prepare_embedded(server, DATABASE)
    conn = await asyncpg.connect(server.dsn(DATABASE))
    try:
        await migrations.migrate(conn, migrations.discover())
    finally:
        await conn.close()


async def _status(url: str) -> int | None:
    try:
        async with httpx.AsyncClient(timeout=2) as probe:
            return (await probe.get(url)).status_code
    except httpx.HTTPError:
        return None


async def _until(
    check: Callable[[], Awaitable[bool]], what: str, process: asyncio.subprocess.Process, log: Path, seconds: float
) -> float:
    """Seconds until ``check()`` holds; fails if idv exits meanwhile."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        assert process.returncode is None, f"idv exited ({process.returncode}) waiting for {what}:\n{log.read_text()}"
        if await check():
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}:\n{log.read_text()}")


class Burst:
    """Registrations one after another, whatever the database's state, counting the accepted ones."""

    def __init__(self, register: Register) -> None:
        self.register = register
        self.accepted = 0
        self.refused = 0
        self._numbers = itertools.count()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while not self._stop.is_set():
            n = next(self._numbers)
            body = registration(email=f"burst{n}@example.com", username=f"burst_{n}", phone=None)
            try:
                status = await self.register(body)
            except (httpx.HTTPError, OSError):
                status = 0
            if status == 201:
                self.accepted += 1
            else:
                self.refused += 1
                await asyncio.sleep(0.1)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self._stop.set()
        assert self._task is not None
        await self._task


@asynccontextmanager
async def in_process_api(settings_env: dict[str, str], dsn: str) -> AsyncIterator[Register]:
    """The API in this process (the worker under test is the subprocess)."""
    settings = load_settings(settings_env)
    async with Runtime.open(settings, dsn, apply_migrations=False) as runtime:
        transport = httpx.ASGITransport(app=create_asgi(settings, runtime=runtime), client=("203.0.113.10", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="https://idv.test", timeout=30) as client:

            async def register(body: dict[str, object]) -> int:
                return (await client.post("/v1/registrations", json=body)).status_code

            yield register


@asynccontextmanager
async def api_of(base: str) -> AsyncIterator[Register]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def register(body: dict[str, object]) -> int:
            return (await client.post("/v1/registrations", json=body)).status_code

        yield register


@pytest.mark.parametrize("mode", ["worker", "serve --with-worker"])
async def test_every_queued_message_is_delivered_across_a_postgresql_restart(
    restartable_postgres: EmbeddedPostgres, mode: str
) -> None:
    server = restartable_postgres
    await _migrated(server)
    state_dir = server.root.parent / "state"
    log = server.root.parent / "idv.log"
    port = free_port()
    env = {
        **environment_for_tests(state_dir),
        "DATABASE_URL": server.service_dsn(DATABASE),
        "IDV_MIGRATIONS_DATABASE_URL": server.dsn(DATABASE),
        "IDV_WORKER_HEALTH_PORT": str(port),
    }
    base = f"http://127.0.0.1:{port}"
    args = ["worker"] if mode == "worker" else ["serve", "--with-worker", "--port", str(port)]
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "service", *args, cwd=ROOT, env={**os.environ, **env}, stdout=output, stderr=output
        )
    api: AbstractAsyncContextManager[Register] = (
        in_process_api(env, server.service_dsn(DATABASE)) if mode == "worker" else api_of(base)
    )
    try:

        async def ready() -> bool:
            return await _status(f"{base}/health/ready") == 200

        await _until(ready, "readiness", process, log, 90)
        async with api as register:
            burst = Burst(register)
            burst.start()
            await _until(lambda: asyncio.sleep(0, burst.accepted >= 5), "registrations", process, log, 60)

            server.stop()
            stopped_at = time.monotonic()
            await _until(
                lambda: asyncio.sleep(0, time.monotonic() - stopped_at >= OUTAGE_SECONDS),
                "the outage to last",
                process,
                log,
                OUTAGE_SECONDS + 5,
            )
            assert await _status(f"{base}/health/live") == 200
            assert await _status(f"{base}/health/ready") == 503
            accepted_before = burst.accepted

            server.start()
            recovery = await _until(ready, "readiness after the restart", process, log, 60)
            await _until(
                lambda: asyncio.sleep(0, burst.accepted >= accepted_before + 5),
                "registrations after the restart",
                process,
                log,
                60,
            )
            await burst.stop()

        owner = await asyncpg.connect(server.dsn(DATABASE))
        try:

            async def all_sent() -> bool:
                row = await owner.fetchrow(
                    "SELECT count(*) AS total, count(*) FILTER (WHERE status = 'sent') AS sent FROM courier_messages"
                )
                assert row is not None
                return bool(row["total"] == row["sent"] > 0)

            await _until(all_sent, "every message to be sent", process, log, 90)
            metrics = (await httpx.AsyncClient().get(f"{base}/metrics")).text
            # Stopped (jobs in flight finish first), the worker can deliver nothing more: what is counted
            # and read from the outbox now is all it will ever deliver, duplicates included.
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 60)
            total = await owner.fetchval("SELECT count(*) FROM courier_messages")
            accounts = await owner.fetchval("SELECT count(*) FROM accounts")
        finally:
            await owner.close()
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 60)

    lines = [json.loads(line) for line in (state_dir / "outbox.jsonl").read_text().splitlines()]
    recipients = [line["to"] for line in lines]
    print(
        f"{mode}: ready {recovery:.1f} s after PostgreSQL started; {burst.accepted} registrations accepted, "
        f"{burst.refused} refused; {total} messages, {len(lines)} outbox lines"
    )
    assert total == accounts >= burst.accepted
    # Nothing is lost: every queued message left, each to its own recipient.
    assert len(set(recipients)) == total, "a queued message was never delivered"
    # Delivery is at least once (README, Jobs and the courier). Runs under load saw one or two
    # messages in flight around the outage sent twice: a record that gave up when the reconnecting
    # pool handed out no connection in time, and a cancelled send; both are fixed and tested in
    # tests/courier/test_delivery_once.py. The bound stays the runner's batch of 5 in case the
    # outage finds another way; more would be a bug, not the outage.
    duplicates = len(lines) - total
    assert 0 <= duplicates <= 5, f"{duplicates} messages delivered twice"
    assert "idv_job_runner_up 1.0" in metrics
    assert "idv_job_runner_restarts_total 0.0" not in metrics
    assert "Traceback" not in log.read_text()


async def test_a_worker_started_while_postgresql_is_down_waits_for_it(
    restartable_postgres: EmbeddedPostgres,
) -> None:
    server = restartable_postgres
    await _migrated(server)
    server.stop()
    state_dir = server.root.parent / "state"
    log = server.root.parent / "worker.log"
    port = free_port()
    env = {
        **environment_for_tests(state_dir),
        "DATABASE_URL": server.service_dsn(DATABASE),
        "IDV_MIGRATIONS_DATABASE_URL": server.dsn(DATABASE),
        "IDV_WORKER_HEALTH_PORT": str(port),
    }
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "service", "worker", cwd=ROOT, env={**os.environ, **env}, stdout=output, stderr=output
        )
    try:

        async def live() -> bool:
            return await _status(f"{base}/health/live") == 200

        await _until(live, "liveness", process, log, 60)
        await asyncio.sleep(3)  # the worker keeps trying; it used to exit 1 here
        assert process.returncode is None, log.read_text()
        assert await _status(f"{base}/health/ready") == 503

        server.start()

        async def ready() -> bool:
            return await _status(f"{base}/health/ready") == 200

        await _until(ready, "readiness once PostgreSQL is up", process, log, 60)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        returncode = await asyncio.wait_for(process.wait(), 60)
    assert returncode == 0, log.read_text()
    assert "worker waiting for the database" in log.read_text()
