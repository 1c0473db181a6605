"""Registrations nobody verified are erased after IDV_UNVERIFIED_ACCOUNT_LIFETIME, freeing their
identifiers; verified accounts, and pending ones still within the lifetime, are kept."""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg
import httpx

from service.jobs.runner import ScheduledJob
from service.lifecycle.capability import CAPABILITY
from service.lifecycle.retention import own_clocks
from service.lifecycle.unverified import erase_unverified
from service.runtime import Runtime
from tests.arrange.contacts import verify_email
from tests.helpers import STRONG_PASSWORD, bearer, register, registration


async def age(db: asyncpg.Connection, account_id: str, days: int) -> None:
    """As if the account had registered ``days`` ago (the state history is append-only to the service's
    role: the owner's connection rewrites it)."""
    interval = timedelta(days=days)
    async with db.transaction():
        await db.execute("SET LOCAL session_replication_role = replica")
        await db.execute(
            "UPDATE accounts SET created_at = created_at - $2::interval WHERE id = $1", uuid.UUID(account_id), interval
        )
        await db.execute(
            "UPDATE account_state_changes SET at = at - $2::interval WHERE account_id = $1",
            uuid.UUID(account_id),
            interval,
        )


async def state(db: asyncpg.Connection, account_id: str) -> str:
    value: str = await db.fetchval("SELECT state FROM accounts WHERE id = $1", uuid.UUID(account_id))
    return value


async def test_an_expired_unverified_account_is_erased_and_frees_its_email(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection, owner_db: asyncpg.Connection
) -> None:
    squatter = await register(client, username=None, phone=None)
    client.cookies.clear()
    # Taken while the squatter's account lives.
    taken = await client.post("/v1/registrations", json=registration(username=None, phone=None))
    assert taken.status_code == 409
    await age(owner_db, squatter["account_id"], 8)
    due = {line.category: line.due_now for line in await own_clocks(db, runtime.settings)}
    assert due["unverified_accounts"] == 1
    assert await erase_unverified(runtime) == 1
    assert await state(db, squatter["account_id"]) == "erased"
    assert (await client.get("/v1/sessions/whoami", headers=bearer(squatter["session"]["token"]))).status_code == 401
    # The address is free: its owner registers it now.
    owner = await client.post("/v1/registrations", json=registration(username=None, phone=None))
    assert owner.status_code == 201, owner.text
    assert owner.json()["account_id"] != squatter["account_id"]
    due = {line.category: line.due_now for line in await own_clocks(db, runtime.settings)}
    assert due["unverified_accounts"] == 0
    assert await erase_unverified(runtime) == 0


async def test_verified_and_young_accounts_are_kept(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection, owner_db: asyncpg.Connection
) -> None:
    verified = await register(client)
    await verify_email(client, runtime, bearer(verified["session"]["token"]), "bruce@example.com")
    await age(owner_db, verified["account_id"], 30)
    young = await register(client, email="young@example.com", username="young_one", phone=None)
    await age(owner_db, young["account_id"], 6)
    assert await erase_unverified(runtime) == 0
    assert await state(db, verified["account_id"]) == "active"
    assert await state(db, young["account_id"]) == "pending_verification"
    client.cookies.clear()
    signed_in = await client.post("/v1/sessions", json={"identifier": "young@example.com", "password": STRONG_PASSWORD})
    assert signed_in.status_code == 201


async def test_the_erasure_job_sweeps_them(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection, owner_db: asyncpg.Connection
) -> None:
    squatter = await register(client, username=None, phone=None)
    await age(owner_db, squatter["account_id"], 8)
    jobs: list[ScheduledJob] = [schedule(runtime) for schedule in CAPABILITY.schedules]
    (job,) = [job for job in jobs if job.name == "lifecycle.erase_due"]
    await job.run()
    assert await state(db, squatter["account_id"]) == "erased"
