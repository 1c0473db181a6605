"""Operators' passkeys in the console over HTTP, with the software authenticator: enrolling from
the Passkeys page, signing in with one, removing one; and their abuse (replays, a flow answered
from another sign-in page, missing CSRF tokens, a person's passkey, malformed bodies), and console
sessions kept apart from API sessions both ways."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import httpx
import pytest

from service.runtime import Runtime
from tests.arrange.console import (
    ConsoleOperator,
    console_enrol_passkey,
    console_passkey_flow,
    console_passkey_sign_in,
    console_sign_in,
    csrf_of,
    enrolled_for_console,
)
from tests.arrange.passkeys import (
    SoftAuthenticator,
    enrol_operator_passkey,
    enrol_passkey,
    operator_passkey_flow,
    operator_passkey_sign_in,
)
from tests.helpers import enrolled_operator, register

COOKIE = "__Host-idv_console"
PRE_COOKIE = "__Host-idv_console_pre"
FAKE_CREDENTIAL = {"id": "AA", "rawId": "AA", "type": "public-key", "response": {"clientDataJSON": "e30"}}


def authenticator(runtime: Runtime) -> SoftAuthenticator:
    return SoftAuthenticator(origin=runtime.settings.webauthn_origins[0], rp_id=runtime.settings.webauthn_rp_id)


async def audited(db: asyncpg.Connection, action: str) -> list[dict[str, Any]]:
    rows = await db.fetch("SELECT actor_id, target_id, details FROM audit_log WHERE action = $1 ORDER BY id", action)
    return [{**dict(row), "details": json.loads(row["details"])} for row in rows]


async def with_console_passkey(
    client: httpx.AsyncClient, runtime: Runtime, *roles: str
) -> tuple[ConsoleOperator, SoftAuthenticator]:
    """An operator who enrolled a passkey from the console and signed out."""
    operator = await enrolled_for_console(runtime, client, *roles)
    assert (await console_sign_in(client, operator)).status_code == 303
    device = authenticator(runtime)
    enrolled = await console_enrol_passkey(client, operator, device)
    assert enrolled.status_code == 201, enrolled.text
    client.cookies.clear()
    return operator, device


async def test_an_operator_enrols_a_passkey_in_the_console_and_signs_in_with_it(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    operator = await enrolled_for_console(runtime, client, "reviewer")
    assert (await console_sign_in(client, operator)).status_code == 303
    page = await client.get("/console/passkeys")
    assert page.status_code == 200 and "No passkeys yet" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert '<script src="/console/static/passkeys.js" defer>' in page.text and "<script>" not in page.text
    device = authenticator(runtime)
    enrolled = await console_enrol_passkey(client, operator, device, "Laptop")
    assert enrolled.status_code == 201, enrolled.text
    assert enrolled.json()["location"] == "/console/passkeys"
    page = await client.get("/console/passkeys")
    assert "Laptop" in page.text and "No passkeys yet" not in page.text
    added = await audited(db, "operator.passkey_added")
    assert [(row["actor_id"], row["target_id"]) for row in added] == [(str(operator.operator_id),) * 2]
    sign_out = await client.post("/console/sign-out", data={"csrf_token": csrf_of(page.text)})
    assert sign_out.status_code == 303

    sign_in_page = await client.get("/console/sign-in")
    assert 'id="passkey-sign-in"' in sign_in_page.text
    signed_in = await console_passkey_sign_in(client, device)
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json() == {"location": "/console/"}
    cookies = signed_in.headers.get_list("set-cookie")
    assert any(c.startswith(f"{COOKIE}=") and "httponly" in c.lower() for c in cookies)
    assert any(c.startswith(f"{PRE_COOKIE}=") and "max-age=0" in c.lower() for c in cookies)
    assert (await client.get("/console/queue")).status_code == 200
    row = await db.fetchrow("SELECT signed_in_with, channel FROM operator_sessions WHERE ended_at IS NULL")
    assert row is not None and (row["signed_in_with"], row["channel"]) == ("passkey", "console")
    signed = await audited(db, "operator.signed_in")
    assert [(s["details"]["kind"], s["details"]["channel"]) for s in signed] == [
        ("password_totp", "console"),
        ("passkey", "console"),
    ]


async def test_a_replayed_assertion_is_refused(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    _, device = await with_console_passkey(client, runtime, "reviewer")
    token, flow = await console_passkey_flow(client)
    answer = {"csrf_token": token, "flow_id": flow["flow_id"], "credential": device.get(flow["options"])}
    assert (await client.post("/console/sign-in/passkey", json=answer)).status_code == 200
    # The same browser, its pre-session cookie put back, sends the same answer again.
    client.cookies.clear()
    client.cookies.set(PRE_COOKIE, token, domain="idv.test")
    replayed = await client.post("/console/sign-in/passkey", json=answer)
    assert replayed.status_code == 401 and replayed.json()["code"] == "passkey_refused"
    assert not [c for c in replayed.headers.get_list("set-cookie") if c.startswith(f"{COOKIE}=")]
    assert (await client.get("/console/queue")).status_code == 303
    failed = await audited(db, "operator.sign_in_failed")
    assert [f["details"]["reason"] for f in failed] == ["passkey_challenge_invalid"]
    # Sent three times at once, one answer signs in.
    client.cookies.clear()
    token, flow = await console_passkey_flow(client)
    answer = {"csrf_token": token, "flow_id": flow["flow_id"], "credential": device.get(flow["options"])}
    answers = await asyncio.gather(*(client.post("/console/sign-in/passkey", json=answer) for _ in range(3)))
    assert sorted(a.status_code for a in answers) == [200, 401, 401]


async def test_options_of_one_sign_in_page_are_refused_from_another(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    _, device = await with_console_passkey(client, runtime, "reviewer")
    first_token, first_flow = await console_passkey_flow(client)
    credential = device.get(first_flow["options"])
    # Another sign-in page (its own pre-session cookie and token) answers the first page's flow.
    second_token, _ = await console_passkey_flow(client)
    stolen = {"csrf_token": second_token, "flow_id": first_flow["flow_id"], "credential": credential}
    refused = await client.post("/console/sign-in/passkey", json=stolen)
    assert refused.status_code == 401 and refused.json()["code"] == "passkey_refused"
    assert (await client.get("/console/queue")).status_code == 303
    # The API's passkey sign-in cannot answer a console flow either.
    api = await operator_passkey_sign_in(client, first_flow, device.get(first_flow["options"]))
    assert api.status_code == 401
    # Nor the console an API flow.
    api_flow = await operator_passkey_flow(client)
    crossed = {
        "csrf_token": second_token,
        "flow_id": api_flow["flow_id"],
        "credential": device.get(api_flow["options"]),
    }
    assert (await client.post("/console/sign-in/passkey", json=crossed)).status_code == 401
    # The page that asked can still answer its own flow: a refused answer did not use it up.
    client.cookies.set(PRE_COOKIE, first_token, domain="idv.test")
    own = {"csrf_token": first_token, "flow_id": first_flow["flow_id"], "credential": device.get(first_flow["options"])}
    assert (await client.post("/console/sign-in/passkey", json=own)).status_code == 200
    assert (await client.get("/console/queue")).status_code == 200


async def test_passkey_calls_without_their_csrf_token_are_refused(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    operator, device = await with_console_passkey(client, runtime, "reviewer")
    token, flow = await console_passkey_flow(client)
    for forged in ("", "made-up", token[:-1]):
        options = await client.post("/console/sign-in/passkey/options", json={"csrf_token": forged})
        assert options.status_code == 403 and options.json()["code"] == "csrf_token_invalid"
        answer = {"csrf_token": forged, "flow_id": flow["flow_id"], "credential": device.get(flow["options"])}
        refused = await client.post("/console/sign-in/passkey", json=answer)
        assert refused.status_code == 403 and refused.json()["code"] == "csrf_token_invalid"
    missing = await client.post("/console/sign-in/passkey/options", json={})
    assert 400 <= missing.status_code < 500
    # Without the page's cookie the token it carried is no good either.
    client.cookies.clear()
    alone = await client.post("/console/sign-in/passkey/options", json={"csrf_token": token})
    assert alone.status_code == 403
    assert await db.fetchval("SELECT count(*) FROM operator_sessions WHERE signed_in_with = 'passkey'") == 0

    # The Passkeys page's calls take the console session's token.
    assert (await console_passkey_sign_in(client, device)).status_code == 200
    session_token = csrf_of((await client.get("/console/passkeys")).text)
    for forged in ("", "0" * 64, session_token[:-1]):
        options = await client.post("/console/passkeys/options", json={"csrf_token": forged, "password": "x" * 12})
        assert options.status_code == 403 and options.json()["code"] == "csrf_token_invalid"
        enrol = await client.post(
            "/console/passkeys/enrolment", json={"csrf_token": forged, "name": "Forged", "credential": FAKE_CREDENTIAL}
        )
        assert enrol.status_code in {403, 422}
    passkey_id = await db.fetchval("SELECT id FROM operator_passkeys")
    forged_remove = await client.post(
        f"/console/passkeys/{passkey_id}/remove",
        data={"csrf_token": "forged", "password": operator.password},
    )
    assert forged_remove.status_code == 403 and "csrf_token_invalid" in forged_remove.text
    assert await db.fetchval("SELECT count(*) FROM operator_passkeys") == 1
    # Without a console session the calls are 401 and the page sends the browser to sign in.
    client.cookies.clear()
    unsigned = await client.post("/console/passkeys/options", json={"csrf_token": session_token, "password": "x"})
    assert unsigned.status_code == 401
    page = await client.get("/console/passkeys")
    assert page.status_code == 303 and page.headers["location"] == "/console/sign-in"


async def test_a_persons_passkey_never_signs_in_to_the_console(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    person = await register(client)
    device = authenticator(runtime)
    await enrol_passkey(client, person["session"]["token"], device)
    client.cookies.clear()
    refused = await console_passkey_sign_in(client, device)
    assert refused.status_code == 401 and refused.json()["code"] == "passkey_refused"
    assert not [c for c in refused.headers.get_list("set-cookie") if c.startswith(f"{COOKIE}=")]
    assert await db.fetchval("SELECT count(*) FROM operator_sessions") == 0


async def test_a_console_session_is_no_bearer_token(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    operator, device = await with_console_passkey(client, runtime, "reviewer")
    assert (await console_passkey_sign_in(client, device)).status_code == 200
    token = client.cookies[COOKIE]
    client.cookies.clear()
    me = await client.get("/v1/operator/me", headers={"authorization": f"Bearer {token}"})
    assert me.status_code == 401
    wrong = await audited(db, "operator.session_wrong_channel")
    assert [(w["target_id"], w["details"]["channel"], w["details"]["presented_to"]) for w in wrong] == [
        (str(operator.operator_id), "console", "api")
    ]
    # The session itself is still the console's.
    client.cookies.set(COOKIE, token, domain="idv.test")
    assert (await client.get("/console/queue")).status_code == 200


async def test_an_api_session_in_the_console_cookie_opens_nothing(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    login = await enrolled_operator(runtime, client, "reviewer")
    device = authenticator(runtime)
    await enrol_operator_passkey(client, login.headers, device)
    flow = await operator_passkey_flow(client)
    passkey_session = await operator_passkey_sign_in(client, flow, device.get(flow["options"]))
    for token in (login.token, passkey_session.json()["token"]):
        client.cookies.clear()
        client.cookies.set(COOKIE, token, domain="idv.test")
        for path in ("/console/", "/console/queue", "/console/passkeys"):
            response = await client.get(path)
            assert response.status_code == 303 and response.headers["location"] == "/console/sign-in", path
        # Signing in to the console with that cookie held does not end the API's session.
        assert (await client.get("/v1/operator/me", headers={"authorization": f"Bearer {token}"})).status_code == 200
    wrong = await audited(db, "operator.session_wrong_channel")
    assert {w["details"]["presented_to"] for w in wrong} == {"console"}
    api_sessions = await db.fetchval(
        "SELECT count(*) FROM operator_sessions WHERE channel = 'api' AND ended_at IS NULL"
    )
    assert api_sessions == 2


@pytest.mark.parametrize(
    "path",
    [
        "/console/sign-in/passkey/options",
        "/console/sign-in/passkey",
        "/console/passkeys/options",
        "/console/passkeys/enrolment",
    ],
)
async def test_malformed_passkey_bodies_are_4xx(client: httpx.AsyncClient, runtime: Runtime, path: str) -> None:
    operator = await enrolled_for_console(runtime, client, "reviewer")
    assert (await console_sign_in(client, operator)).status_code == 303
    token = csrf_of((await client.get("/console/passkeys")).text)
    bodies: list[bytes] = [
        b"{",
        b"null",
        b"[]",
        b'"text"',
        json.dumps({"csrf_token": token, "flow_id": "not-a-uuid", "credential": {}}).encode(),
        json.dumps({"csrf_token": token, "name": "\u0000", "credential": {"id": 1}}).encode(),
        json.dumps({"csrf_token": token, "password": 5, "surplus": True}).encode(),
        json.dumps({"csrf_token": ["x"] * 3}).encode(),
        json.dumps(
            {
                "csrf_token": token,
                "flow_id": "00000000-0000-0000-0000-000000000000",
                "credential": {"id": "AA", "rawId": "AA", "type": "public-key", "response": {"clientDataJSON": "e30"}},
            }
        ).encode(),
        json.dumps(
            {
                "csrf_token": token,
                "name": "k",
                "credential": {"id": "AA", "rawId": "AA", "type": "public-key", "response": {"clientDataJSON": "AAAA"}},
            }
        ).encode(),
    ]
    for body in bodies:
        response = await client.post(path, content=body, headers={"content-type": "application/json"})
        assert 400 <= response.status_code < 500, (body, response.status_code, response.text)
    form = await client.post(path, data={"csrf_token": token})
    assert form.status_code == 415


async def test_removing_a_passkey_takes_the_password_and_only_ones_own(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    other, _ = await with_console_passkey(client, runtime, "reviewer")
    others_passkey = await db.fetchval("SELECT id FROM operator_passkeys WHERE operator_id = $1", other.operator_id)
    _, device = await with_console_passkey(client, runtime, "reviewer")
    assert (await console_passkey_sign_in(client, device)).status_code == 200
    page = await client.get("/console/passkeys")
    token = csrf_of(page.text)
    mine = await db.fetchval("SELECT id FROM operator_passkeys WHERE operator_id <> $1", other.operator_id)
    assert f"/console/passkeys/{mine}/remove" in page.text and str(others_passkey) not in page.text
    wrong = await client.post(
        f"/console/passkeys/{mine}/remove", data={"csrf_token": token, "password": "not the password at all"}
    )
    assert wrong.status_code == 403 and "reauthentication_failed" in wrong.text
    assert 'href="/console/passkeys"' in wrong.text
    theirs = await client.post(
        f"/console/passkeys/{others_passkey}/remove", data={"csrf_token": token, "password": other.password}
    )
    assert theirs.status_code == 404 and "passkey_not_found" in theirs.text
    assert await db.fetchval("SELECT count(*) FROM operator_passkeys") == 2
    removed = await client.post(
        f"/console/passkeys/{mine}/remove", data={"csrf_token": token, "password": other.password}
    )
    assert removed.status_code == 303 and removed.headers["location"] == "/console/passkeys"
    assert await db.fetchval("SELECT count(*) FROM operator_passkeys") == 1
    assert len(await audited(db, "operator.passkey_removed")) == 1
