"""Cancellation: re-authentication, a cooling-off period the holder can step back from, then an
erasure after which nothing of the person is readable anywhere in the database."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from service.app import create_asgi
from service.lifecycle.cancellation import erase_due
from service.runtime import Runtime
from service.settings import load_settings
from tests.arrange.cleartext import found_in_clear
from tests.arrange.consents import grant
from tests.arrange.people import PERSON, ZHANG_SAN, real_name_verified
from tests.conftest import environment_for_tests
from tests.helpers import STRONG_PASSWORD, bearer, register, registration
from verification.identity_numbers import mask_identity_number


async def test_cancelling_needs_the_password_and_can_be_withdrawn(client: httpx.AsyncClient, runtime: Runtime) -> None:
    _, me = await real_name_verified(client, runtime)
    wrong = await client.post("/v1/me/cancellation", json={"password": "not-my-password-at-all"}, headers=me)
    assert wrong.status_code == 403 and wrong.json()["code"] == "reauthentication_failed"

    cancelled = await client.post("/v1/me/cancellation", json={"password": STRONG_PASSWORD}, headers=me)
    assert cancelled.status_code == 202, cancelled.text
    assert cancelled.json()["state"] == "cancellation_pending"
    profile = (await client.get("/v1/me", headers=me)).json()
    assert profile["state"] == "cancellation_pending" and profile["erasure_planned_at"] is not None
    # Signing in still works during the cooling-off period; other work does not.
    signed_in = await client.post("/v1/sessions", json={"identifier": PERSON["email"], "password": STRONG_PASSWORD})
    assert signed_in.status_code == 201
    refused = await client.get("/v1/me/verifications/real-name", headers=me)
    assert refused.status_code == 403 and refused.json()["code"] == "account_restricted"
    assert await erase_due(runtime) == 0  # fifteen days to go

    kept = await client.delete("/v1/me/cancellation", headers=me)
    assert kept.status_code == 200 and kept.json()["state"] == "active"
    assert (await client.get("/v1/me", headers=me)).json()["erasure_planned_at"] is None


@pytest.fixture
async def no_cooling_off(tmp_path: Path, database_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    settings = load_settings(environment_for_tests(tmp_path / "state", IDV_CANCELLATION_COOLING_OFF="0"))
    async with Runtime.open(settings, database_url, apply_migrations=False) as runtime:
        transport = httpx.ASGITransport(app=create_asgi(settings, runtime=runtime), client=("203.0.113.10", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="https://idv.test") as http:
            yield http, runtime


async def test_after_erasure_nothing_of_the_person_is_readable(
    no_cooling_off: tuple[httpx.AsyncClient, Runtime], owner_db: asyncpg.Connection
) -> None:
    client, runtime = no_cooling_off
    account_id, me = await real_name_verified(client, runtime)
    secrets = [
        PERSON["email"],
        PERSON["phone"],
        PERSON["display_name"],
        ZHANG_SAN["legal_name"],
        ZHANG_SAN["id_number"],
    ]
    # The scan can fail: a value planted in clear is found.
    await owner_db.execute("CREATE TABLE leak_control (note text)")
    await owner_db.execute("INSERT INTO leak_control VALUES ($1)", "contact bruce@example.com")
    assert await found_in_clear(owner_db, PERSON["email"]) == ["leak_control.note"]
    await owner_db.execute("DROP TABLE leak_control")

    cancelled = await client.post("/v1/me/cancellation", json={"password": STRONG_PASSWORD}, headers=me)
    assert cancelled.status_code == 202
    assert await erase_due(runtime) == 1
    assert await erase_due(runtime) == 0  # idempotent: nothing left to do

    for secret in secrets:
        assert await found_in_clear(owner_db, secret) == [], secret
    # Nor partly masked: case evidence shows an ID number's ends in clear.
    assert await found_in_clear(owner_db, mask_identity_number(ZHANG_SAN["id_number"])) == []
    evidence = await owner_db.fetchval(
        """SELECT count(*) FROM review_case_evidence e JOIN review_cases c ON c.id = e.case_id
           WHERE c.subject_account_id = $1""",
        account_id,
    )
    assert evidence == 0
    state = await owner_db.fetchval("SELECT state FROM accounts WHERE id = $1", account_id)
    assert state == "erased"
    assert await owner_db.fetchval("SELECT count(*) FROM erasure_ledger WHERE account_id = $1", account_id) == 1
    assert await owner_db.fetchval("SELECT wrapped_key FROM data_keys WHERE owner_id = $1", account_id) is None
    assert (await client.get("/v1/sessions/whoami", headers=me)).status_code == 401
    # The identifiers are free for someone new.
    again = await client.post("/v1/registrations", json=registration(**PERSON))
    assert again.status_code == 201, again.text


async def test_erasing_an_account_under_review_ends_its_cases(client: httpx.AsyncClient, runtime: Runtime) -> None:
    _, first = await real_name_verified(client, runtime)
    body = await register(
        client, email="second@example.com", username="second_one", phone=None, birth_date="1949-12-31"
    )
    second = bearer(body["session"]["token"])
    await grant(client, second, "identity_data")
    duplicate = await client.post("/v1/me/verifications/real-name", json=ZHANG_SAN, headers=second)
    assert duplicate.status_code == 202  # the same identity: an operator reviews it
    assert (
        await client.post("/v1/me/cancellation", json={"password": STRONG_PASSWORD}, headers=second)
    ).status_code == 202
    async with runtime.database.transaction() as conn:
        await conn.execute("UPDATE cancellations SET erase_after = now() - interval '1 second'")
    assert await erase_due(runtime) == 1
    async with runtime.database.connection() as conn:
        case = await conn.fetchrow(
            "SELECT state, reason_code FROM review_cases WHERE id = $1", uuid.UUID(duplicate.json()["case_id"])
        )
    assert case is not None and (case["state"], case["reason_code"]) == ("expired", "account_erased")
    assert (await client.get("/v1/me/verifications/real-name", headers=first)).json()["status"] == "verified"
