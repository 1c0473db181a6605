"""The signing keys: pre-published before they sign, kept until every token they signed has
expired, then retired; one key however many replicas rotate at once; the private key sealed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from service.jobs.catalog import scheduled_jobs
from service.jobs.runs import Trigger
from service.runtime import Runtime
from service.tokens.keys import CLOCK_LEEWAY, LONGEST_LIFETIME, PRE_PUBLICATION, Rotation, rotate, signing_key
from service.vault.cipher import CiphertextInvalid, OwnerCipher
from service.vault.labels import VaultField
from tests.arrange.people import person

TOKEN = "/v1/sessions/token"
JWKS = "/.well-known/jwks.json"
ROTATION = timedelta(days=30)
LIFETIME = timedelta(seconds=120)


async def rotate_at(runtime: Runtime, at: datetime) -> Rotation:
    return await rotate(runtime.database, runtime.vault, ROTATION, LIFETIME, at)


async def published_kids(client: httpx.AsyncClient) -> list[str]:
    return [key["kid"] for key in (await client.get(JWKS)).json()["keys"]]


async def signing_kid(client: httpx.AsyncClient, me: dict[str, str]) -> str:
    response = await client.post(TOKEN, headers=me)
    assert response.status_code == 200, response.text
    kid: str = jwt.get_unverified_header(response.json()["token"])["kid"]
    return kid


async def test_a_new_key_is_published_before_it_signs_and_the_old_one_kept_until_its_tokens_expired(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    _, me = await person(client, runtime)
    now = datetime.now(UTC)
    first = await rotate_at(runtime, now - ROTATION - timedelta(days=1))
    assert first.created is not None
    old = first.created
    assert await signing_kid(client, me) == old
    # Not due yet: nothing happens however often the job runs.
    assert await rotate_at(runtime, now - timedelta(days=2)) == Rotation(None, ())

    # Due: the successor is published at once and signs only after the pre-publication period.
    second = await rotate_at(runtime, now)
    assert second.created is not None and second.retired == ()
    new = second.created
    assert await published_kids(client) == [old, new]
    assert await signing_kid(client, me) == old
    signs_from = await db.fetchval("SELECT signs_from FROM session_signing_keys WHERE kid = $1", new)
    assert signs_from == now + PRE_PUBLICATION
    # A second run meanwhile makes no third key.
    assert await rotate_at(runtime, now + timedelta(minutes=10)) == Rotation(None, ())

    # The last token the old key signs is signed just before the new one takes over and lives at most
    # LONGEST_LIFETIME: the old key stays published until then and the clock leeway have passed.
    last_expiry = signs_from + LONGEST_LIFETIME
    assert await rotate_at(runtime, last_expiry) == Rotation(None, ())
    assert await rotate_at(runtime, last_expiry + CLOCK_LEEWAY - timedelta(seconds=1)) == Rotation(None, ())
    assert await published_kids(client) == [old, new]
    retired = await rotate_at(runtime, last_expiry + CLOCK_LEEWAY)
    assert retired == Rotation(None, (old,))
    assert await published_kids(client) == [new]
    row = await db.fetchrow(
        """SELECT s.private_key, s.retired_at, k.destroyed_at, k.wrapped_key
           FROM session_signing_keys s JOIN data_keys k ON k.owner_id = s.id WHERE s.kid = $1""",
        old,
    )
    assert row["private_key"] is None and row["wrapped_key"] is None
    assert row["retired_at"] is not None and row["destroyed_at"] is not None


async def test_a_first_ask_makes_a_key_that_signs_at_once(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    _, me = await person(client, runtime)
    kid = await signing_kid(client, me)
    assert await published_kids(client) == [kid]
    assert await signing_kid(client, me) == kid
    assert await db.fetchval("SELECT count(*) FROM session_signing_keys") == 1


async def test_the_key_set_is_never_published_empty(client: httpx.AsyncClient, runtime: Runtime) -> None:
    # A gateway that cached an empty set would refuse the first tokens for as long as it caches it.
    (kid,) = await published_kids(client)
    assert await published_kids(client) == [kid]
    _, me = await person(client, runtime)
    assert await signing_kid(client, me) == kid


@pytest.mark.parametrize("already", [False, True])
async def test_replicas_rotating_at_once_make_one_key(runtime: Runtime, db: asyncpg.Connection, already: bool) -> None:
    now = datetime.now(UTC)
    if already:
        await rotate_at(runtime, now - ROTATION)
    before = await db.fetchval("SELECT count(*) FROM session_signing_keys")
    results = await asyncio.gather(*(rotate_at(runtime, now) for _ in range(6)))
    assert len([result for result in results if result.created]) == 1
    assert await db.fetchval("SELECT count(*) FROM session_signing_keys") == before + 1


async def test_the_private_key_is_sealed_in_the_table(runtime: Runtime, db: asyncpg.Connection) -> None:
    kid, private = await signing_key(runtime.database, runtime.vault, ROTATION, LIFETIME)
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    row = await db.fetchrow("SELECT id, public_key, private_key FROM session_signing_keys WHERE kid = $1", kid)
    assert row["public_key"] == private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    stored: bytes = row["private_key"]
    assert raw not in stored and len(stored) > len(raw)
    with pytest.raises(ValueError, match="32 bytes"):
        Ed25519PrivateKey.from_private_bytes(stored)
    # It opens only with the key's own data key, under its own field.
    cipher = await runtime.vault.open(db, row["id"])
    assert cipher.open(VaultField.TOKENS_SIGNING_KEY, stored) == raw
    with pytest.raises(CiphertextInvalid):
        cipher.open(VaultField.TOTP_SECRET, stored)
    with pytest.raises(CiphertextInvalid):
        OwnerCipher(row["id"], bytes(32)).open(VaultField.TOKENS_SIGNING_KEY, stored)


async def test_the_scheduled_job_rotates(runtime: Runtime, db: asyncpg.Connection) -> None:
    (job,) = [job for job in scheduled_jobs(runtime, Trigger.COMMAND) if job.name == "tokens.rotate_signing_keys"]
    await job.run()
    await job.run()
    assert await db.fetchval("SELECT count(*) FROM session_signing_keys") == 1
    assert await db.fetchval("SELECT outcome FROM scheduled_job_runs WHERE name = $1", job.name) == "succeeded"
