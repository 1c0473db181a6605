"""A minor waiting for a guardian can prove their contacts meanwhile, so the account is usable the
moment the guardian consents (the registration code would have expired by then)."""

from __future__ import annotations

import uuid

import asyncpg
import httpx

from service.runtime import Runtime
from tests.arrange.people import born
from tests.helpers import bearer, latest_code, register


async def test_a_minor_verifies_the_email_while_awaiting_a_guardian(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    body = await register(client, birth_date=born(runtime, 15), email="kid@example.com", username="kid_1", phone=None)
    assert body["state"] == "awaiting_guardian"
    minor_id, minor = uuid.UUID(body["account_id"]), bearer(body["session"]["token"])
    # The code sent at registration has run out while the guardian took their time.
    await db.execute(
        "UPDATE one_time_codes SET expires_at = now() - interval '1 second' WHERE account_id = $1", minor_id
    )
    await db.execute("UPDATE one_time_codes SET created_at = now() - interval '1 hour' WHERE account_id = $1", minor_id)
    sent = await client.post("/v1/contacts/email/code", headers=minor)
    assert sent.status_code == 202, sent.text
    code = await latest_code(runtime, "email", "kid@example.com")
    verified = await client.post("/v1/contacts/email/verify", json={"code": code}, headers=minor)
    assert (verified.status_code, verified.json()["account_state"]) == (200, "awaiting_guardian")
    # Nothing else opens up before the guardian consents.
    blocked = await client.get("/v1/me/consents", headers=minor)
    assert (blocked.status_code, blocked.json()["code"]) == (403, "guardian_consent_required")
