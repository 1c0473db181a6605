"""People registered over the API and verified to a level: e-mail, consents, real name, age."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx

from service.runtime import Runtime
from tests.arrange.consents import grant
from tests.arrange.contacts import verify_email
from tests.helpers import bearer, register

# An identity the sandbox registry knows: verifying with it succeeds.
ZHANG_SAN = {"legal_name": "张三", "document_type": "resident_id_card", "id_number": "11010519491231002X"}

# One fixed person, for tests that look for their values (e-mail, phone, name) in clear afterwards.
PERSON = {
    "display_name": "李小龙",
    "username": "bruce_lee",
    "email": "bruce@example.com",
    "phone": "+8613812345678",
    "birth_date": "1949-12-31",
}


def born(runtime: Runtime, years: int) -> str:
    """A birth date that makes a person exactly ``years`` old today, in the service's calendar."""
    today = runtime.settings.today()
    try:
        birthday = today.replace(year=today.year - years)
    except ValueError:
        birthday = date(today.year - years, 3, 1)
    # A day past the birthday: exactly ``years`` old.
    return (birthday - timedelta(days=1)).isoformat()


async def _registered_adult(client: httpx.AsyncClient) -> tuple[str, dict[str, Any]]:
    suffix = uuid.uuid4().hex[:8]
    email = f"{suffix}@example.com"
    body = await register(client, birth_date="1949-12-31", email=email, username=f"u_{suffix}", phone=None)
    return email, body


async def ready_for_real_name(client: httpx.AsyncClient, runtime: Runtime) -> tuple[str, dict[str, str]]:
    """An adult with a verified e-mail who granted the identity_data consent; their e-mail and headers."""
    email, body = await _registered_adult(client)
    me = bearer(body["session"]["token"])
    await verify_email(client, runtime, me, email)
    await grant(client, me, "identity_data")
    return email, me


async def person(
    client: httpx.AsyncClient, runtime: Runtime, *, identity: dict[str, str] | None = None
) -> tuple[uuid.UUID, dict[str, str]]:
    """An adult with a verified e-mail (and a verified real name when given an identity)."""
    email, body = await _registered_adult(client)
    me = bearer(body["session"]["token"])
    await verify_email(client, runtime, me, email)
    if identity is not None:
        await grant(client, me, "identity_data")
        verified = await client.post("/v1/me/verifications/real-name", json=identity, headers=me)
        assert verified.status_code == 201, verified.text
    return uuid.UUID(body["account_id"]), me


async def real_name_verified(client: httpx.AsyncClient, runtime: Runtime) -> tuple[uuid.UUID, dict[str, str]]:
    """`PERSON`, with a verified e-mail and verified as `ZHANG_SAN`."""
    body = await register(client, **PERSON)
    me = bearer(body["session"]["token"])
    await verify_email(client, runtime, me, PERSON["email"])
    await grant(client, me, "identity_data")
    verified = await client.post("/v1/me/verifications/real-name", json=ZHANG_SAN, headers=me)
    assert verified.status_code == 201, verified.text
    return uuid.UUID(body["account_id"]), me
