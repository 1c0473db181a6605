"""A policy published on one replica is in force on every other one within a second.

Two runtimes on one database stand for two pods. Publishing notifies in its transaction; each
runtime listens on a connection of its own, and after that connection is killed it listens again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest

from service.app import create_asgi
from service.audit import Actor
from service.policies.catalog import PolicyKind
from service.policies.publishing import publish
from service.runtime import Runtime
from service.settings import Settings
from tests.helpers import bearer, register

# Listening, and done re-reading the catalogue that follows LISTEN.
LISTENERS = """SELECT pid FROM pg_stat_activity
               WHERE datname = current_database() AND application_name = 'idv-listener'
                 AND state = 'idle' AND query LIKE '%FROM policy_versions%'"""


@pytest.fixture
async def other_pod(settings: Settings, database_url: str) -> AsyncIterator[Runtime]:
    async with Runtime.open(settings, database_url, apply_migrations=False) as opened:
        yield opened


async def publish_major(runtime: Runtime, version: str) -> None:
    today = datetime.now(UTC).date().isoformat()
    source = f"---\ntitle: Privacy Policy\neffective_at: {today}\nmajor: true\n---\n# Privacy\n\nText {version}.\n"
    await publish(
        runtime.database,
        runtime.policies,
        runtime.audit,
        "privacy_policy",
        version,
        source,
        Actor.system("tests"),
    )


async def seen_within(runtime: Runtime, version: str, seconds: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if runtime.policies.find(PolicyKind.PRIVACY_POLICY, version) is not None:
            return time.monotonic() - started
        await asyncio.sleep(0.02)
    return None


async def test_a_major_version_published_on_one_pod_is_required_on_the_other_within_a_second(
    settings: Settings, runtime: Runtime, other_pod: Runtime
) -> None:
    transport = httpx.ASGITransport(app=create_asgi(settings, runtime=other_pod), client=("203.0.113.10", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://idv.test") as other:
        me = bearer((await register(other))["session"]["token"])
        assert (await other.get("/v1/sessions/whoami", headers=me)).json()["consent_required"] is False

        version = datetime.now(UTC).date().isoformat() + ".10"
        await publish_major(runtime, version)
        assert await seen_within(other_pod, version, 1.0) is not None, "the other pod never saw the publication"

        whoami = await other.get("/v1/sessions/whoami", headers=me)
        assert whoami.json()["consent_required"] is True
        blocked = await other.patch("/v1/me", json={"display_name": "Lee"}, headers=me)
        assert blocked.status_code == 403 and blocked.json()["code"] == "consent_required"


async def test_a_listener_whose_connection_is_killed_listens_again(
    runtime: Runtime, other_pod: Runtime, owner_db: asyncpg.Connection
) -> None:
    async def listeners() -> set[int]:
        return {row["pid"] for row in await owner_db.fetch(LISTENERS)}

    async def both_listening(excluding: set[int]) -> bool:
        return len((await listeners()) - excluding) == 2

    started = time.monotonic()
    while not await both_listening(set()):
        assert time.monotonic() - started < 10, "the runtimes never listened"
        await asyncio.sleep(0.05)
    killed = await listeners()
    await owner_db.execute("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", list(killed))

    started = time.monotonic()
    while not await both_listening(killed):
        assert time.monotonic() - started < 10, "the listeners did not come back"
        await asyncio.sleep(0.05)

    version = datetime.now(UTC).date().isoformat() + ".11"
    await publish_major(runtime, version)
    assert await seen_within(other_pod, version, 1.0) is not None, "the other pod missed the publication"
