"""Blind-index key rotation against a real PostgreSQL: people registered under the old key are
found during the rotation, re-indexed in resumable batches, then found with the new key alone,
and the old key alone finds nothing."""

from __future__ import annotations

import base64
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx

from service.app import create_asgi
from service.operators.store import by_email
from service.realname.store import accounts_verified_with
from service.runtime import Runtime
from service.settings import Settings, load_settings
from service.termination.termination import is_barred
from service.vault import BlindIndex, reindex
from tests.arrange.consents import grant
from tests.conftest import BLIND_INDEX_KEY, environment_for_tests
from tests.helpers import STRONG_PASSWORD, bearer, enrolled_operator, latest_code, register, totp_code

OLD_KEY = base64.b64decode(BLIND_INDEX_KEY)
NEW_KEY = bytes(range(64, 96))
ZHANG_SAN = {"legal_name": "张三", "document_type": "resident_id_card", "id_number": "11010519491231002x"}
NUMBER = "11010519491231002X"


def settings_with(tmp_path: Path, **keys: str) -> Settings:
    return load_settings(environment_for_tests(tmp_path / "state", **keys))


@contextlib.asynccontextmanager
async def serving(settings: Settings, database_url: str) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    async with Runtime.open(settings, database_url, apply_migrations=False) as runtime:
        transport = httpx.ASGITransport(app=create_asgi(settings, runtime=runtime), client=("203.0.113.10", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="https://idv.test") as client:
            yield runtime, client


async def sign_in(client: httpx.AsyncClient, identifier: str) -> int:
    response = await client.post("/v1/sessions", json={"identifier": identifier, "password": STRONG_PASSWORD})
    return response.status_code


async def test_a_rotated_blind_index_key_finds_everyone_with_the_new_key_alone(
    runtime: Runtime, client: httpx.AsyncClient, db: asyncpg.Connection, database_url: str, tmp_path: Path
) -> None:
    # Under the old key: a person with username, e-mail, phone and a verified ID number, barred
    # (as after a termination), and an operator.
    body = await register(client, birth_date="1949-12-31")
    me = bearer(body["session"]["token"])
    await grant(client, me, "identity_data")
    verified = await client.post("/v1/me/verifications/real-name", json=ZHANG_SAN, headers=me)
    assert verified.json()["status"] == "verified", verified.text
    case_id = uuid.UUID(verified.json()["case_id"])
    old = BlindIndex(OLD_KEY)
    await db.execute(
        "INSERT INTO identity_bars (id_number_index, case_id, barred_until) VALUES ($1, $2, now() + interval '1 day')",
        old.digest("identity.number", NUMBER),
        case_id,
    )
    await enrolled_operator(runtime, client, "reviewer", email="officer@example.com")
    account_id = uuid.UUID(body["account_id"])

    new_key = base64.b64encode(NEW_KEY).decode()
    rotating = settings_with(tmp_path, IDV_BLIND_INDEX_KEY=new_key, IDV_BLIND_INDEX_KEY_PREVIOUS=BLIND_INDEX_KEY)
    async with serving(rotating, database_url) as (rotated, rotated_client):
        # During the rotation: found through the previous key, and still taken for others.
        assert await sign_in(rotated_client, "bruce@example.com") == 201
        again = await rotated_client.post(
            "/v1/registrations",
            json={
                "display_name": "Other",
                "username": "Bruce_Lee",
                "email": "other@example.com",
                "password": STRONG_PASSWORD,
                "birth_date": "1990-01-01",
                "accepted_terms_version": "2026-11-01",
                "accepted_privacy_version": "2026-11-01",
            },
        )
        assert again.status_code == 409 and again.json()["errors"][0]["field"] == "username"

        # Resumable batches: a crash between them loses nothing, the cursor is committed.
        async with rotated.database.transaction() as conn:
            assert await reindex.reindex_batch(conn, rotated.vault, settle=False) > 0
        await reindex.reindex(rotated.database, rotated.vault, batches=100, settle=False)
        async with rotated.database.connection() as conn:
            progress = await reindex.status(conn, rotated.vault.blind_index)
        assert progress.done and progress.left_behind == 0

    only_new = settings_with(tmp_path, IDV_BLIND_INDEX_KEY=new_key)
    async with serving(only_new, database_url) as (fresh, fresh_client):
        for identifier in ("bruce@example.com", "+8613812345678", "bruce_lee"):
            assert await sign_in(fresh_client, identifier) == 201, identifier
        new = fresh.vault.blind_index
        async with fresh.database.connection() as conn:
            assert await accounts_verified_with(conn, new.digests("identity.number", NUMBER), uuid.uuid4()) == 1
            assert await is_barred(conn, new.digests("identity.number", NUMBER))
            assert await by_email(conn, new.digests("operator.email", "officer@example.com")) is not None

    # Nothing stored is findable with the old key any more.
    old_digests = [
        old.digest("contact.email", "bruce@example.com"),
        old.digest("contact.phone", "+8613812345678"),
        old.digest("username", "bruce_lee"),
        old.digest("identity.number", NUMBER),
        old.digest("operator.email", "officer@example.com"),
    ]
    found = await db.fetchval(
        """SELECT (SELECT count(*) FROM contacts WHERE address_index = ANY($1))
                + (SELECT count(*) FROM accounts WHERE username_index = ANY($1))
                + (SELECT count(*) FROM real_name_verifications WHERE id_number_index = ANY($1))
                + (SELECT count(*) FROM identity_bars WHERE id_number_index = ANY($1))
                + (SELECT count(*) FROM operators WHERE email_index = ANY($1))""",
        old_digests,
    )
    assert found == 0
    assert await db.fetchval("SELECT count(*) FROM contacts WHERE account_id = $1", account_id) == 2


async def test_an_identity_bar_of_an_erased_person_is_left_behind_and_counted(
    runtime: Runtime, client: httpx.AsyncClient, db: asyncpg.Connection, database_url: str, tmp_path: Path
) -> None:
    body = await register(client, birth_date="1949-12-31")
    me = bearer(body["session"]["token"])
    await grant(client, me, "identity_data")
    verified = await client.post("/v1/me/verifications/real-name", json=ZHANG_SAN, headers=me)
    old = BlindIndex(OLD_KEY)
    await db.execute(
        "INSERT INTO identity_bars (id_number_index, case_id, barred_until) VALUES ($1, $2, now() + interval '1 day')",
        old.digest("identity.number", NUMBER),
        uuid.UUID(verified.json()["case_id"]),
    )
    await runtime.vault.destroy(db, uuid.UUID(body["account_id"]))

    rotating = settings_with(
        tmp_path, IDV_BLIND_INDEX_KEY=base64.b64encode(NEW_KEY).decode(), IDV_BLIND_INDEX_KEY_PREVIOUS=BLIND_INDEX_KEY
    )
    async with serving(rotating, database_url) as (rotated, _):
        await reindex.reindex(rotated.database, rotated.vault, batches=100, settle=False)
        async with rotated.database.connection() as conn:
            progress = await reindex.status(conn, rotated.vault.blind_index)
            # Still barred while the previous key is kept: it is the only one that finds the bar.
            assert await is_barred(conn, rotated.vault.blind_index.digests("identity.number", NUMBER))
    assert progress.done and progress.left_behind == 1


async def test_without_a_previous_key_the_job_does_nothing(runtime: Runtime) -> None:
    assert await reindex.reindex(runtime.database, runtime.vault, batches=10, settle=False) == 0
    async with runtime.database.connection() as conn:
        assert not (await reindex.status(conn, runtime.vault.blind_index)).rotating


async def test_codes_issued_under_the_previous_key_still_work_during_the_rotation(
    runtime: Runtime, client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    auth = bearer((await register(client))["session"]["token"])
    email_code = await latest_code(runtime, "email", "bruce@example.com")
    secret = (await client.post("/v1/me/totp", json={"password": STRONG_PASSWORD}, headers=auth)).json()["secret"]
    confirmed = await client.post("/v1/me/totp/confirm", json={"code": totp_code(secret, -1)}, headers=auth)
    recovery = confirmed.json()["recovery_codes"]

    rotating = settings_with(
        tmp_path, IDV_BLIND_INDEX_KEY=base64.b64encode(NEW_KEY).decode(), IDV_BLIND_INDEX_KEY_PREVIOUS=BLIND_INDEX_KEY
    )
    async with serving(rotating, database_url) as (_, rotated_client):
        verified = await rotated_client.post("/v1/contacts/email/verify", json={"code": email_code}, headers=auth)
        assert verified.status_code == 200, verified.text
        signed_in = await rotated_client.post(
            "/v1/sessions", json={"identifier": "bruce_lee", "password": STRONG_PASSWORD, "recovery_code": recovery[0]}
        )
        assert signed_in.status_code == 201, signed_in.text
