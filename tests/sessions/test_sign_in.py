"""Sign-in: identifiers, uniform failures, atomic throttling, and password-hash upgrades."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from service.app import create_asgi
from service.runtime import Runtime
from service.settings import Settings, load_settings
from tests.arrange.contacts import verify_email
from tests.conftest import environment_for_tests
from tests.helpers import STRONG_PASSWORD, bearer, outbox, register


async def sign_in(
    client: httpx.AsyncClient, identifier: str, password: str = STRONG_PASSWORD, **extra: str
) -> httpx.Response:
    return await client.post("/v1/sessions", json={"identifier": identifier, "password": password, **extra})


@pytest.mark.parametrize(
    "identifier", ["bruce@example.com", "BRUCE@Example.COM", "+8613812345678", "138 1234 5678", "Bruce_Lee"]
)
async def test_sign_in_with_any_identifier(client: httpx.AsyncClient, identifier: str) -> None:
    registered = await register(client)
    response = await sign_in(client, identifier)
    assert response.status_code == 201, response.text
    whoami = await client.get("/v1/sessions/whoami", headers=bearer(response.json()["session"]["token"]))
    assert whoami.json()["account_id"] == registered["account_id"]
    # Sign-in answers in registration's shape: whose session, its state, and the session.
    assert set(response.json()) == {"account_id", "state", "session"}
    assert set(response.json()["session"]) == set(registered["session"]) == {"session_id", "token", "expires_at"}
    assert response.json()["account_id"] == registered["account_id"]
    assert whoami.json()["assurance"]["level"] == 1


async def test_passwords_are_compared_after_unicode_normalization(client: httpx.AsyncClient) -> None:
    await register(client, password="ｆｕｌｌｗｉｄｔｈ-ｐａｓｓ-７７")  # full-width forms
    assert (await sign_in(client, "bruce_lee", "fullwidth-pass-77")).status_code == 201


async def test_wrong_password_and_unknown_identifier_get_the_same_answer(client: httpx.AsyncClient) -> None:
    await register(client)
    wrong = await sign_in(client, "bruce@example.com", "not-the-password-42")
    unknown = await sign_in(client, "nobody@example.com", "not-the-password-42")
    assert wrong.status_code == unknown.status_code == 401
    strip = lambda r: {k: v for k, v in r.json().items() if k != "request_id"}  # noqa: E731
    assert (
        strip(wrong)
        == strip(unknown)
        == {
            "type": "urn:idv:problem:invalid_credentials",
            "title": "The identifier or password is wrong",
            "status": 401,
            "code": "invalid_credentials",
        }
    )


@pytest.fixture
async def production_cost_client(tmp_path: Path, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = load_settings(environment_for_tests(tmp_path, IDV_ARGON2_MEMORY_KIB="19456", IDV_ARGON2_TIME_COST="2"))
    async with Runtime.open(settings, database_url, apply_migrations=False) as runtime:
        transport = httpx.ASGITransport(app=create_asgi(settings, runtime=runtime), client=("198.51.100.7", 1))
        async with httpx.AsyncClient(transport=transport, base_url="https://idv.test") as client:
            yield client


async def test_unknown_identifiers_cost_as_much_time_as_known_ones(production_cost_client: httpx.AsyncClient) -> None:
    client = production_cost_client
    await register(client)

    async def timed(identifier: str) -> float:
        started = time.perf_counter()
        assert (await sign_in(client, identifier, "not-the-password-42")).status_code == 401
        return time.perf_counter() - started

    known, unknown = [], []
    for i in range(4):  # below the five free attempts per person
        known.append(await timed("bruce@example.com"))
        unknown.append(await timed(f"ghost{i}@example.com"))
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.6 < ratio < 1.6, f"known {known}, unknown {unknown}"
    assert statistics.median(known) > 0.005, "argon2id with production cost should take milliseconds"


async def _failure_reasons(db: asyncpg.Connection) -> list[str]:
    rows = await db.fetch("SELECT details FROM audit_log WHERE action = 'session.sign_in_failed' ORDER BY id")
    return [json.loads(row["details"])["reason"] for row in rows]


async def test_parallel_wrong_passwords_never_exceed_the_limit(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    await register(client)
    responses = await asyncio.gather(*(sign_in(client, "bruce@example.com", f"wrong-guess-{i}-x") for i in range(20)))
    # A held-back person is answered as a wrong password is (a 429 would link identifiers), but only
    # five passwords were ever checked.
    assert {(r.status_code, r.json()["code"]) for r in responses} == {(401, "invalid_credentials")}
    assert sorted(await _failure_reasons(db)) == ["invalid_credentials"] * 5 + ["locked"] * 15

    # Even the right password waits out the back-off...
    assert (await sign_in(client, "bruce@example.com")).status_code == 401
    # ...and once it has passed, succeeds and clears the count.
    await db.execute("UPDATE sign_in_throttle SET next_allowed_at = now() - interval '1 second'")
    assert (await sign_in(client, "bruce@example.com")).status_code == 201
    failures = await db.fetchval("SELECT failures FROM sign_in_throttle WHERE free_attempts = 5")
    assert failures is None


async def test_a_lock_does_not_link_an_accounts_identifiers(
    client: httpx.AsyncClient, db: asyncpg.Connection, runtime: Runtime
) -> None:
    """Five wrong passwords on the e-mail, then the username: the answer is the one an unknown
    identifier gets, so nobody learns that the two belong together."""
    await register(client)
    for i in range(5):
        assert (await sign_in(client, "bruce@example.com", f"wrong-guess-{i}-x")).status_code == 401
    strip = lambda r: {k: v for k, v in r.json().items() if k != "request_id"}  # noqa: E731
    linked = await sign_in(client, "bruce_lee", "wrong-guess-9-x")
    stranger = await sign_in(client, "nobody_here", "wrong-guess-9-x")
    assert (linked.status_code, linked.headers.get("retry-after")) == (stranger.status_code, None) == (401, None)
    assert strip(linked) == strip(stranger)
    assert [m for m in outbox(runtime) if m.get("subject") == "Sign-in to your account is paused"] == []


async def test_the_owner_is_told_once_when_guessing_from_many_addresses_locks_them_out(
    settings: Settings, runtime: Runtime, client: httpx.AsyncClient
) -> None:
    me = bearer((await register(client))["session"]["token"])
    await verify_email(client, runtime, me, "bruce@example.com")
    # Twenty failures, four from each of five addresses: no address is held back, the person is.
    for address in range(5):
        async with client_at(settings, runtime, f"198.51.100.{address + 1}") as guesser:
            for i in range(4):
                assert (await sign_in(guesser, "bruce_lee", f"wrong-guess-{i}-x")).status_code == 401
    async with client_at(settings, runtime, "198.51.100.99") as guesser:
        for i in range(3):
            assert (await sign_in(guesser, "bruce@example.com", f"wrong-guess-{i}-y")).status_code == 401
    assert (await sign_in(client, "bruce_lee")).status_code == 401  # the owner too, until the lock passes
    await runtime.courier.deliver_queued()
    told = [m for m in outbox(runtime) if m.get("subject") == "Sign-in to your account is paused"]
    assert [m["to"] for m in told] == ["bruce@example.com"]


async def test_unknown_identifiers_are_throttled_like_accounts(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    responses = [await sign_in(client, "ghost@example.com", "wrong-guess-x") for _ in range(7)]
    assert [r.status_code for r in responses] == [401] * 7
    assert await _failure_reasons(db) == ["invalid_credentials"] * 5 + ["locked"] * 2


async def test_a_held_back_address_is_told_so(client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    """The address counter names no account, so its 429 reveals nothing and saves guessers' hashes."""
    for i in range(100):
        assert (await sign_in(client, f"ghost{i}@example.com", "wrong-guess-x")).status_code == 401
    held = await sign_in(client, "ghost-last@example.com", "wrong-guess-x")
    assert (held.status_code, held.json()["code"]) == (429, "too_many_attempts")
    assert int(held.headers["retry-after"]) >= 1


async def test_back_off_doubles(client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    await register(client)
    waits = []
    for _ in range(8):
        await db.execute("UPDATE sign_in_throttle SET next_allowed_at = now() - interval '1 second'")
        await sign_in(client, "bruce_lee", "wrong-guess-again")
        waits.append(
            await db.fetchval(
                "SELECT CASE WHEN next_allowed_at = '-infinity' THEN 0"
                " ELSE round(extract(epoch FROM next_allowed_at - updated_at)) END"
                " FROM sign_in_throttle WHERE free_attempts = 5"
            )
        )
    assert [int(w) for w in waits] == [0, 0, 0, 0, 1, 2, 4, 8]


async def test_password_hash_is_upgraded_on_sign_in(
    tmp_path: Path, database_url: str, client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    await register(client)
    assert "m=1024,t=1" in await db.fetchval("SELECT password_hash FROM accounts")
    stronger = load_settings(
        environment_for_tests(tmp_path / "s2", IDV_ARGON2_MEMORY_KIB="2048", IDV_ARGON2_TIME_COST="2")
    )
    async with Runtime.open(stronger, database_url, apply_migrations=False) as runtime:
        transport = httpx.ASGITransport(app=create_asgi(stronger, runtime=runtime))
        async with httpx.AsyncClient(transport=transport, base_url="https://idv.test") as upgraded_client:
            assert (await sign_in(upgraded_client, "bruce_lee")).status_code == 201
    assert "m=2048,t=2" in await db.fetchval("SELECT password_hash FROM accounts")
    assert (await sign_in(client, "bruce_lee")).status_code == 201


async def test_a_signed_out_token_is_refused_everywhere(client: httpx.AsyncClient) -> None:
    body = await register(client)
    auth = bearer(body["session"]["token"])
    out = await client.delete("/v1/sessions/current", headers=auth)
    assert out.status_code == 204
    assert "max-age=0" in out.headers["set-cookie"].lower()
    for method, path, payload in [
        ("GET", "/v1/sessions/whoami", None),
        ("GET", "/v1/me", None),
        ("PATCH", "/v1/me", {"display_name": "X"}),
        ("GET", "/v1/sessions", None),
        ("DELETE", "/v1/sessions/current", None),
        ("POST", "/v1/me/totp", {"password": STRONG_PASSWORD}),
        ("POST", "/v1/contacts/email/code", None),
    ]:
        response = await client.request(method, path, headers=auth, json=payload)
        assert response.status_code == 401, (method, path)
        assert response.json()["code"] == "unauthenticated"


async def test_idle_and_absolute_timeouts_end_sessions(client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    idle = (await register(client))["session"]
    expired = (await sign_in(client, "bruce_lee")).json()["session"]
    await db.execute("UPDATE sessions SET last_seen_at = now() - interval '25 hours' WHERE id = $1", idle["session_id"])
    await db.execute(
        "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1", expired["session_id"]
    )
    assert (await client.get("/v1/sessions/whoami", headers=bearer(idle["token"]))).status_code == 401
    assert (await client.get("/v1/sessions/whoami", headers=bearer(expired["token"]))).status_code == 401
    fresh = (await sign_in(client, "bruce_lee")).json()["session"]
    assert (await client.get("/v1/sessions/whoami", headers=bearer(fresh["token"]))).status_code == 200


async def test_see_and_end_ones_own_sessions(client: httpx.AsyncClient) -> None:
    first = bearer((await register(client))["session"]["token"])
    other = await sign_in(client, "bruce_lee")
    second = bearer(other.json()["session"]["token"])
    listed = (await client.get("/v1/sessions", headers=first)).json()
    assert len(listed) == 2
    assert [s["current"] for s in listed].count(True) == 1
    assert {s["client_address"] for s in listed} == {"203.0.113.10"}

    ended = await client.delete(f"/v1/sessions/{other.json()['session']['session_id']}", headers=first)
    assert ended.status_code == 204
    assert (await client.get("/v1/sessions/whoami", headers=second)).status_code == 401
    again = await client.delete(f"/v1/sessions/{other.json()['session']['session_id']}", headers=first)
    assert again.status_code == 404 and again.json()["code"] == "session_not_found"


async def test_someone_elses_session_cannot_be_ended(client: httpx.AsyncClient) -> None:
    mine = bearer((await register(client))["session"]["token"])
    theirs = await register(client, username="someone", email="someone@example.com", phone="+8613912345678")
    response = await client.delete(f"/v1/sessions/{theirs['session']['session_id']}", headers=mine)
    assert response.status_code == 404
    assert (await client.get("/v1/sessions/whoami", headers=bearer(theirs["session"]["token"]))).status_code == 200


async def test_cookie_sessions_work_and_refuse_foreign_origins(client: httpx.AsyncClient) -> None:
    await register(client)  # the client keeps the cookie
    assert (await client.get("/v1/sessions/whoami")).status_code == 200
    ours = await client.patch("/v1/me", json={"display_name": "Lee"}, headers={"origin": "https://idv.test"})
    assert ours.status_code == 200
    foreign = await client.patch("/v1/me", json={"display_name": "Mallory"}, headers={"origin": "https://evil.example"})
    assert foreign.status_code == 403 and foreign.json()["code"] == "origin_not_allowed"


async def test_whoami_answers_with_headers_for_the_gateway(client: httpx.AsyncClient) -> None:
    body = await register(client)
    response = await client.get("/v1/sessions/whoami", headers=bearer(body["session"]["token"]))
    assert response.headers["x-idv-account-id"] == body["account_id"]
    assert response.headers["x-idv-account-state"] == "pending_verification"
    assert response.headers["x-idv-assurance-level"] == "1"
    assert response.headers["cache-control"] == "no-store"
    assert (await client.get("/v1/sessions/whoami", headers=bearer("idv_" + "x" * 43))).status_code == 401
    assert (await client.get("/v1/sessions/whoami", headers={"authorization": "Basic eDp5"})).status_code == 401


async def test_tokens_are_stored_only_as_digests(client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    import hashlib

    token = (await register(client))["session"]["token"]
    digest = await db.fetchval("SELECT token_digest FROM sessions")
    assert digest == hashlib.sha256(token.encode()).digest()


def client_at(settings: Settings, runtime: Runtime, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_asgi(settings, runtime=runtime), client=(address, 1))
    return httpx.AsyncClient(transport=transport, base_url="https://idv.test")


async def test_parallel_right_passwords_from_one_address_all_succeed(client: httpx.AsyncClient) -> None:
    for i in range(12):
        await register(client, username=f"office_{i}", email=f"office{i}@example.com", phone=None)
    responses = await asyncio.gather(*(sign_in(client, f"office_{i}") for i in range(12)))
    assert [r.status_code for r in responses] == [201] * 12


async def test_successes_do_not_count_against_the_address(client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    await register(client)
    for _ in range(6):
        assert (await sign_in(client, "bruce_lee")).status_code == 201
    assert await db.fetchval("SELECT failures FROM sign_in_throttle WHERE free_attempts = 100") == 0


async def test_a_guesser_elsewhere_does_not_lock_the_owner_out(
    client: httpx.AsyncClient, settings: Settings, runtime: Runtime
) -> None:
    await register(client)
    async with client_at(settings, runtime, "198.51.100.66") as attacker:
        statuses = [(await sign_in(attacker, "bruce_lee", f"guess-{i}-wrong")).status_code for i in range(7)]
    assert statuses == [401] * 7
    assert (await sign_in(client, "bruce_lee")).status_code == 201


async def test_a_refused_attempt_costs_nothing_on_the_other_counters(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    await register(client)
    for i in range(5):
        await sign_in(client, "bruce_lee", f"guess-{i}-wrong")
    before = await db.fetchval("SELECT failures FROM sign_in_throttle WHERE free_attempts = 100")
    assert (await sign_in(client, "bruce_lee", "guess-x-wrong")).status_code == 401
    assert await db.fetchval("SELECT failures FROM sign_in_throttle WHERE free_attempts = 100") == before


async def test_forged_cross_site_posts_are_refused(client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    await register(client)
    # An HTML form can post text/plain across sites without a preflight.
    body = '{"identifier":"bruce_lee","password":"violet-harbour-tractor-' + "=" + '91"}'
    form = await client.post("/v1/sessions", content=body, headers={"content-type": "text/plain"})
    assert form.status_code == 415 and form.json()["code"] == "unsupported_media_type"
    foreign = await client.post(
        "/v1/sessions",
        json={"identifier": "bruce_lee", "password": STRONG_PASSWORD},
        headers={"origin": "https://evil.example"},
    )
    assert foreign.status_code == 403 and foreign.json()["code"] == "origin_not_allowed"
    ours = await client.post(
        "/v1/sessions",
        json={"identifier": "bruce_lee", "password": STRONG_PASSWORD},
        headers={"origin": "https://idv.test"},
    )
    assert ours.status_code == 201
    registration_elsewhere = await client.post(
        "/v1/registrations", json={"display_name": "x"}, headers={"origin": "https://evil.example"}
    )
    assert registration_elsewhere.status_code == 403


async def test_configured_front_ends_may_call_across_origins(tmp_path: Path, database_url: str) -> None:
    settings = load_settings(environment_for_tests(tmp_path, IDV_ALLOWED_ORIGINS="https://app.example"))
    async with Runtime.open(settings, database_url, apply_migrations=False) as runtime:
        app_client = client_at(settings, runtime, "192.0.2.9")
        async with app_client:
            await register(app_client)
            response = await app_client.post(
                "/v1/sessions",
                json={"identifier": "bruce_lee", "password": STRONG_PASSWORD},
                headers={"origin": "https://app.example"},
            )
    assert response.status_code == 201
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    assert response.headers["access-control-allow-credentials"] == "true"
