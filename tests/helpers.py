"""Helpers that drive the service through its HTTP API, as a frontend would."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from service.audit.trail import origin_key_owner
from service.runtime import Runtime

STRONG_PASSWORD = "violet-harbour-tractor-91"
TERMS = "2026-11-01"
PRIVACY = "2026-11-01"


def registration(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "display_name": "李小龙",
        "username": "bruce_lee",
        "email": "bruce@example.com",
        "phone": "+8613812345678",
        "password": STRONG_PASSWORD,
        "birth_date": "1990-11-27",
        "accepted_terms_version": TERMS,
        "accepted_privacy_version": PRIVACY,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def register(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/v1/registrations", json=registration(**overrides))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def outbox(runtime: Runtime) -> list[dict[str, str]]:
    path = runtime.settings.outbox_path
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


async def latest_code(runtime: Runtime, channel: str, recipient: str) -> str:
    """Deliver what is queued (as the worker would) and read the newest code sent there."""
    await runtime.courier.deliver_queued()
    for message in reversed(outbox(runtime)):
        if message["channel"] == channel and message["to"] == recipient:
            match = re.search(r"\b(\d{6})\b", message["body"])
            assert match, "message carries no code"
            return match.group(1)
    raise AssertionError(f"no {channel} message to {recipient}")


def audit_keys() -> list[uuid.UUID]:
    """Owners of the data keys the audit trail seals client addresses under (this month's)."""
    return [origin_key_owner(datetime.now(UTC).strftime("%Y-%m"))]
