"""While PostgreSQL is down the service answers 503 with Retry-After, says it is not ready, logs
a warning now and then rather than a stack per request, and recovers by itself when the
database comes back. The outage is real: a server of this test's own, stopped and started."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from service.app import create_asgi
from service.database import migrations
from service.database.embedded import EmbeddedPostgres
from service.database.local import prepare_embedded
from service.database.pool import database_unavailability
from service.observability.logging import JsonFormatter
from service.runtime import Runtime
from service.settings import Settings
from tests.helpers import bearer, register, registration

PROBLEM = "application/problem+json"


@pytest.fixture
async def outage_client(settings: Settings, restartable_postgres: EmbeddedPostgres) -> AsyncIterator[httpx.AsyncClient]:
    await prepare_embedded(restartable_postgres, "idv")
    owner = await asyncpg.connect(restartable_postgres.dsn("idv"))
    try:
        await migrations.migrate(owner, migrations.discover())
    finally:
        await owner.close()
    async with Runtime.open(settings, restartable_postgres.service_dsn("idv"), apply_migrations=False) as runtime:
        transport = httpx.ASGITransport(app=create_asgi(settings, runtime=runtime), client=("203.0.113.10", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="https://idv.test") as http:
            yield http


async def test_a_database_outage_is_a_503_and_the_service_recovers(
    outage_client: httpx.AsyncClient, restartable_postgres: EmbeddedPostgres, caplog: pytest.LogCaptureFixture
) -> None:
    client = outage_client
    user = bearer((await register(client))["session"]["token"])
    assert (await client.get("/v1/me", headers=user)).status_code == 200
    assert (await client.get("/health/ready")).status_code == 200

    caplog.set_level(logging.INFO)
    await asyncio.to_thread(restartable_postgres.stop)
    assert not restartable_postgres.is_running()
    calls = [
        ("GET", "/v1/sessions/whoami", user, None),  # a signed-in user (the session look-up fails)
        ("GET", "/v1/me", user, None),
        ("POST", "/v1/sessions", {}, {"identifier": "bruce@example.com", "password": "whatever-it-is-1"}),
        ("POST", "/v1/registrations", {}, registration(email="other@example.com", username="other", phone=None)),
    ]
    for method, path, headers, body in calls * 3:
        response = await client.request(method, path, headers=headers, json=body)
        assert response.status_code == 503, (path, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["code"] == "service_unavailable"
        assert int(response.headers["retry-after"]) > 0
    ready = await client.get("/health/ready")
    assert ready.status_code == 503 and ready.json()["code"] == "database_unavailable"

    assert (await client.get("/v1/policies")).status_code == 200  # served from memory
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [(r.name, r.getMessage()) for r in errors]
    logged = [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.levelno >= logging.WARNING]
    assert not [e for e in logged if "stack" in e], logged
    # The requests' warning comes once, not once per request (the policy listener says once,
    # on its own, that it lost its connection).
    ours = [e for e in logged if e["logger"].startswith("service.http")]
    assert len(ours) <= 1, ours
    listener = [e for e in logged if e["logger"] == "service.policies.publishing"]
    assert len(listener) <= 1, listener

    await asyncio.to_thread(restartable_postgres.start)
    assert (await client.get("/health/ready")).status_code == 200
    assert (await client.get("/v1/me", headers=user)).status_code == 200
    assert (
        await client.post("/v1/registrations", json=registration(email="n@example.com", username="n_n", phone=None))
    ).status_code == 201


async def test_a_connection_lost_under_a_query_counts_as_the_database_being_unavailable(
    owner_database_url: str,
) -> None:
    victim = await asyncpg.connect(owner_database_url)
    killer = await asyncpg.connect(owner_database_url)
    try:
        query = asyncio.create_task(victim.fetchval("SELECT pg_sleep(30)"))
        await asyncio.sleep(0.2)
        await killer.execute("SELECT pg_terminate_backend($1)", victim.get_server_pid())
        with pytest.raises(asyncpg.PostgresError) as lost:  # the server's word: terminated
            await query
        assert database_unavailability(lost.value) is not None, type(lost.value)
        with pytest.raises(asyncpg.InterfaceError) as closed:  # asyncpg's: connection is closed
            await victim.fetchval("SELECT 1")
        assert database_unavailability(closed.value) is not None, type(closed.value)
    finally:
        victim.terminate()
        await killer.close()
    assert database_unavailability(ValueError("a bug")) is None
    assert database_unavailability(OSError("a file, not the database")) is None
