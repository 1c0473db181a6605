"""Personal data, codes, tokens and passwords never reach the logs."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator

import httpx
import pyotp
import pytest

from service.observability.logging import configure_logging
from service.runtime import Runtime
from tests.helpers import STRONG_PASSWORD, bearer, latest_code, registration


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging("DEBUG", stream)
    try:
        yield stream
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


async def test_logs_carry_no_personal_data_or_secrets(
    client: httpx.AsyncClient, runtime: Runtime, captured_logs: io.StringIO
) -> None:
    sent: list[str] = []
    body = registration(
        display_name="Wang Xiaoming",
        username="wxm_2024",
        email="wang.xm@example.org",
        phone="+8613987654321",
        birth_date="1987-06-05",
    )
    sent += [str(v) for v in body.values()] + ["13987654321", "203.0.113.10"]

    bad = await client.post("/v1/registrations", json={**body, "email": "wang.xm@@example.org"})
    assert bad.status_code == 422
    registered = await client.post("/v1/registrations", json=body)
    assert registered.status_code == 201
    token = registered.json()["session"]["token"]
    auth = bearer(token)
    sent.append(token)

    email_code = await latest_code(runtime, "email", "wang.xm@example.org")
    sms_code = await latest_code(runtime, "sms", "+8613987654321")
    sent += [email_code, sms_code]
    wrong = f"{(int(sms_code) + 1) % 1_000_000:06d}"
    await client.post("/v1/contacts/phone/verify", json={"code": wrong}, headers=auth)
    await client.post("/v1/contacts/email/verify", json={"code": email_code}, headers=auth)

    failed = await client.post("/v1/sessions", json={"identifier": "wang.xm@example.org", "password": "Guess-0ne-Two"})
    assert failed.status_code == 401
    sent.append("Guess-0ne-Two")
    signed_in = await client.post("/v1/sessions", json={"identifier": "+8613987654321", "password": STRONG_PASSWORD})
    sent.append(signed_in.json()["session"]["token"])

    secret = (await client.post("/v1/me/totp", json={"password": STRONG_PASSWORD}, headers=auth)).json()["secret"]
    totp_code = pyotp.TOTP(secret).at(time.time() - 30)
    recovery = (await client.post("/v1/me/totp/confirm", json={"code": totp_code}, headers=auth)).json()
    sent += [secret, totp_code, *recovery["recovery_codes"]]
    await client.get("/v1/sessions/whoami", headers=auth)
    await client.get("/v1/me", headers=auth)
    await client.patch("/v1/me", json={"display_name": "Wang Daming"}, headers=auth)
    sent.append("Wang Daming")

    logs = captured_logs.getvalue()
    entries = [json.loads(line) for line in logs.splitlines()]
    assert any(e.get("route") == "/v1/registrations" and e.get("status") == 201 for e in entries), "no access log"
    assert any(e.get("message") == "message sent" for e in entries), "no courier log"
    assert all("request_id" in e for e in entries if e["logger"] == "service.access")
    for value in sent:
        assert value not in logs, f"a value sent to the service appears in the logs: {value[:3]}..."
