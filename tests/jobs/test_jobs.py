"""Jobs: transactional enqueue, retries, crash recovery, and the queue schema in migrations."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from pgqueuer import QueueManager
from pgqueuer.queries import Queries

from service.app import create_litestar
from service.jobs import JobDefinition, JobRunner, ScheduledJob, enqueue
from service.jobs.catalog import scheduled_jobs
from service.runtime import Runtime
from service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


async def wait_for(condition: Callable[[], Awaitable[bool]], seconds: float) -> bool:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        if await condition():
            return True
        await asyncio.sleep(0.1)
    return False


class RunningWorker:
    def __init__(
        self, dsn: str, jobs: list[JobDefinition], heartbeat: float = 30, schedules: list[ScheduledJob] | None = None
    ) -> None:
        self.stop = asyncio.Event()
        self.runner = JobRunner(
            dsn,
            jobs,
            schedules or [],
            heartbeat_timeout=timedelta(seconds=heartbeat),
            poll_interval=timedelta(seconds=0.5),
        )
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> RunningWorker:
        self.task = asyncio.create_task(self.runner.run(self.stop))
        await asyncio.wait_for(self.runner.started.wait(), 10)
        return self

    async def __aexit__(self, *_: object) -> None:
        self.stop.set()
        assert self.task is not None
        await asyncio.wait_for(self.task, 20)


async def test_a_committed_job_runs_and_a_rolled_back_one_never_does(runtime: Runtime, database_url: str) -> None:
    seen: list[bytes | None] = []

    async def record(payload: bytes | None) -> None:
        seen.append(payload)

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with runtime.database.transaction() as conn:
            await enqueue(conn, "test.record", None, dedupe_key="rolled-back")
            raise Boom
    async with runtime.database.transaction() as conn:
        await enqueue(conn, "test.record", None, dedupe_key="committed")

    async def drained() -> bool:
        queued = await runtime.database.fetchval("SELECT count(*) FROM pgqueuer WHERE status = 'queued'")
        return bool(seen) and queued == 0

    # Run until nothing is left queued; leaving lets the jobs picked meanwhile finish. A second job,
    # the rolled-back one or the committed one twice, would be queued until it ran, or run before we left.
    async with RunningWorker(database_url, [JobDefinition("test.record", record)]):
        assert await wait_for(drained, 10)
    assert len(seen) == 1
    assert await runtime.database.fetchval("SELECT count(*) FROM pgqueuer") == 0


async def test_a_failing_job_is_retried_with_backoff(runtime: Runtime, database_url: str) -> None:
    attempts: list[float] = []

    async def flaky(_: bytes | None) -> None:
        attempts.append(asyncio.get_running_loop().time())
        if len(attempts) < 3:
            raise RuntimeError("transient")

    async with runtime.database.transaction() as conn:
        await enqueue(conn, "test.flaky")
    job = JobDefinition("test.flaky", flaky, initial_retry_delay=timedelta(seconds=0.2))
    async with RunningWorker(database_url, [job]):
        assert await wait_for(lambda: asyncio.sleep(0, len(attempts) >= 3), 20)
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert len(attempts) == 3
    assert gaps[1] > gaps[0] * 1.3, f"backoff should grow: {gaps}"


@pytest.mark.slow
async def test_a_job_whose_worker_is_killed_runs_again(
    runtime: Runtime, database_url: str, owner_db: asyncpg.Connection
) -> None:
    # Created by the owner; default privileges give the service's role the rest.
    await owner_db.execute("CREATE TABLE job_marks (event text)")
    async with runtime.database.transaction() as conn:
        await enqueue(conn, "test.slow")

    doomed = subprocess.Popen(
        [sys.executable, "-m", "tests.jobs.worker_process", database_url],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:

        async def started() -> bool:
            return bool(await runtime.database.fetchval("SELECT count(*) FROM job_marks"))

        assert await wait_for(started, 30), "the first worker never started the job"
    finally:
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()

    finished = asyncio.Event()

    async def slow(_: bytes | None) -> None:
        finished.set()

    async with RunningWorker(database_url, [JobDefinition("test.slow", slow)], heartbeat=1):
        await asyncio.wait_for(finished.wait(), 30)


async def test_migrations_hold_exactly_the_queue_schema_pgqueuer_expects(db: asyncpg.Connection) -> None:
    queries = Queries.from_asyncpg_connection(db)
    await QueueManager(queries).verify_structure()
    plan = await queries.plan_upgrade()
    assert plan.statements == (), "pgqueuer wants schema changes: add them as a new migration"


async def test_scheduled_work_is_registered_once_however_many_workers_start(
    runtime: Runtime, database_url: str, db: asyncpg.Connection
) -> None:
    schedules = scheduled_jobs(runtime)
    async with (
        RunningWorker(database_url, [], schedules=schedules),
        RunningWorker(database_url, [], schedules=schedules),
    ):

        async def registered() -> bool:
            return bool(await db.fetchval("SELECT count(*) FROM pgqueuer_schedules"))

        assert await wait_for(registered, 10)
    rows = await db.fetch("SELECT entrypoint, expression FROM pgqueuer_schedules ORDER BY entrypoint")
    assert [(r["entrypoint"], r["expression"]) for r in rows] == [
        ("cases.sweep_overdue", "*/15 * * * *"),
        ("face.erase_expired_images", "23 * * * *"),
        ("guardians.daily", "5 16 * * *"),
        ("lifecycle.erase_due", "*/10 * * * *"),
        ("lifecycle.retention", "40 19 * * *"),
        ("qualifications.expire", "7 * * * *"),
        ("tokens.rotate_signing_keys", "*/10 * * * *"),
        ("vault.reindex", "*/10 * * * *"),
        ("vault.rotate_master_keys", "41 * * * *"),
    ]


async def test_the_runner_reconnects_when_the_database_drops_its_connections(
    runtime: Runtime, database_url: str, owner_db: asyncpg.Connection
) -> None:
    seen: list[bytes | None] = []

    async def record(payload: bytes | None) -> None:
        seen.append(payload)

    schedules = scheduled_jobs(runtime)
    async with RunningWorker(database_url, [JobDefinition("test.record", record)], schedules=schedules) as worker:
        # What a failover or an administrator does to a backend: the runner's sessions end under it.
        terminated = await owner_db.fetchval(
            """SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
               WHERE datname = current_database() AND application_name IN ('idv-worker', 'idv-scheduler')"""
        )
        assert terminated == 2
        assert await wait_for(lambda: asyncio.sleep(0, worker.runner.restarts >= 1 and worker.runner.up), 10)
        assert worker.task is not None and not worker.task.done()
        async with runtime.database.transaction() as conn:
            await enqueue(conn, "test.record", None, dedupe_key="after-the-reconnection")
        assert await wait_for(lambda: asyncio.sleep(0, bool(seen)), 10)
    assert worker.runner.restarts == 1
    assert not worker.runner.up


async def test_readiness_of_a_process_that_runs_jobs_follows_its_runner(
    settings: Settings, runtime: Runtime, database_url: str
) -> None:
    app = create_litestar(settings, runtime=runtime)
    worker = RunningWorker(database_url, [])
    app.state.job_runner = worker.runner  # as `idv serve --with-worker` registers its runner
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://idv.test") as client:
        response = await client.get("/health/ready")
        assert response.status_code == 503
        assert response.json()["code"] == "job_runner_down"
        async with worker:
            assert (await client.get("/health/ready")).status_code == 200
        assert (await client.get("/health/ready")).status_code == 503
