"""The notice "sign-in from a new device" (issue 19): through the courier, in the sign-in's transaction."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from service.app import create_asgi
from service.runtime import Runtime
from tests.arrange.contacts import verify_email
from tests.helpers import STRONG_PASSWORD, bearer, outbox, register

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
FIREFOX_NEWER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:134.0) Gecko/20100101 Firefox/134.0"
ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile "
    "Safari/537.36"
)


@pytest.fixture
async def elsewhere(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The same service reached from another network."""
    transport = httpx.ASGITransport(app=create_asgi(runtime.settings, runtime=runtime), client=("198.51.100.23", 1))
    async with httpx.AsyncClient(transport=transport, base_url="https://idv.test") as http:
        yield http


async def _registered(client: httpx.AsyncClient, runtime: Runtime) -> tuple[str, uuid.UUID]:
    """Registered (with Firefox, from 203.0.113.10) and with a verified e-mail."""
    suffix = uuid.uuid4().hex[:8]
    email = f"{suffix}@example.com"
    client.headers["user-agent"] = FIREFOX
    body = await register(client, birth_date="1949-12-31", email=email, username=f"u_{suffix}", phone=None)
    await verify_email(client, runtime, bearer(body["session"]["token"]), email)
    client.cookies.clear()
    return email, uuid.UUID(body["account_id"])


async def _sign_in(client: httpx.AsyncClient, email: str, agent: str, password: str = STRONG_PASSWORD) -> int:
    answer = await client.post(
        "/v1/sessions", json={"identifier": email, "password": password}, headers={"user-agent": agent}
    )
    client.cookies.clear()
    return answer.status_code


async def _notices(db: asyncpg.Connection, account_id: uuid.UUID) -> int:
    return int(
        await db.fetchval(
            "SELECT count(*) FROM courier_messages WHERE owner_id = $1 AND template = 'new_device_sign_in'",
            account_id,
        )
    )


async def test_a_sign_in_from_an_unseen_device_is_told_and_a_known_one_is_not(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection, elsewhere: httpx.AsyncClient
) -> None:
    email, account_id = await _registered(client, runtime)
    # The first sign-in after registration: never a notice, even from another device and network.
    assert await _sign_in(elsewhere, email, ANDROID) == 201
    assert await _notices(db, account_id) == 0
    # Devices the account used: the registration's and the first sign-in's; a browser update is the same device.
    assert await _sign_in(client, email, FIREFOX_NEWER) == 201
    assert await _sign_in(elsewhere, email, ANDROID) == 201
    assert await _notices(db, account_id) == 0
    # The same phone on the first network is a device not seen there: told.
    assert await _sign_in(client, email, ANDROID) == 201
    assert await _notices(db, account_id) == 1
    # ... and, being seen now, not again.
    assert await _sign_in(client, email, ANDROID) == 201
    assert await _notices(db, account_id) == 1

    await runtime.courier.deliver_queued()
    sent = [m for m in outbox(runtime) if m["to"] == email and "new device" in m.get("subject", "")]
    assert len(sent) == 1
    assert "Chrome on Android" in sent[0]["body"] and "203.0.113.0/24" in sent[0]["body"]
    # The full address and user agent are never in the message.
    assert "203.0.113.10" not in sent[0]["body"] and "Pixel 8" not in sent[0]["body"]


async def test_failed_and_refused_sign_ins_from_a_new_device_send_nothing(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection, elsewhere: httpx.AsyncClient
) -> None:
    email, account_id = await _registered(client, runtime)
    assert await _sign_in(client, email, FIREFOX) == 201
    for _ in range(3):
        assert await _sign_in(elsewhere, email, "curl/8.5.0", password="a-wrong-password-1") == 401
    assert await _notices(db, account_id) == 0
    # Someone else's account named from a new device: nothing for anyone.
    assert await _sign_in(elsewhere, "nobody-at-all@example.com", "curl/8.5.0") == 401
    assert await db.fetchval("SELECT count(*) FROM courier_messages WHERE template = 'new_device_sign_in'") == 0


async def test_the_notice_exists_exactly_when_the_session_does(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection, elsewhere: httpx.AsyncClient
) -> None:
    email, account_id = await _registered(client, runtime)
    assert await _sign_in(client, email, FIREFOX) == 201
    statuses = await asyncio.gather(*(_sign_in(elsewhere, email, ANDROID) for _ in range(3)))
    assert statuses == [201, 201, 201]
    sessions_from_there = await db.fetchval("SELECT count(*) FROM sessions WHERE account_id = $1", account_id)
    assert sessions_from_there == 5  # registration, one from here, three from there
    # Parallel sign-ins from one new device may each be told (none sees the others' uncommitted sessions),
    # but never more often than sessions were made, and at least once.
    assert 1 <= await _notices(db, account_id) <= 3
