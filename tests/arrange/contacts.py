"""Contacts proven with the code the service sends, read from the courier's outbox."""

from __future__ import annotations

import httpx

from service.runtime import Runtime
from tests.helpers import latest_code


async def verify_email(client: httpx.AsyncClient, runtime: Runtime, me: dict[str, str], email: str) -> None:
    """The person enters the code sent to ``email`` at registration (or at the latest change)."""
    code = await latest_code(runtime, "email", email)
    verified = await client.post("/v1/contacts/email/verify", json={"code": code}, headers=me)
    assert verified.status_code == 200, verified.text
