"""IDV_OPERATOR_REQUIRE_PASSKEY=true: password and TOTP give an operator without a passkey a session
that may only enrol one, every route that acts refuses that session, and an operator with a passkey
must sign in with it."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from service.app import create_litestar
from service.operators.auth import WHILE_ENROLLING_PASSKEY_OPT
from service.runtime import Runtime
from service.settings import Settings, load_settings
from tests.arrange.cases import case_in_review
from tests.arrange.operators import operator_endpoints
from tests.arrange.passkeys import SoftAuthenticator, enrol_operator_passkey, operator_passkey_headers
from tests.conftest import environment_for_tests
from tests.helpers import STRONG_PASSWORD, OperatorLogin, enrolled_operator, totp_code

# Reachable without an operator session.
PUBLIC = {
    ("POST", "/v1/operator/enrolment"),
    ("POST", "/v1/operator/enrolment/confirm"),
    ("POST", "/v1/operator/sessions"),
    ("POST", "/v1/operator/sessions/passkey/options"),
    ("POST", "/v1/operator/sessions/passkey"),
}
# All a restricted session reaches: who am I, sign out, and enrolling (and seeing) a first passkey.
WHILE_ENROLLING = {
    ("GET", "/v1/operator/me"),
    ("DELETE", "/v1/operator/sessions/current"),
    ("POST", "/v1/operator/passkeys/options"),
    ("POST", "/v1/operator/passkeys"),
    ("GET", "/v1/operator/passkeys"),
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(environment_for_tests(tmp_path / "state", IDV_OPERATOR_REQUIRE_PASSKEY="true"))


def authenticator(runtime: Runtime) -> SoftAuthenticator:
    return SoftAuthenticator(origin=runtime.settings.webauthn_origins[0], rp_id=runtime.settings.webauthn_rp_id)


async def password_and_totp(client: httpx.AsyncClient, db: asyncpg.Connection, login: OperatorLogin) -> httpx.Response:
    """Sign in again with password and TOTP (the codes used so far as if used minutes ago: a code is good once)."""
    await db.execute("UPDATE operators SET totp_last_step = totp_last_step - 5 WHERE id = $1", login.operator_id)
    return await client.post(
        "/v1/operator/sessions",
        json={"email": login.email, "password": STRONG_PASSWORD, "totp_code": totp_code(login.totp_secret)},
    )


async def test_password_and_totp_give_a_session_that_may_only_enrol_the_first_passkey(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    login = await enrolled_operator(runtime, client, "reviewer")
    me = await client.get("/v1/operator/me", headers=login.headers)
    assert me.status_code == 200 and me.json()["restricted"] is True
    cases = await client.get("/v1/operator/cases", headers=login.headers)
    assert cases.status_code == 403 and cases.json()["code"] == "passkey_required"

    device = authenticator(runtime)
    await enrol_operator_passkey(client, login.headers, device)
    # The restricted session may not add a second passkey (a phished password and code would).
    second = await client.post(
        "/v1/operator/passkeys/options", json={"password": STRONG_PASSWORD}, headers=login.headers
    )
    assert second.status_code == 403 and second.json()["code"] == "passkey_required"
    still = await client.get("/v1/operator/cases", headers=login.headers)
    assert still.status_code == 403 and still.json()["code"] == "passkey_required"

    headers = await operator_passkey_headers(client, device)
    assert (await client.get("/v1/operator/me", headers=headers)).json()["restricted"] is False
    assert (await client.get("/v1/operator/cases", headers=headers)).status_code == 200
    # A passkey session may add another.
    await enrol_operator_passkey(client, headers, authenticator(runtime), name="Spare key")

    # Now that the operator has a passkey, password and TOTP give no session at all.
    sessions = await db.fetchval("SELECT count(*) FROM operator_sessions WHERE operator_id = $1", login.operator_id)
    refused = await password_and_totp(client, db, login)
    assert refused.status_code == 403 and refused.json()["code"] == "passkey_required"
    assert (
        await db.fetchval("SELECT count(*) FROM operator_sessions WHERE operator_id = $1", login.operator_id)
        == sessions
    )
    reason = await db.fetchval(
        "SELECT details FROM audit_log WHERE action = 'operator.sign_in_failed' ORDER BY id DESC LIMIT 1"
    )
    assert "passkey_required" in reason


async def test_every_operator_route_that_acts_refuses_a_restricted_session(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, db: asyncpg.Connection
) -> None:
    case_id = await case_in_review(client, runtime)
    restricted = await enrolled_operator(runtime, client, "reviewer", "senior_reviewer", "privacy_officer", "admin")
    values = {
        "case_id": str(case_id),
        "operator_id": str(uuid.uuid4()),
        "name": "id_number",
        "document_id": str(uuid.uuid4()),
        "qualification_id": str(uuid.uuid4()),
        "role": "document",
        "account_id": str(uuid.uuid4()),
        "recipient_id": str(uuid.uuid4()),
        "notice_id": str(uuid.uuid4()),
        "passkey_id": str(uuid.uuid4()),
    }
    case_before = dict(await db.fetchrow("SELECT * FROM review_cases WHERE id = $1", case_id))
    app = create_litestar(settings, dsn="postgresql://unused")
    reachable = set()
    refused = 0
    for method, path, handler in operator_endpoints(app):
        if (method, path) in PUBLIC:
            continue
        if handler.opt.get(WHILE_ENROLLING_PASSKEY_OPT):
            reachable.add((method, path))
            continue
        url = re.sub(r"\{(\w+):\w+\}", lambda m: values[m.group(1)], path)
        response = await client.request(method, url, headers=restricted.headers, json={})
        assert response.status_code == 403, f"{method} {url}: {response.status_code} {response.text}"
        assert response.json()["code"] == "passkey_required", f"{method} {url}"
        refused += 1
    assert reachable == WHILE_ENROLLING
    assert refused >= 14
    denied = await db.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'operator.access_denied' AND actor_id = $1",
        str(restricted.operator_id),
    )
    assert denied == refused
    # Nothing was done to the case.
    assert dict(await db.fetchrow("SELECT * FROM review_cases WHERE id = $1", case_id)) == case_before


async def test_the_last_passkey_stays_while_passkeys_are_required(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    login = await enrolled_operator(runtime, client, "reviewer")
    device = authenticator(runtime)
    only = await enrol_operator_passkey(client, login.headers, device)
    headers = await operator_passkey_headers(client, device)
    last = await client.request(
        "DELETE", f"/v1/operator/passkeys/{only['id']}", json={"password": STRONG_PASSWORD}, headers=headers
    )
    assert last.status_code == 409 and last.json()["code"] == "last_passkey"
    spare = await enrol_operator_passkey(client, headers, authenticator(runtime), name="Spare key")
    removed = await client.request(
        "DELETE", f"/v1/operator/passkeys/{only['id']}", json={"password": STRONG_PASSWORD}, headers=headers
    )
    assert removed.status_code == 204
    assert [row["id"] for row in await db.fetch("SELECT id FROM operator_passkeys")] == [uuid.UUID(spare["id"])]


async def test_two_restricted_sessions_cannot_each_enrol_a_first_passkey(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    login = await enrolled_operator(runtime, client, "reviewer")
    again = await password_and_totp(client, db, login)
    assert again.status_code == 201 and again.json()["restricted"] is True
    sessions = [login.headers, {"authorization": f"Bearer {again.json()['token']}"}]
    answers = []
    for headers in sessions:
        options = await client.post(
            "/v1/operator/passkeys/options", json={"password": STRONG_PASSWORD}, headers=headers
        )
        assert options.status_code == 200, options.text
        answers.append((headers, authenticator(runtime).create(options.json())))
    enrolled = await asyncio.gather(
        *(
            client.post("/v1/operator/passkeys", json={"name": "Key", "credential": credential}, headers=headers)
            for headers, credential in answers
        )
    )
    assert sorted(response.status_code for response in enrolled) == [201, 403]
    assert await db.fetchval("SELECT count(*) FROM operator_passkeys") == 1
