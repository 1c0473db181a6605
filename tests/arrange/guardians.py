"""Minors and their guardians, as the guardianship flow over the API makes them."""

from __future__ import annotations

import re
import uuid

import httpx

from service.runtime import Runtime
from tests.arrange.people import ZHANG_SAN, born, person
from tests.helpers import bearer, outbox, register


async def minor_awaiting_guardian(
    client: httpx.AsyncClient, runtime: Runtime, years: int
) -> tuple[uuid.UUID, dict[str, str]]:
    """A person registered ``years`` old (under 18): waiting for a guardian's consent."""
    suffix = uuid.uuid4().hex[:8]
    body = await register(
        client, birth_date=born(runtime, years), email=f"kid{suffix}@example.com", username=f"kid_{suffix}", phone=None
    )
    assert body["state"] == "awaiting_guardian", body
    return uuid.UUID(body["account_id"]), bearer(body["session"]["token"])


async def verified_guardian(client: httpx.AsyncClient, runtime: Runtime) -> dict[str, str]:
    """An adult with a verified real name, who may consent for a minor; their headers."""
    _, me = await person(client, runtime, identity=ZHANG_SAN)
    return me


async def invitation_code(client: httpx.AsyncClient, runtime: Runtime, minor: dict[str, str], email: str) -> str:
    """The minor invites a guardian at ``email``; the code the invitation carries."""
    sent = await client.post("/v1/me/guardian-invitation", json={"email": email}, headers=minor)
    assert sent.status_code == 201, sent.text
    await runtime.courier.deliver_queued()
    message = next(m for m in reversed(outbox(runtime)) if m["to"] == email)
    match = re.search(r"^([A-Za-z0-9_-]{16})$", message["body"], re.MULTILINE)
    assert match, message["body"]
    return match.group(1)


async def guarded_minor(
    client: httpx.AsyncClient, runtime: Runtime, guardian: dict[str, str], years: int = 15
) -> tuple[uuid.UUID, dict[str, str], str]:
    """A minor whose legal guardian consented for the account (at the default 15 the consent takes
    effect at once; a young child's waits for two operators); the minor's id, headers and the
    guardianship's id."""
    minor_id, minor = await minor_awaiting_guardian(client, runtime, years)
    code = await invitation_code(client, runtime, minor, f"g{uuid.uuid4().hex[:6]}@example.com")
    body = {"invitation_code": code, "relationship": "legal_guardian", "scopes": ["account"]}
    consented = await client.post("/v1/guardianships", json=body, headers=guardian)
    assert consented.status_code == 201, consented.text
    return minor_id, minor, consented.json()["guardianship_id"]
