"""Changing one's password: the current one first (throttled), registration's rules for the new
one, every other session ended, and a notice to every verified contact."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx

from service.runtime import Runtime
from tests.arrange.contacts import verify_email
from tests.helpers import STRONG_PASSWORD, bearer, latest_code, outbox, register

NEW_PASSWORD = "quartz-lantern-meadow-58"


async def change(client: httpx.AsyncClient, me: dict[str, str], current: str, new: str) -> httpx.Response:
    return await client.post("/v1/me/password", json={"current_password": current, "new_password": new}, headers=me)


async def sign_in(client: httpx.AsyncClient, password: str) -> httpx.Response:
    return await client.post("/v1/sessions", json={"identifier": "bruce_lee", "password": password})


async def test_a_changed_password_signs_in_and_the_old_one_does_not(client: httpx.AsyncClient) -> None:
    me = bearer((await register(client))["session"]["token"])
    response = await change(client, me, STRONG_PASSWORD, NEW_PASSWORD)
    assert response.status_code == 204, response.text
    assert (await sign_in(client, STRONG_PASSWORD)).status_code == 401
    assert (await sign_in(client, NEW_PASSWORD)).status_code == 201


async def test_every_other_session_ends_and_the_callers_lives(client: httpx.AsyncClient) -> None:
    me = bearer((await register(client))["session"]["token"])
    other = bearer((await sign_in(client, STRONG_PASSWORD)).json()["session"]["token"])
    assert (await client.get("/v1/sessions/whoami", headers=other)).status_code == 200
    assert (await change(client, me, STRONG_PASSWORD, NEW_PASSWORD)).status_code == 204
    assert (await client.get("/v1/sessions/whoami", headers=other)).status_code == 401
    assert (await client.get("/v1/sessions/whoami", headers=me)).status_code == 200


async def test_weak_new_passwords_are_refused_with_the_fields_problem(client: httpx.AsyncClient) -> None:
    me = bearer((await register(client))["session"]["token"])
    for weak, code in (
        ("short", "password_too_short"),
        ("password123", "password_too_common"),
        ("bruce_lee_bruce", "password_contains_personal_info"),
        ("x" * 129, "password_too_long"),
    ):
        response = await change(client, me, STRONG_PASSWORD, weak)
        assert response.status_code == 422, (weak, response.text)
        assert response.json()["errors"] == [
            {"field": "new_password", "code": code, "message": response.json()["errors"][0]["message"]}
        ]
    # Nothing changed.
    assert (await sign_in(client, STRONG_PASSWORD)).status_code == 201


async def test_malformed_bodies_are_422_not_500(client: httpx.AsyncClient) -> None:
    me = bearer((await register(client))["session"]["token"])
    for body in (
        {},
        {"current_password": STRONG_PASSWORD},
        {"current_password": 5, "new_password": NEW_PASSWORD},
        {"current_password": STRONG_PASSWORD, "new_password": "a\x00bcdefghij"},
        {"current_password": STRONG_PASSWORD, "new_password": "n" * 5000},
    ):
        response = await client.post("/v1/me/password", json=body, headers=me)
        assert response.status_code in (400, 422), (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_it_needs_a_session(client: httpx.AsyncClient) -> None:
    await register(client)
    client.cookies.clear()  # registration's session cookie
    response = await client.post(
        "/v1/me/password", json={"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 401
    assert (await sign_in(client, STRONG_PASSWORD)).status_code == 201


async def test_guessing_the_current_password_is_throttled_like_sign_in(client: httpx.AsyncClient) -> None:
    me = bearer((await register(client))["session"]["token"])
    statuses = [(await change(client, me, f"guess-{i}-wrong", NEW_PASSWORD)).status_code for i in range(6)]
    assert statuses == [403] * 5 + [429]
    # Even the right password waits now: a stolen session does not get around the lock.
    assert (await change(client, me, STRONG_PASSWORD, NEW_PASSWORD)).status_code == 429


async def test_parallel_guesses_never_exceed_the_limit(client: httpx.AsyncClient) -> None:
    me = bearer((await register(client))["session"]["token"])
    responses = await asyncio.gather(*(change(client, me, f"guess-{i}-wrong", NEW_PASSWORD) for i in range(12)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(403) <= 5
    assert set(statuses) <= {403, 429}


async def test_every_verified_contact_is_told_and_no_unverified_one(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    me = bearer((await register(client))["session"]["token"])
    await verify_email(client, runtime, me, "bruce@example.com")  # the phone stays unverified
    await runtime.courier.deliver_queued()
    before = len(outbox(runtime))
    assert (await change(client, me, STRONG_PASSWORD, NEW_PASSWORD)).status_code == 204
    await runtime.courier.deliver_queued()
    sent = outbox(runtime)[before:]
    assert [(m["channel"], m["to"]) for m in sent] == [("email", "bruce@example.com")]
    assert "password" in sent[0]["subject"].lower()
    assert NEW_PASSWORD not in str(sent)
    action = await db.fetchval("SELECT action FROM audit_log WHERE action = 'account.password_changed'")
    assert action == "account.password_changed"


async def test_both_verified_contacts_are_told(client: httpx.AsyncClient, runtime: Runtime) -> None:
    me = bearer((await register(client))["session"]["token"])
    await verify_email(client, runtime, me, "bruce@example.com")
    code = await latest_code(runtime, "sms", "+8613812345678")
    assert (await client.post("/v1/contacts/phone/verify", json={"code": code}, headers=me)).status_code == 200
    before = len(outbox(runtime))
    assert (await change(client, me, STRONG_PASSWORD, NEW_PASSWORD)).status_code == 204
    await runtime.courier.deliver_queued()
    assert sorted(m["channel"] for m in outbox(runtime)[before:]) == ["email", "sms"]
