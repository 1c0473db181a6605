"""Helpers that drive the service through its HTTP API, as a frontend would."""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pyotp

from service.audit import Actor
from service.audit.trail import origin_key_owner
from service.operators.enrolment import create_operator
from service.operators.roles import Role
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
    """Owners of the data keys the audit trail seals client addresses under (this and next month's)."""
    now = datetime.now(UTC)
    months = [now.strftime("%Y-%m"), (now.replace(day=1) + timedelta(days=32)).strftime("%Y-%m")]
    return [origin_key_owner(month) for month in months]


@dataclass(frozen=True)
class OperatorLogin:
    operator_id: uuid.UUID
    email: str
    token: str
    totp_secret: str

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}


def totp_code(secret: str, steps_ahead: int = 0) -> str:
    return pyotp.TOTP(secret, interval=30).at(time.time() + 30 * steps_ahead)


async def enrolled_operator(
    runtime: Runtime, client: httpx.AsyncClient, *roles: str, email: str | None = None
) -> OperatorLogin:
    """An operator made as `idv operators create` makes one, enrolled and signed in over HTTP."""
    address = email or f"op-{uuid.uuid4().hex[:8]}@example.com"
    created = await create_operator(runtime, address, [Role(r) for r in roles], Actor.system("tests"))
    response = await client.post(
        "/v1/operator/enrolment", json={"enrolment_code": created.enrolment_code, "password": STRONG_PASSWORD}
    )
    assert response.status_code == 200, response.text
    secret = response.json()["totp_secret"]
    response = await client.post(
        "/v1/operator/enrolment/confirm",
        json={"enrolment_code": created.enrolment_code, "totp_code": totp_code(secret)},
    )
    assert response.status_code == 204, response.text
    # The enrolment used this time step's code; a code is good once, so sign in with the next.
    response = await client.post(
        "/v1/operator/sessions",
        json={"email": address, "password": STRONG_PASSWORD, "totp_code": totp_code(secret, 1)},
    )
    assert response.status_code == 201, response.text
    return OperatorLogin(created.operator_id, address, response.json()["token"], secret)
