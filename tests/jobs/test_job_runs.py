"""Scheduled jobs' runs are recorded in the database (whichever replica ran them), listed by
`idv jobs list`, and `idv jobs run NAME` runs one now through the same code as the schedule."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import httpx
import pytest

from service.jobs.catalog import scheduled_jobs
from service.jobs.runner import ScheduledJob
from service.jobs.runs import Trigger, last_runs, recorded
from service.runtime import Runtime
from tests.arrange.lifecycle import cancel_now_due
from tests.arrange.people import person
from tests.conftest import environment_for_tests

ROOT = Path(__file__).resolve().parents[2]


async def test_each_run_is_recorded_with_its_outcome(runtime: Runtime, db: asyncpg.Connection) -> None:
    (erasure,) = [job for job in scheduled_jobs(runtime) if job.name == "lifecycle.erase_due"]
    await erasure.run()

    class Broken(Exception):
        pass

    async def fails() -> None:
        raise Broken("a message that may quote personal data")

    with pytest.raises(Broken):
        await recorded(runtime.database, ScheduledJob("test.broken", "* * * * *", fails), Trigger.SCHEDULE).run()

    runs = await last_runs(db)
    ran = runs["lifecycle.erase_due"]
    assert (ran.outcome, ran.trigger, ran.error) == ("succeeded", "schedule", None)
    assert ran.finished_at is not None and ran.last_succeeded_at == ran.finished_at
    broken = runs["test.broken"]
    assert (broken.outcome, broken.error, broken.last_succeeded_at) == ("failed", "Broken", None)


async def test_idv_jobs_run_and_list(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection, database_url: str, tmp_path: Path
) -> None:
    account_id, me = await person(client, runtime)
    await cancel_now_due(client, db, me)
    env = {**os.environ, **environment_for_tests(tmp_path / "state"), "DATABASE_URL": database_url}

    async def idv(*args: str) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "service", "jobs", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    ran = await idv("run", "lifecycle.erase_due")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert await db.fetchval("SELECT state FROM accounts WHERE id = $1", account_id) == "erased"
    unknown = await idv("run", "lifecycle.erase_everyone")
    assert unknown.returncode == 1 and "lifecycle.erase_due" in unknown.stderr

    listed = await idv("list")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    lines = {line.split()[0]: line.split() for line in listed.stdout.splitlines()[1:]}
    assert set(lines) == {job.name for job in scheduled_jobs(runtime)}
    assert lines["lifecycle.erase_due"][1:6] == ["*/10", "*", "*", "*", "*"]
    assert lines["lifecycle.erase_due"][8:10] == ["succeeded", "command"]
    assert lines["lifecycle.retention"][6] == "never"
