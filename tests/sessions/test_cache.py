"""Whoami without a database round trip (issue 23): two pods on one database, each with its cache.

A change made through one pod (or straight in the database) is refused or reported by the other
within a second, through the triggers' notifications; a listener that lost its connection drops
the whole cache; the TTL bounds what a lost notification could keep; an idle session is refused
even while cached.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from service.accounts.states import AccountState
from service.accounts.suspension import suspend
from service.app import create_asgi
from service.audit import Actor
from service.consents.ledger import required_acceptances
from service.database.listening import APPLICATION_NAME
from service.runtime import Runtime
from service.sessions.cache import CachedSession, SessionCache
from service.sessions.sessions import Principal
from service.sessions.store import RESOLVE
from service.sessions.tokens import token_digest
from service.settings import Settings, load_settings
from tests.conftest import environment_for_tests
from tests.helpers import STRONG_PASSWORD, bearer, register

WHOAMI = "/v1/sessions/whoami"
Pod = tuple[Runtime, httpx.AsyncClient]


def cached_settings(tmp_path: Path, **overrides: str) -> Settings:
    return load_settings(environment_for_tests(tmp_path / "state", **{"IDV_SESSION_CACHE_TTL": "5s", **overrides}))


@pytest.fixture
def pod_settings(tmp_path: Path) -> Settings:
    return cached_settings(tmp_path)


async def open_pod(settings: Settings, database_url: str) -> AsyncIterator[Pod]:
    async with Runtime.open(settings, database_url, apply_migrations=False) as runtime:
        transport = httpx.ASGITransport(app=create_asgi(settings, runtime=runtime), client=("203.0.113.10", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="https://idv.test") as client:
            await asyncio.wait_for(runtime.listener.listening.wait(), 10)
            yield runtime, client


@pytest.fixture
async def pod_a(pod_settings: Settings, database_url: str) -> AsyncIterator[Pod]:
    async for pod in open_pod(pod_settings, database_url):
        yield pod


@pytest.fixture
async def pod_b(pod_settings: Settings, database_url: str) -> AsyncIterator[Pod]:
    async for pod in open_pod(pod_settings, database_url):
        yield pod


async def within(seconds: float, condition: Callable[[], Awaitable[bool]]) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if await condition():
            return time.monotonic() - started
        await asyncio.sleep(0.02)
    return None


async def cached_on(pod: Pod, me: dict[str, str]) -> None:
    runtime, client = pod
    token = me["authorization"].removeprefix("Bearer ")

    async def cached() -> bool:
        assert (await client.get(WHOAMI, headers=me)).status_code == 200
        return runtime.session_cache.get(token_digest(token), required_acceptances(runtime.policies)) is not None

    # The registration's own notifications may arrive while the first answer is read (not kept then).
    assert await within(2.0, cached) is not None


async def refused_by(pod: Pod, me: dict[str, str], seconds: float = 1.0) -> float | None:
    async def refused() -> bool:
        return (await pod[1].get(WHOAMI, headers=me)).status_code == 401

    return await within(seconds, refused)


async def test_whoami_is_answered_from_the_cache_without_the_database(pod_a: Pod, owner_db: asyncpg.Connection) -> None:
    client = pod_a[1]
    me = bearer((await register(client))["session"]["token"])
    await cached_on(pod_a, me)
    # With the row gone from the table's point of view (and no notification), the cache still answers.
    await owner_db.execute("ALTER TABLE sessions DISABLE TRIGGER sessions_notify_change")
    await owner_db.execute("UPDATE sessions SET ended_at = now()")
    assert (await client.get(WHOAMI, headers=me)).status_code == 200


async def test_a_sign_out_on_one_pod_is_refused_by_the_other_within_a_second(pod_a: Pod, pod_b: Pod) -> None:
    me = bearer((await register(pod_a[1]))["session"]["token"])
    await cached_on(pod_b, me)
    assert (await pod_a[1].delete("/v1/sessions/current", headers=me)).status_code == 204
    assert (await pod_a[1].get(WHOAMI, headers=me)).status_code == 401  # the pod that signed out: at once
    assert await refused_by(pod_b, me) is not None


async def test_a_revoked_session_is_refused_by_the_other_pod_within_a_second(pod_a: Pod, pod_b: Pod) -> None:
    me = bearer((await register(pod_a[1]))["session"]["token"])
    signed_in = await pod_a[1].post("/v1/sessions", json={"identifier": "bruce_lee", "password": STRONG_PASSWORD})
    laptop = bearer(signed_in.json()["session"]["token"])
    await cached_on(pod_b, laptop)
    listed = (await pod_a[1].get("/v1/sessions/", headers=me)).json()
    (laptop_id,) = [s["session_id"] for s in listed if not s["current"]]
    assert (await pod_a[1].delete(f"/v1/sessions/{laptop_id}", headers=me)).status_code == 204
    assert await refused_by(pod_b, laptop) is not None
    assert (await pod_b[1].get(WHOAMI, headers=me)).status_code == 200  # the session that revoked it lives


async def test_a_suspension_on_one_pod_is_refused_by_the_other_within_a_second(pod_a: Pod, pod_b: Pod) -> None:
    me = bearer((await register(pod_a[1]))["session"]["token"])
    await cached_on(pod_b, me)
    account_id = uuid.UUID((await pod_b[1].get(WHOAMI, headers=me)).json()["account_id"])
    async with pod_a[0].database.transaction() as conn:
        assert await suspend(conn, account_id, "repeated_identity_mismatch", Actor.system("tests"), None)
    assert await refused_by(pod_b, me) is not None


async def test_a_state_move_and_doubt_are_reported_by_the_other_pod_within_a_second(
    pod_a: Pod, pod_b: Pod, db: asyncpg.Connection
) -> None:
    me = bearer((await register(pod_a[1]))["session"]["token"])
    await cached_on(pod_b, me)
    account_id = uuid.UUID((await pod_b[1].get(WHOAMI, headers=me)).json()["account_id"])
    await db.execute("UPDATE accounts SET state = 'restricted', in_doubt_since = now() WHERE id = $1", account_id)

    async def restricted() -> bool:
        return (await pod_b[1].get(WHOAMI, headers=me)).json()["state"] == "restricted"

    assert await within(1.0, restricted) is not None


async def test_a_listener_that_reconnects_drops_the_whole_cache(
    pod_a: Pod, pod_b: Pod, owner_db: asyncpg.Connection
) -> None:
    me = bearer((await register(pod_a[1]))["session"]["token"])
    await cached_on(pod_b, me)
    # A change whose notification is lost: only the reconnection can tell the pod.
    await owner_db.execute("ALTER TABLE sessions DISABLE TRIGGER sessions_notify_change")
    await owner_db.execute("UPDATE sessions SET ended_at = now()")
    assert (await pod_b[1].get(WHOAMI, headers=me)).status_code == 200
    killed = await owner_db.fetch(
        """SELECT pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE application_name = $1 AND datname = current_database()""",
        APPLICATION_NAME,
    )
    assert len(killed) == 2
    assert await refused_by(pod_b, me, 15.0) is not None


async def test_without_notifications_the_ttl_bounds_a_stale_answer(
    tmp_path: Path, database_url: str, owner_db: asyncpg.Connection
) -> None:
    async for runtime, client in open_pod(cached_settings(tmp_path, IDV_SESSION_CACHE_TTL="1s"), database_url):
        me = bearer((await register(client))["session"]["token"])
        await cached_on((runtime, client), me)
        await owner_db.execute("ALTER TABLE sessions DISABLE TRIGGER sessions_notify_change")
        await owner_db.execute("UPDATE sessions SET ended_at = now()")
        assert (await client.get(WHOAMI, headers=me)).status_code == 200
        took = await refused_by((runtime, client), me, 3.0)
        assert took is not None and took <= 1.2


async def test_a_cached_session_idle_past_its_timeout_is_refused(tmp_path: Path, database_url: str) -> None:
    settings = cached_settings(
        tmp_path,
        IDV_SESSION_CACHE_TTL="60s",
        IDV_SESSION_IDLE_TIMEOUT="2s",
        IDV_OPERATOR_SESSION_IDLE_TIMEOUT="1s",
    )
    async for runtime, client in open_pod(settings, database_url):
        me = bearer((await register(client))["session"]["token"])
        await cached_on((runtime, client), me)
        await asyncio.sleep(2.2)
        assert (await client.get(WHOAMI, headers=me)).status_code == 401


async def test_a_cached_session_past_its_expiry_is_refused(pod_a: Pod, owner_db: asyncpg.Connection) -> None:
    me = bearer((await register(pod_a[1]))["session"]["token"])
    await cached_on(pod_a, me)
    # An expiry passing is no write, so no notification: the pod checks the cached expiry on each hit.
    await owner_db.execute("ALTER TABLE sessions DISABLE TRIGGER sessions_notify_change")
    past = datetime.now(UTC) - timedelta(seconds=1)
    await owner_db.execute("UPDATE sessions SET expires_at = $1", past)
    (entry,) = list(pod_a[0].session_cache._entries.values())
    object.__setattr__(entry.principal, "expires_at", past)
    assert (await pod_a[1].get(WHOAMI, headers=me)).status_code == 401


async def test_unknown_and_malformed_tokens_are_never_cached(pod_a: Pod) -> None:
    runtime, client = pod_a
    for token in ["x" * 10_000, "idv_" + "A" * 43, "", "Bearer"]:
        response = await client.get(WHOAMI, headers=bearer(token))
        assert response.status_code == 401
    assert len(runtime.session_cache) == 0


async def test_parallel_hits_on_a_stale_session_write_its_activity_once(pod_a: Pod, db: asyncpg.Connection) -> None:
    me = bearer((await register(pod_a[1]))["session"]["token"])
    await cached_on(pod_a, me)
    (entry,) = list(pod_a[0].session_cache._entries.values())
    entry.last_seen_at = datetime.now(UTC) - timedelta(minutes=5)
    before = await db.fetchval("SELECT last_seen_at FROM sessions")
    answers = await asyncio.gather(*(pod_a[1].get(WHOAMI, headers=me) for _ in range(20)))
    assert {a.status_code for a in answers} == {200}
    assert await db.fetchval("SELECT last_seen_at FROM sessions") > before


def principal(account_id: uuid.UUID) -> Principal:
    return Principal(
        session_id=uuid.uuid4(),
        account_id=account_id,
        state=AccountState.ACTIVE,
        assurance=1,
        email_verified=False,
        phone_verified=False,
        totp_enabled=False,
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )


def entry(account_id: uuid.UUID) -> CachedSession:
    return CachedSession(principal(account_id), ([], []), time.monotonic(), datetime.now(UTC))


def test_the_cache_keeps_the_most_recently_used_within_its_bound() -> None:
    cache = SessionCache(timedelta(seconds=5), max_entries=3)
    for n in range(5):
        cache.put(bytes([n]), entry(uuid.uuid4()), cache.generation)
        cache.get(bytes([0]), ([], []))
    assert len(cache) == 3
    assert cache.get(bytes([0]), ([], [])) is not None and cache.get(bytes([1]), ([], [])) is None


def test_an_answer_read_before_a_drop_of_its_account_is_not_kept_after_it() -> None:
    cache = SessionCache(timedelta(seconds=5), max_entries=10)
    account, other = uuid.uuid4(), uuid.uuid4()
    generation = cache.generation  # the query starts
    cache.drop_account(account)  # a notification arrives while it runs
    cache.put(b"d", entry(account), generation)
    assert cache.get(b"d", ([], [])) is None
    cache.put(b"e", entry(other), generation)  # another account's drop does not matter
    assert cache.get(b"e", ([], [])) is not None
    generation = cache.generation
    cache.clear()
    cache.put(b"e", entry(other), generation)
    assert cache.get(b"e", ([], [])) is None


def test_an_answer_for_other_required_consents_or_past_its_ttl_is_not_used() -> None:
    cache = SessionCache(timedelta(seconds=5), max_entries=10)
    cache.put(b"d", entry(uuid.uuid4()), cache.generation)
    assert cache.get(b"d", (["privacy"], ["2"])) is None
    stale = entry(uuid.uuid4())
    stale.cached_at -= 6
    cache.put(b"e", stale, cache.generation)
    assert cache.get(b"e", ([], [])) is None


def test_dropping_an_account_drops_each_of_its_sessions_only() -> None:
    cache = SessionCache(timedelta(seconds=5), max_entries=10)
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    cache.put(b"a", entry(mine), cache.generation)
    cache.put(b"b", entry(mine), cache.generation)
    cache.put(b"c", entry(theirs), cache.generation)
    cache.drop_account(mine)
    assert len(cache) == 1 and cache.get(b"c", ([], [])) is not None


def test_a_zero_ttl_keeps_nothing() -> None:
    cache = SessionCache(timedelta(0), max_entries=10)
    cache.put(b"a", entry(uuid.uuid4()), cache.generation)
    assert len(cache) == 0


def test_a_cache_ttl_past_a_minute_is_refused(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="IDV_SESSION_CACHE_TTL must be at most 60s"):
        cached_settings(tmp_path, IDV_SESSION_CACHE_TTL="61s")


async def test_every_table_whoami_reads_notifies_its_changes(db: asyncpg.Connection) -> None:
    """A table added to the whoami query without a trigger would leave cached answers stale."""
    read = set(re.findall(r"(?:FROM|JOIN)\s+([a-z_]+)\s", RESOLVE)) - {"unnest"}
    assert {"sessions", "accounts", "contacts", "consent_events", "face_verifications"} <= read
    notifying = {
        row["relname"]
        for row in await db.fetch(
            """SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
               JOIN pg_proc p ON p.oid = t.tgfoid WHERE p.proname = 'notify_session_change'"""
        )
    }
    assert read <= notifying, f"no notifying trigger on {read - notifying}"


async def test_recording_activity_does_not_drop_cached_answers(pod_a: Pod, db: asyncpg.Connection) -> None:
    me = bearer((await register(pod_a[1]))["session"]["token"])
    await cached_on(pod_a, me)
    await db.execute("UPDATE sessions SET last_seen_at = now()")
    await asyncio.sleep(0.3)
    assert len(pod_a[0].session_cache) == 1
