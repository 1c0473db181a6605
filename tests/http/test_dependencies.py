"""The ``actor`` dependency: the signed-in person as the audit trail records them, with the client
they act from."""

from __future__ import annotations

import asyncpg
import httpx

from service.runtime import Runtime
from tests.helpers import bearer, register


async def test_the_actor_is_the_signed_in_person_from_their_client(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    registered = await register(client)
    me = bearer(registered["session"]["token"]) | {"user-agent": "idv-test/1.0"}
    assert (await client.delete("/v1/sessions/current", headers=me)).status_code == 204

    row = await db.fetchrow("SELECT actor_type, actor_id, origin FROM audit_log WHERE action = 'session.signed_out'")
    assert row is not None
    assert (row["actor_type"], row["actor_id"]) == ("user", registered["account_id"])
    origin = await runtime.audit.open_origin(db, row["origin"])
    assert (origin.client_address, origin.user_agent) == ("203.0.113.10", "idv-test/1.0")
