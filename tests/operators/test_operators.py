"""Operators: enrolment with mandatory TOTP, sign-in, short sessions, and admin actions."""

from __future__ import annotations

import re
from datetime import timedelta

import asyncpg
import httpx

from service.audit import Actor
from service.operators.enrolment import create_operator
from service.operators.roles import Role
from service.runtime import Runtime
from tests.helpers import STRONG_PASSWORD, bearer, enrolled_operator, outbox, register, totp_code


async def test_enrolment_then_sign_in_with_password_and_totp(client: httpx.AsyncClient, runtime: Runtime) -> None:
    login = await enrolled_operator(runtime, client, "reviewer", "senior_reviewer")
    me = await client.get("/v1/operator/me", headers=login.headers)
    assert me.status_code == 200
    assert me.json()["roles"] == ["reviewer", "senior_reviewer"]
    assert me.json()["operator_id"] == str(login.operator_id)


async def test_an_enrolment_code_works_once(client: httpx.AsyncClient, runtime: Runtime) -> None:
    created = await create_operator(runtime, "once@example.com", [Role.REVIEWER], Actor.system("tests"))
    first = await client.post(
        "/v1/operator/enrolment", json={"enrolment_code": created.enrolment_code, "password": STRONG_PASSWORD}
    )
    secret = first.json()["totp_secret"]
    wrong = await client.post(
        "/v1/operator/enrolment/confirm",
        json={
            "enrolment_code": created.enrolment_code,
            "totp_code": "000000" if totp_code(secret) != "000000" else "111111",
        },
    )
    assert wrong.status_code == 400 and wrong.json()["code"] == "invalid_second_factor"
    done = await client.post(
        "/v1/operator/enrolment/confirm",
        json={"enrolment_code": created.enrolment_code, "totp_code": totp_code(secret)},
    )
    assert done.status_code == 204
    again = await client.post(
        "/v1/operator/enrolment", json={"enrolment_code": created.enrolment_code, "password": STRONG_PASSWORD}
    )
    assert again.status_code == 404 and again.json()["code"] == "enrolment_invalid"


async def test_a_weak_operator_password_is_refused(client: httpx.AsyncClient, runtime: Runtime) -> None:
    created = await create_operator(runtime, "weak@example.com", [Role.REVIEWER], Actor.system("tests"))
    response = await client.post(
        "/v1/operator/enrolment", json={"enrolment_code": created.enrolment_code, "password": "password1"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "password"


async def test_sign_in_needs_every_factor_and_a_fresh_code(client: httpx.AsyncClient, runtime: Runtime) -> None:
    login = await enrolled_operator(runtime, client, "reviewer")

    async def attempt(password: str, code: str) -> httpx.Response:
        return await client.post(
            "/v1/operator/sessions", json={"email": login.email, "password": password, "totp_code": code}
        )

    # The code of the step enrolled_operator just used cannot be used again.
    replayed = await attempt(STRONG_PASSWORD, totp_code(login.totp_secret, 1))
    wrong_password = await attempt("not-the-password-at-all", totp_code(login.totp_secret, -1))
    unknown = await client.post(
        "/v1/operator/sessions",
        json={"email": "nobody@example.com", "password": STRONG_PASSWORD, "totp_code": "123456"},
    )
    for response in (replayed, wrong_password, unknown):
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_credentials"
    missing = await client.post("/v1/operator/sessions", json={"email": login.email, "password": STRONG_PASSWORD})
    assert missing.status_code == 422


async def test_operator_sessions_end_sooner_than_users(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    assert runtime.settings.operator_session_idle_timeout < runtime.settings.session_idle_timeout
    assert runtime.settings.operator_session_absolute_timeout < runtime.settings.session_absolute_timeout
    login = await enrolled_operator(runtime, client, "reviewer")
    idle = runtime.settings.operator_session_idle_timeout + timedelta(seconds=5)
    await db.execute("UPDATE operator_sessions SET last_seen_at = now() - $1::interval", idle)
    response = await client.get("/v1/operator/me", headers=login.headers)
    assert response.status_code == 401


async def test_user_and_operator_tokens_do_not_cross(client: httpx.AsyncClient, runtime: Runtime) -> None:
    user = await register(client)
    login = await enrolled_operator(runtime, client, "admin")
    as_user = await client.get("/v1/operator/me", headers=bearer(user["session"]["token"]))
    assert as_user.status_code == 401
    as_operator = await client.get("/v1/sessions/whoami", headers=login.headers)
    assert as_operator.status_code == 401


async def test_admins_create_and_disable_operators(client: httpx.AsyncClient, runtime: Runtime) -> None:
    admin = await enrolled_operator(runtime, client, "admin")
    reviewer = await enrolled_operator(runtime, client, "reviewer")
    created = await client.post(
        "/v1/operator/operators", json={"email": "new@example.com", "roles": ["reviewer"]}, headers=admin.headers
    )
    assert created.status_code == 201 and created.json()["approved"] is False
    duplicate = await client.post(
        "/v1/operator/operators", json={"email": "NEW@example.com", "roles": ["admin"]}, headers=admin.headers
    )
    assert duplicate.status_code == 409
    listing = await client.get("/v1/operator/operators", headers=admin.headers)
    assert {o["email"] for o in listing.json()} >= {"new@example.com", reviewer.email}

    self_disable = await client.post(f"/v1/operator/operators/{admin.operator_id}/disable", headers=admin.headers)
    assert self_disable.status_code == 409
    disabled = await client.post(f"/v1/operator/operators/{reviewer.operator_id}/disable", headers=admin.headers)
    assert disabled.status_code == 204
    # Their live session ends with the account.
    assert (await client.get("/v1/operator/me", headers=reviewer.headers)).status_code == 401
    signed_out = await client.delete("/v1/operator/sessions/current", headers=admin.headers)
    assert signed_out.status_code == 204
    assert (await client.get("/v1/operator/me", headers=admin.headers)).status_code == 401


async def test_operator_email_is_sealed(client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection) -> None:
    await enrolled_operator(runtime, client, "reviewer", email="sealed.operator@example.com")
    row = await db.fetchrow("SELECT email, email_index, totp_secret FROM operators")
    assert row is not None
    assert b"sealed.operator" not in row["email"] and b"sealed.operator" not in row["email_index"]


async def test_a_second_admin_approves_and_the_code_goes_only_to_the_new_operator(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    first = await enrolled_operator(runtime, client, "admin")
    second = await enrolled_operator(runtime, client, "admin")
    created = await client.post(
        "/v1/operator/operators",
        json={"email": "fresh.reviewer@example.com", "roles": ["reviewer"]},
        headers=first.headers,
    )
    operator_id = created.json()["operator_id"]
    assert "enrolment_code" not in created.json()
    own = await client.post(f"/v1/operator/operators/{operator_id}/approve", headers=first.headers)
    assert own.status_code == 403 and own.json()["code"] == "four_eyes_same_operator"
    approved = await client.post(f"/v1/operator/operators/{operator_id}/approve", headers=second.headers)
    assert approved.status_code == 200 and approved.json()["approved"] is True
    assert "enrolment_code" not in approved.json()
    again = await client.post(f"/v1/operator/operators/{operator_id}/approve", headers=second.headers)
    assert again.status_code == 409

    await runtime.courier.deliver_queued()
    messages = [m for m in outbox(runtime) if m["to"] == "fresh.reviewer@example.com"]
    assert len(messages) == 1
    code = re.search(r"\n\n(\S+)\n\n", messages[0]["body"])
    assert code is not None
    enrol = await client.post(
        "/v1/operator/enrolment", json={"enrolment_code": code.group(1), "password": STRONG_PASSWORD}
    )
    assert enrol.status_code == 200
    approvals = await db.fetch("SELECT actor_id FROM audit_log WHERE action = 'operator.approved'")
    assert str(second.operator_id) in {r["actor_id"] for r in approvals}


async def test_an_unapproved_operator_cannot_enrol(client: httpx.AsyncClient, runtime: Runtime) -> None:
    admin = await enrolled_operator(runtime, client, "admin")
    await client.post(
        "/v1/operator/operators", json={"email": "wait@example.com", "roles": ["admin"]}, headers=admin.headers
    )
    listing = {o["email"]: o for o in (await client.get("/v1/operator/operators", headers=admin.headers)).json()}
    assert listing["wait@example.com"]["approved"] is False
    sign_in = await client.post(
        "/v1/operator/sessions", json={"email": "wait@example.com", "password": STRONG_PASSWORD, "totp_code": "123456"}
    )
    assert sign_in.status_code == 401
