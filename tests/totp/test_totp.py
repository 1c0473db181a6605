"""TOTP: enrolment, sign-in with a second factor, replay refusal, recovery codes, removal."""

from __future__ import annotations

import time
from typing import Any

import asyncpg
import httpx
import pyotp

from tests.helpers import STRONG_PASSWORD, bearer, register


def code_at(secret: str, steps_from_now: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_from_now)


async def enrolled(client: httpx.AsyncClient) -> tuple[dict[str, str], str, list[str]]:
    auth = bearer((await register(client))["session"]["token"])
    enrollment = await client.post("/v1/me/totp", json={"password": STRONG_PASSWORD}, headers=auth)
    assert enrollment.status_code == 201
    secret = enrollment.json()["secret"]
    assert enrollment.json()["otpauth_uri"].startswith("otpauth://totp/idv:bruce%40example.com?secret=")
    # Confirm with the previous step's code (inside the drift window) to keep this step's code
    # free for the sign-in that follows.
    confirmed = await client.post("/v1/me/totp/confirm", json={"code": code_at(secret, -1)}, headers=auth)
    assert confirmed.status_code == 200, confirmed.text
    return auth, secret, confirmed.json()["recovery_codes"]


async def sign_in(client: httpx.AsyncClient, **extra: Any) -> httpx.Response:
    return await client.post("/v1/sessions", json={"identifier": "bruce_lee", "password": STRONG_PASSWORD, **extra})


async def test_enrolment_needs_a_right_code(client: httpx.AsyncClient) -> None:
    auth = bearer((await register(client))["session"]["token"])
    secret = (await client.post("/v1/me/totp", json={"password": STRONG_PASSWORD}, headers=auth)).json()["secret"]
    wrong = f"{(int(code_at(secret)) + 1) % 1_000_000:06d}"
    response = await client.post("/v1/me/totp/confirm", json={"code": wrong}, headers=auth)
    assert response.status_code == 422 and response.json()["code"] == "code_invalid"
    assert (await client.get("/v1/me", headers=auth)).json()["totp_enabled"] is False


async def test_sign_in_requires_the_second_factor_once_enrolled(client: httpx.AsyncClient) -> None:
    auth, secret, recovery = await enrolled(client)
    assert len(recovery) == 10 and len(set(recovery)) == 10
    assert (await client.get("/v1/me", headers=auth)).json()["totp_enabled"] is True

    missing = await sign_in(client)
    assert missing.status_code == 401 and missing.json()["code"] == "second_factor_required"
    ok = await sign_in(client, totp_code=code_at(secret))
    assert ok.status_code == 201
    whoami = (await client.get("/v1/sessions/whoami", headers=bearer(ok.json()["session"]["token"]))).json()
    assert whoami["assurance"]["level"] == 2
    assert whoami["assurance"]["second_factor_enrolled"] is True

    replay = await sign_in(client, totp_code=code_at(secret))
    assert replay.status_code == 401 and replay.json()["code"] == "invalid_second_factor"


async def test_a_recovery_code_works_once(client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    _, _, recovery = await enrolled(client)
    assert (await sign_in(client, recovery_code=recovery[3].upper())).status_code == 201
    again = await sign_in(client, recovery_code=recovery[3])
    assert again.status_code == 401 and again.json()["code"] == "invalid_second_factor"
    stored = [r["code_digest"] for r in await db.fetch("SELECT code_digest FROM recovery_codes")]
    assert all(code.encode() not in digest for digest in stored for code in recovery)


async def test_removal_needs_password_and_a_code(client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    auth, secret, _ = await enrolled(client)
    wrong_password = await client.request(
        "DELETE", "/v1/me/totp", json={"password": "not-my-password", "code": code_at(secret)}, headers=auth
    )
    assert wrong_password.status_code == 403 and wrong_password.json()["code"] == "reauthentication_failed"
    no_code = await client.request("DELETE", "/v1/me/totp", json={"password": STRONG_PASSWORD}, headers=auth)
    assert no_code.status_code == 422
    removed = await client.request(
        "DELETE", "/v1/me/totp", json={"password": STRONG_PASSWORD, "code": code_at(secret)}, headers=auth
    )
    assert removed.status_code == 204
    assert await db.fetchval("SELECT count(*) FROM totp_credentials") == 0
    assert (await sign_in(client)).status_code == 201


async def test_a_second_enrolment_is_refused_while_one_is_active(client: httpx.AsyncClient) -> None:
    auth, _, _ = await enrolled(client)
    response = await client.post("/v1/me/totp", json={"password": STRONG_PASSWORD}, headers=auth)
    assert response.status_code == 409 and response.json()["code"] == "totp_already_enabled"


async def test_the_secret_is_stored_encrypted(client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    _, secret, _ = await enrolled(client)
    stored = await db.fetchval("SELECT secret FROM totp_credentials")
    assert secret.encode() not in stored


async def test_enrolment_needs_the_password_and_guessing_it_is_throttled(client: httpx.AsyncClient) -> None:
    auth = bearer((await register(client))["session"]["token"])
    missing = await client.post("/v1/me/totp", json={}, headers=auth)
    assert missing.status_code == 422
    statuses = []
    for i in range(6):
        response = await client.post("/v1/me/totp", json={"password": f"guess-{i}-wrong"}, headers=auth)
        statuses.append(response.status_code)
    assert statuses == [403] * 5 + [429]
    assert response.json()["code"] == "too_many_attempts"
