"""Registration: truthful-information validation, passwords, races, and what is stored."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import pytest

from service.runtime import Runtime
from tests.helpers import STRONG_PASSWORD, audit_keys, bearer, latest_code, outbox, register, registration


async def test_registration_returns_a_working_session_and_sends_codes(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    response = await client.post("/v1/registrations", json=registration())
    assert response.status_code == 201
    body = response.json()
    assert body["state"] == "pending_verification"
    assert sorted(body["codes_sent_to"]) == ["email", "phone"]
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-idv_session=")
    for attribute in ("HttpOnly", "Secure", "SameSite=lax", "Path=/"):
        assert attribute.lower() in cookie.lower()

    whoami = await client.get("/v1/sessions/whoami", headers=bearer(body["session"]["token"]))
    assert whoami.status_code == 200
    assert whoami.json()["account_id"] == body["account_id"]

    assert await latest_code(runtime, "email", "bruce@example.com")
    assert await latest_code(runtime, "sms", "+8613812345678")


async def test_personal_values_are_stored_encrypted(client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    await register(client)
    dump = ""
    for table in ("accounts", "contacts", "sessions", "courier_messages", "one_time_codes", "data_keys"):
        for row in await db.fetch(f"SELECT * FROM {table}"):  # noqa: S608
            for value in row.values():
                dump += value.hex() if isinstance(value, bytes) else str(value)
                if isinstance(value, bytes):
                    dump += value.decode("utf-8", "replace")
    for secret in ("bruce@example.com", "13812345678", "李小龙", "bruce_lee", "1990-11-27", STRONG_PASSWORD):
        assert secret not in dump


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"email": "not-an-email"}, "email", "invalid_email"),
        ({"email": "bruce@localhost"}, "email", "invalid_email"),
        ({"phone": "+86 10 6552 9988"}, "phone", "not_mobile"),
        ({"phone": "+86 138 1234"}, "phone", "invalid_phone"),
        ({"phone": "call me"}, "phone", "invalid_phone"),
        ({"display_name": "Bruce\u200bLee"}, "display_name", "invalid_characters"),
        ({"display_name": "...."}, "display_name", "no_letters"),
        ({"username": "1abc"}, "username", "invalid_username"),
        ({"username": "a@b.com"}, "username", "invalid_username"),
        ({"birth_date": "2999-01-01"}, "birth_date", "in_future"),
        ({"birth_date": "1850-01-01"}, "birth_date", "implausible"),
        ({"email": None, "phone": None}, "email", "contact_required"),
        ({"accepted_terms_version": "2020-01-01"}, "accepted_terms_version", "policy_not_current"),
        ({"accepted_privacy_version": "0"}, "accepted_privacy_version", "policy_not_current"),
        ({"password": "short1!"}, "password", "password_too_short"),
        ({"password": "x" * 129}, "password", "password_too_long"),
        ({"password": "password123"}, "password", "password_too_common"),
        ({"password": "qwertyuiop"}, "password", "password_too_common"),
        ({"password": "bruce_lee2024"}, "password", "password_contains_personal_info"),
        ({"password": "13812345678a"}, "password", "password_contains_personal_info"),
        ({"password": "bruce@example.com"}, "password", "password_contains_personal_info"),
    ],
)
async def test_untruthful_or_weak_input_is_refused_with_a_field_error(
    client: httpx.AsyncClient, db: asyncpg.Connection, overrides: dict[str, object], field: str, code: str
) -> None:
    response = await client.post("/v1/registrations", json=registration(**overrides))
    assert response.status_code == 422, response.text
    assert {"field": field, "code": code} in [
        {"field": e["field"], "code": e["code"]} for e in response.json()["errors"]
    ]
    assert await db.fetchval("SELECT count(*) FROM accounts") == 0


async def test_every_field_problem_is_reported_at_once(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/registrations", json=registration(email="nope", phone="nope", birth_date="2999-01-01")
    )
    assert {e["field"] for e in response.json()["errors"]} == {"email", "phone", "birth_date"}


async def test_contacts_are_normalized_before_comparing(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await register(client, phone="138 1234 5678")  # national format, read in the default region CN
    assert await latest_code(runtime, "sms", "+8613812345678")
    again = await client.post(
        "/v1/registrations", json=registration(email="Bruce@EXAMPLE.com", phone=None, username="other")
    )
    assert again.status_code == 409
    assert again.json()["errors"] == [
        {"field": "email", "code": "taken", "message": "this email is already registered"}
    ]


async def test_usernames_are_unique_regardless_of_case(client: httpx.AsyncClient) -> None:
    await register(client)
    again = await client.post(
        "/v1/registrations", json=registration(username="BRUCE_LEE", email="x@example.com", phone=None)
    )
    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "username"


async def test_two_registrations_of_one_email_at_once_exactly_one_succeeds(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    bodies = [
        registration(username=f"racer_{i}", phone=None, email="race@example.com", display_name=f"Racer {i}")
        for i in range(6)
    ]
    responses = await asyncio.gather(*(client.post("/v1/registrations", json=b) for b in bodies))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409, 409, 409, 409, 409]
    assert await db.fetchval("SELECT count(*) FROM accounts") == 1
    # No data key left behind by the registrations that lost (the audit's origin key aside).
    assert await db.fetchval("SELECT count(*) FROM data_keys WHERE owner_id <> ALL($1::uuid[])", audit_keys()) == 1


async def test_passwords_are_argon2id_with_the_configured_cost(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    await register(client)
    phc = await db.fetchval("SELECT password_hash FROM accounts")
    assert phc.startswith("$argon2id$v=19$m=1024,t=1,p=1$")


async def test_registration_records_consent_and_state_history(
    client: httpx.AsyncClient, db: asyncpg.Connection, owner_database_url: str
) -> None:
    body = await register(client)
    consents = await db.fetch("SELECT purpose, policy_version, action, channel FROM consent_events ORDER BY purpose")
    assert [tuple(r.values()) for r in consents] == [
        ("privacy_policy", "2026-11-01", "granted", "registration"),
        ("terms_of_service", "2026-11-01", "granted", "registration"),
    ]
    history = await db.fetch("SELECT from_state, to_state, event, actor FROM account_state_changes")
    assert [tuple(r.values()) for r in history] == [(None, "pending_verification", "registered", "self")]
    # The service's role lacks the privilege; even the owner is stopped by the trigger.
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
        await db.execute("UPDATE consent_events SET action = 'withdrawn'")
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
        await db.execute("DELETE FROM account_state_changes WHERE account_id = $1", body["account_id"])
    owner = await asyncpg.connect(owner_database_url)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await owner.execute("UPDATE consent_events SET action = 'withdrawn'")
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await owner.execute("TRUNCATE account_state_changes CASCADE")
    finally:
        await owner.close()


async def test_the_message_outbox_keeps_no_codes_after_delivery(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    await register(client)
    await runtime.courier.deliver_queued()
    rows = await db.fetch("SELECT status, variables FROM courier_messages")
    assert [(r["status"], r["variables"]) for r in rows] == [("sent", None), ("sent", None)]
    assert len(outbox(runtime)) == 2


async def test_policies_list_the_versions_registration_needs(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/policies")
    kinds = {p["kind"]: p for p in response.json()}
    assert kinds["terms_of_service"]["version"] == "2026-11-01"
    text = await client.get(kinds["privacy_policy"]["url"])
    assert text.status_code == 200 and "Privacy Policy" in text.json()["content"]
    missing = await client.get("/v1/policies/privacy_policy/1999-01-01")
    assert missing.status_code == 404 and missing.json()["code"] == "policy_not_found"
