"""Contact verification codes: single use, five attempts, ten minutes, throttled resends."""

from __future__ import annotations

import asyncpg
import httpx

from service.runtime import Runtime
from tests.helpers import bearer, latest_code, register


async def _signed_up(client: httpx.AsyncClient) -> dict[str, str]:
    body = await register(client)
    return bearer(body["session"]["token"])


async def test_a_verified_contact_activates_the_account(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    auth = await _signed_up(client)
    code = await latest_code(runtime, "email", "bruce@example.com")
    response = await client.post("/v1/contacts/email/verify", json={"code": code}, headers=auth)
    assert response.status_code == 200
    assert response.json() == {"verified": "email", "account_state": "active"}
    whoami = (await client.get("/v1/sessions/whoami", headers=auth)).json()
    assert whoami["state"] == "active"
    assert whoami["assurance"]["email_verified"] is True
    assert whoami["assurance"]["phone_verified"] is False
    history = await db.fetch("SELECT from_state, to_state, event FROM account_state_changes ORDER BY id")
    assert [tuple(r.values()) for r in history][-1] == ("pending_verification", "active", "contact_verified")

    again = await client.post("/v1/contacts/email/verify", json={"code": code}, headers=auth)
    assert again.status_code == 409 and again.json()["code"] == "already_verified"

    phone_code = await latest_code(runtime, "sms", "+8613812345678")
    phone = await client.post("/v1/contacts/phone/verify", json={"code": phone_code}, headers=auth)
    assert phone.json() == {"verified": "phone", "account_state": "active"}


async def test_five_wrong_guesses_burn_the_code(client: httpx.AsyncClient, runtime: Runtime) -> None:
    auth = await _signed_up(client)
    code = await latest_code(runtime, "email", "bruce@example.com")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        response = await client.post("/v1/contacts/email/verify", json={"code": wrong}, headers=auth)
        assert response.status_code == 422 and response.json()["code"] == "code_invalid"
    response = await client.post("/v1/contacts/email/verify", json={"code": code}, headers=auth)
    assert response.status_code == 422 and response.json()["code"] == "code_expired"


async def test_an_expired_code_is_refused(client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection) -> None:
    auth = await _signed_up(client)
    code = await latest_code(runtime, "email", "bruce@example.com")
    await db.execute("UPDATE one_time_codes SET expires_at = now() - interval '1 second'")
    response = await client.post("/v1/contacts/email/verify", json={"code": code}, headers=auth)
    assert response.status_code == 422 and response.json()["code"] == "code_expired"


async def test_resends_are_throttled_and_replace_the_old_code(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    auth = await _signed_up(client)
    old = await latest_code(runtime, "email", "bruce@example.com")
    too_soon = await client.post("/v1/contacts/email/code", headers=auth)
    assert too_soon.status_code == 429
    assert too_soon.json()["code"] == "code_resend_too_soon"
    assert 0 < int(too_soon.headers["retry-after"]) <= 60

    await db.execute("UPDATE one_time_codes SET created_at = created_at - interval '61 seconds'")
    assert (await client.post("/v1/contacts/email/code", headers=auth)).status_code == 202
    new = await latest_code(runtime, "email", "bruce@example.com")
    if new != old:
        stale = await client.post("/v1/contacts/email/verify", json={"code": old}, headers=auth)
        assert stale.json()["code"] in {"code_invalid"}
    assert (await client.post("/v1/contacts/email/verify", json={"code": new}, headers=auth)).status_code == 200


async def test_at_most_five_codes_an_hour(client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    auth = await _signed_up(client)
    for _ in range(4):
        await db.execute("UPDATE one_time_codes SET created_at = created_at - interval '61 seconds'")
        assert (await client.post("/v1/contacts/email/code", headers=auth)).status_code == 202
    await db.execute("UPDATE one_time_codes SET created_at = created_at - interval '61 seconds'")
    response = await client.post("/v1/contacts/email/code", headers=auth)
    assert response.status_code == 429 and response.json()["code"] == "too_many_codes"


async def test_codes_are_stored_only_as_keyed_hashes(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    await _signed_up(client)
    code = await latest_code(runtime, "email", "bruce@example.com")
    digests = [r["code_digest"] for r in await db.fetch("SELECT code_digest FROM one_time_codes")]
    assert all(len(d) == 32 and code.encode() not in d and code not in d.hex() for d in digests)


async def test_codes_need_a_session_and_a_known_contact(client: httpx.AsyncClient) -> None:
    anonymous = await client.post("/v1/contacts/email/verify", json={"code": "123456"})
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "unauthenticated"
    body = await register(client, phone=None)
    auth = bearer(body["session"]["token"])
    missing = await client.post("/v1/contacts/phone/code", headers=auth)
    assert missing.status_code == 404 and missing.json()["code"] == "contact_not_found"
    bad_kind = await client.post("/v1/contacts/fax/code", headers=auth)
    assert (bad_kind.status_code, bad_kind.json()["code"]) == (400, "invalid_parameters")


async def test_parallel_code_requests_send_one_code(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    import asyncio

    auth = await _signed_up(client)
    await db.execute("UPDATE one_time_codes SET created_at = created_at - interval '2 minutes'")
    responses = await asyncio.gather(*(client.post("/v1/contacts/phone/code", headers=auth) for _ in range(10)))
    assert sorted(r.status_code for r in responses) == [202] + [429] * 9
    assert await db.fetchval("SELECT count(*) FROM one_time_codes WHERE purpose = 'verify_phone'") == 2
