"""Graceful shutdown as Kubernetes does it: SIGTERM, then the termination grace period.

`idv serve` must stop accepting connections, finish the requests it is answering, and exit before the
grace period ends; `idv worker` must take no new jobs and finish the ones it runs. Each test makes its
work in flight last exactly as long as it needs by holding a PostgreSQL lock on a table that work must
write (as a slow or contended database would), and watches pg_stat_activity until the work is blocked
there: no sleeps decide whether something is in flight.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from service.database.embedded import free_port
from tests.conftest import environment_for_tests, traversable_tmpdir
from tests.helpers import registration

ROOT = Path(__file__).resolve().parents[1]

# `idv serve --graceful-seconds` and the manifests' terminationGracePeriodSeconds allow this long.
GRACE_SECONDS = 25
# A clean stop: 0, or 128 + SIGTERM, which `idv serve` uses on purpose: uvicorn re-raises SIGTERM after
# draining and the command turns it into SystemExit so the embedded database is stopped (service/cli.py).
CLEAN_EXITS = (0, 128 + signal.SIGTERM)

pytestmark = pytest.mark.slow


@pytest.fixture
def state_dir() -> Iterator[Path]:
    root = traversable_tmpdir("idv-shutdown-")
    yield root / "state"
    shutil.rmtree(root, ignore_errors=True)


def service_environment(state_dir: Path, database_url: str, owner_database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        **environment_for_tests(state_dir),
        "DATABASE_URL": database_url,
        "IDV_MIGRATIONS_DATABASE_URL": owner_database_url,
    }


async def start_idv(log: Path, env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    with log.open("wb") as output:  # the child keeps its own descriptor
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "service", *args, cwd=ROOT, env=env, stdout=output, stderr=asyncio.subprocess.STDOUT
        )


async def poll(
    check: Callable[[], Awaitable[bool]], what: str, log: Path, process: asyncio.subprocess.Process, seconds: float = 60
) -> None:
    """Await `check()` until it is true; fail if the process exits or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.returncode is None, f"idv exited ({process.returncode}) waiting for {what}:\n{log.read_text()}"
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}:\n{log.read_text()}")


async def blocked_on_lock(watcher: asyncpg.Connection, table: str) -> bool:
    """A backend of this database waits for a lock in a statement on `table`."""
    count: int = await watcher.fetchval(
        """SELECT count(*) FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%' || $1 || '%'
             AND pid <> pg_backend_pid()""",
        table,
    )
    return count > 0


async def refuses_new_connections(base: str) -> bool:
    """True once a fresh connection is refused or closed unanswered, as after the listener closed."""
    try:
        async with httpx.AsyncClient(base_url=base, timeout=2) as fresh:
            await fresh.get("/health/live")
    except httpx.TransportError:
        return True
    return False


async def test_serve_finishes_the_request_in_flight_refuses_new_ones_and_exits_on_sigterm(
    state_dir: Path, database_url: str, owner_database_url: str
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = state_dir.parent / "serve.log"
    env = service_environment(state_dir, database_url, owner_database_url)
    server = await start_idv(log, env, "serve", "--port", str(port), "--graceful-seconds", str(GRACE_SECONDS))
    owner = await asyncpg.connect(owner_database_url)
    watcher = await asyncpg.connect(owner_database_url)  # pg_stat_activity is frozen inside a transaction
    try:

        async def ready() -> bool:
            try:
                async with httpx.AsyncClient(base_url=base, timeout=2) as probe:
                    return (await probe.get("/health/ready")).status_code == 200
            except httpx.HTTPError:
                return False

        await poll(ready, "readiness", log, server)

        # A registration cannot insert its account while the owner holds this lock.
        lock = owner.transaction()
        await lock.start()
        await owner.execute("LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE")
        async with httpx.AsyncClient(base_url=base, timeout=GRACE_SECONDS + 30) as client:
            in_flight = asyncio.create_task(client.post("/v1/registrations", json=registration()))
            await poll(
                lambda: blocked_on_lock(watcher, "accounts"), "the registration to reach the database", log, server
            )

            server.send_signal(signal.SIGTERM)
            terminated_at = time.monotonic()
            await poll(lambda: refuses_new_connections(base), "the listener to close", log, server, GRACE_SECONDS)
            assert not in_flight.done(), "the request in flight ended before its work could finish"
            assert server.returncode is None, "the server exited while a request was in flight"

            await lock.rollback()
            response = await asyncio.wait_for(in_flight, GRACE_SECONDS)
        assert response.status_code == 201, response.text
        assert response.json()["session"]["token"]

        remaining = GRACE_SECONDS - (time.monotonic() - terminated_at)
        returncode = await asyncio.wait_for(server.wait(), max(remaining, 0.1))
    finally:
        await owner.close()
        await watcher.close()
        if server.returncode is None:
            server.kill()
            await server.wait()
    output = log.read_text()
    assert returncode in CLEAN_EXITS, output
    assert "Application shutdown complete" in output
    assert "Traceback" not in output and '"level":"error"' not in output
    assert await refuses_new_connections(base)


async def test_worker_finishes_the_job_in_flight_and_exits_on_sigterm(
    client: httpx.AsyncClient, state_dir: Path, database_url: str, owner_database_url: str
) -> None:
    # The registration queues an e-mail with its verification code: one courier.deliver job.
    response = await client.post("/v1/registrations", json=registration(phone=None))
    assert response.status_code == 201, response.text

    log = state_dir.parent / "worker.log"
    owner = await asyncpg.connect(owner_database_url)
    watcher = await asyncpg.connect(owner_database_url)
    lock = owner.transaction()
    await lock.start()
    await owner.execute("LOCK TABLE courier_messages IN ACCESS EXCLUSIVE MODE")
    worker = await start_idv(log, service_environment(state_dir, database_url, owner_database_url), "worker")
    try:
        await poll(lambda: blocked_on_lock(watcher, "courier_messages"), "the delivery job to start", log, worker)

        worker.send_signal(signal.SIGTERM)
        terminated_at = time.monotonic()
        # Nothing outside shows that the worker has acted on SIGTERM, so give it a moment to do the
        # wrong thing: a worker that cancelled jobs in flight would exit here. This wait can only make
        # the test pass less strictly, never fail by chance.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.shield(worker.wait()), 1.0)

        await lock.rollback()
        remaining = GRACE_SECONDS - (time.monotonic() - terminated_at)
        returncode = await asyncio.wait_for(worker.wait(), max(remaining, 0.1))
        status = await watcher.fetchval("SELECT status FROM courier_messages")
    finally:
        await owner.close()
        await watcher.close()
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
    output = log.read_text()
    assert returncode == 0, output
    assert status == "sent", output
    assert '"message sent"' in output and "job runner stopped" in output
    assert (state_dir / "outbox.jsonl").read_text().count("\n") == 1
    assert "Traceback" not in output
