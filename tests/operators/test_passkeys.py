"""Operators' passkeys over the API with the software authenticator: enrolment, sign-in, removal,
and their abuse (replays, counters going backwards, people's and operators' passkeys crossed,
another operator's passkey, a disabled operator)."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import asyncpg
import httpx

from service.runtime import Runtime
from tests.arrange.passkeys import (
    SoftAuthenticator,
    b64url,
    enrol_operator_passkey,
    enrol_passkey,
    operator_passkey_flow,
    operator_passkey_headers,
    operator_passkey_sign_in,
    passkey_options,
)
from tests.helpers import STRONG_PASSWORD, enrolled_operator, register


def authenticator(runtime: Runtime) -> SoftAuthenticator:
    return SoftAuthenticator(origin=runtime.settings.webauthn_origins[0], rp_id=runtime.settings.webauthn_rp_id)


async def audited(db: asyncpg.Connection, action: str) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT actor_type, actor_id, target_id, details FROM audit_log WHERE action = $1 ORDER BY id", action
    )
    return [{**dict(row), "details": json.loads(row["details"])} for row in rows]


async def test_an_operator_enrols_a_passkey_and_signs_in_with_it(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    login = await enrolled_operator(runtime, client, "reviewer")
    device = authenticator(runtime)
    options = await client.post(
        "/v1/operator/passkeys/options", json={"password": STRONG_PASSWORD}, headers=login.headers
    )
    assert options.status_code == 200, options.text
    created = options.json()
    assert created["authenticatorSelection"]["residentKey"] == "required"
    assert created["authenticatorSelection"]["userVerification"] == "required"
    assert created["user"]["name"] == login.email
    enrolled = await client.post(
        "/v1/operator/passkeys", json={"name": "Work key", "credential": device.create(created)}, headers=login.headers
    )
    assert enrolled.status_code == 201, enrolled.text
    listed = await client.get("/v1/operator/passkeys", headers=login.headers)
    assert [passkey["name"] for passkey in listed.json()] == ["Work key"]
    assert b"Work key" not in await db.fetchval("SELECT name FROM operator_passkeys")
    # Operators' passkeys are theirs alone: people's table holds none.
    assert await db.fetchval("SELECT count(*) FROM passkey_credentials") == 0
    added = await audited(db, "operator.passkey_added")
    assert [(row["actor_type"], row["actor_id"], row["target_id"]) for row in added] == [
        ("operator", str(login.operator_id), str(login.operator_id))
    ]

    again = await client.post(
        "/v1/operator/passkeys/options", json={"password": STRONG_PASSWORD}, headers=login.headers
    )
    assert [excluded["id"] for excluded in again.json()["excludeCredentials"]] == [b64url(device.credential_id)]

    flow = await operator_passkey_flow(client)
    assert flow["options"]["userVerification"] == "required"
    assert flow["options"].get("allowCredentials", []) == []
    signed_in = await operator_passkey_sign_in(client, flow, device.get(flow["options"]))
    assert signed_in.status_code == 201, signed_in.text
    password_grant = {"session_id", "token", "expires_at", "idle_timeout_seconds", "restricted"}
    assert set(signed_in.json()) == password_grant
    assert signed_in.json()["restricted"] is False
    headers = {"authorization": f"Bearer {signed_in.json()['token']}"}
    me = await client.get("/v1/operator/me", headers=headers)
    assert me.json()["operator_id"] == str(login.operator_id)
    assert me.json()["signed_in_with"] == "passkey"
    assert (await client.get("/v1/operator/cases", headers=headers)).status_code == 200
    assert await db.fetchval("SELECT sign_count FROM operator_passkeys") == 1
    signed = await audited(db, "operator.signed_in")
    assert signed[-1]["details"]["kind"] == "passkey"
    assert signed[-1]["details"]["session_id"] == signed_in.json()["session_id"]


async def test_enrolment_options_need_the_password(client: httpx.AsyncClient, runtime: Runtime) -> None:
    login = await enrolled_operator(runtime, client, "reviewer")
    wrong = await client.post(
        "/v1/operator/passkeys/options", json={"password": "not-the-password-at-all"}, headers=login.headers
    )
    assert wrong.status_code == 403 and wrong.json()["code"] == "reauthentication_failed"
    unsigned = await client.post("/v1/operator/passkeys/options", json={"password": STRONG_PASSWORD})
    assert unsigned.status_code == 401


async def test_an_enrolment_challenge_is_used_once_and_bound_to_its_session(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    login = await enrolled_operator(runtime, client, "reviewer")
    other_session = await enrolled_operator(runtime, client, "reviewer")
    device = authenticator(runtime)
    options = await client.post(
        "/v1/operator/passkeys/options", json={"password": STRONG_PASSWORD}, headers=login.headers
    )
    credential = device.create(options.json())
    # Another operator's session cannot answer this session's challenge (nor use it up).
    stolen = await client.post(
        "/v1/operator/passkeys", json={"name": "Stolen", "credential": credential}, headers=other_session.headers
    )
    assert stolen.status_code == 422 and stolen.json()["code"] == "passkey_challenge_invalid"
    first = await client.post(
        "/v1/operator/passkeys", json={"name": "Key", "credential": credential}, headers=login.headers
    )
    assert first.status_code == 201, first.text
    replayed = await client.post(
        "/v1/operator/passkeys", json={"name": "Key", "credential": credential}, headers=login.headers
    )
    assert replayed.status_code == 422 and replayed.json()["code"] == "passkey_challenge_invalid"
    assert await db.fetchval("SELECT count(*) FROM operator_passkeys") == 1


async def test_a_replayed_assertion_is_refused_even_in_parallel(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    login = await enrolled_operator(runtime, client, "reviewer")
    device = authenticator(runtime)
    await enrol_operator_passkey(client, login.headers, device)
    flow = await operator_passkey_flow(client)
    assertion = device.get(flow["options"])
    answers = await asyncio.gather(*(operator_passkey_sign_in(client, flow, assertion) for _ in range(3)))
    assert sorted(answer.status_code for answer in answers) == [201, 401, 401]
    later = await operator_passkey_sign_in(client, flow, assertion)
    assert later.status_code == 401 and later.json()["code"] == "passkey_refused"
    # An assertion answering another flow's challenge is refused too.
    first, second = await operator_passkey_flow(client), await operator_passkey_flow(client)
    crossed = await operator_passkey_sign_in(client, second, device.get(first["options"]))
    assert crossed.status_code == 401
    assert await db.fetchval("SELECT count(*) FROM operator_sessions WHERE signed_in_with = 'passkey'") == 1


async def test_a_counter_going_backwards_is_refused_and_audited(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    login = await enrolled_operator(runtime, client, "reviewer")
    device = authenticator(runtime)
    await enrol_operator_passkey(client, login.headers, device)
    device.sign_count = 5
    await operator_passkey_headers(client, device)
    flow = await operator_passkey_flow(client)
    cloned = await operator_passkey_sign_in(client, flow, device.get(flow["options"], count=3))
    assert cloned.status_code == 401 and cloned.json()["code"] == "passkey_refused"
    regressed = await audited(db, "operator.passkey_counter_regressed")
    assert [row["target_id"] for row in regressed] == [str(login.operator_id)]
    assert await db.fetchval("SELECT sign_count FROM operator_passkeys") == 6


async def test_operators_and_peoples_passkeys_do_not_cross(client: httpx.AsyncClient, runtime: Runtime) -> None:
    login = await enrolled_operator(runtime, client, "admin")
    operator_device = authenticator(runtime)
    await enrol_operator_passkey(client, login.headers, operator_device)
    person = await register(client)
    person_device = authenticator(runtime)
    await enrol_passkey(client, person["session"]["token"], person_device)

    # An operator's passkey answering a person's sign-in flow.
    people_flow = await passkey_options(client)
    as_person = await client.post(
        "/v1/sessions/passkey",
        json={"flow_id": people_flow["flow_id"], "credential": operator_device.get(people_flow["options"])},
    )
    assert as_person.status_code == 401 and as_person.json()["code"] == "passkey_refused"
    # A person's passkey answering an operator's sign-in flow.
    operator_flow = await operator_passkey_flow(client)
    as_operator = await operator_passkey_sign_in(client, operator_flow, person_device.get(operator_flow["options"]))
    assert as_operator.status_code == 401 and as_operator.json()["code"] == "passkey_refused"
    # And a person's session enrols nothing under the operators' API.
    person_headers = {"authorization": f"Bearer {person['session']['token']}"}
    refused = await client.post(
        "/v1/operator/passkeys/options", json={"password": STRONG_PASSWORD}, headers=person_headers
    )
    assert refused.status_code == 401


async def test_only_ones_own_passkey_can_be_removed_and_a_removed_one_no_longer_signs_in(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    mine = await enrolled_operator(runtime, client, "reviewer")
    theirs = await enrolled_operator(runtime, client, "admin")
    my_device, their_device = authenticator(runtime), authenticator(runtime)
    await enrol_operator_passkey(client, mine.headers, my_device)
    their_passkey = await enrol_operator_passkey(client, theirs.headers, their_device)

    other = await client.request(
        "DELETE",
        f"/v1/operator/passkeys/{their_passkey['id']}",
        json={"password": STRONG_PASSWORD},
        headers=mine.headers,
    )
    assert other.status_code == 404 and other.json()["code"] == "passkey_not_found"
    wrong_password = await client.request(
        "DELETE",
        f"/v1/operator/passkeys/{their_passkey['id']}",
        json={"password": "not-the-password-at-all"},
        headers=theirs.headers,
    )
    assert wrong_password.status_code == 403
    assert await db.fetchval("SELECT count(*) FROM operator_passkeys") == 2

    removed = await client.request(
        "DELETE",
        f"/v1/operator/passkeys/{their_passkey['id']}",
        json={"password": STRONG_PASSWORD},
        headers=theirs.headers,
    )
    assert removed.status_code == 204
    rows = await audited(db, "operator.passkey_removed")
    assert [(row["actor_id"], row["target_id"]) for row in rows] == [(str(theirs.operator_id), str(theirs.operator_id))]
    flow = await operator_passkey_flow(client)
    gone = await operator_passkey_sign_in(client, flow, their_device.get(flow["options"]))
    assert gone.status_code == 401
    await operator_passkey_headers(client, my_device)


async def test_a_disabled_operators_passkey_is_refused(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    admin = await enrolled_operator(runtime, client, "admin")
    reviewer = await enrolled_operator(runtime, client, "reviewer")
    device = authenticator(runtime)
    await enrol_operator_passkey(client, reviewer.headers, device)
    disabled = await client.post(f"/v1/operator/operators/{reviewer.operator_id}/disable", headers=admin.headers)
    assert disabled.status_code == 204
    flow = await operator_passkey_flow(client)
    refused = await operator_passkey_sign_in(client, flow, device.get(flow["options"]))
    assert refused.status_code == 401 and refused.json()["code"] == "passkey_refused"
    failures = await audited(db, "operator.sign_in_failed")
    assert failures[-1]["target_id"] == str(reviewer.operator_id)
    assert failures[-1]["details"] == {"kind": "passkey", "reason": "operator_disabled"}


async def test_malformed_and_expired_answers_are_4xx(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    login = await enrolled_operator(runtime, client, "reviewer")
    device = authenticator(runtime)
    await enrol_operator_passkey(client, login.headers, device)
    flow = await operator_passkey_flow(client)
    credential = device.get(flow["options"])
    garbled = {**credential, "response": {**credential["response"], "clientDataJSON": "AAAA"}}
    assert (await operator_passkey_sign_in(client, flow, garbled)).status_code in {401, 422}
    not_json = await client.post("/v1/operator/sessions/passkey", json={"flow_id": flow["flow_id"], "credential": 7})
    assert not_json.status_code == 422
    fresh = await operator_passkey_flow(client)
    bad_signature = device.get(fresh["options"])
    bad_signature["response"]["signature"] = "AAAA"
    assert (await operator_passkey_sign_in(client, fresh, bad_signature)).status_code == 401
    expired = await operator_passkey_flow(client)
    # A challenge lives five minutes.
    assert await db.fetchval(
        """SELECT expires_at - now() BETWEEN interval '4 minutes' AND interval '5 minutes'
           FROM operator_passkey_challenges WHERE id = $1""",
        uuid.UUID(expired["flow_id"]),
    )
    await db.execute("UPDATE operator_passkey_challenges SET expires_at = now() - interval '1 second'")
    late = await operator_passkey_sign_in(client, expired, device.get(expired["options"]))
    assert late.status_code == 401
    assert await db.fetchval("SELECT count(*) FROM operator_sessions WHERE signed_in_with = 'passkey'") == 0
    # The same authenticator, on time, is let in: it was the expiry that refused it.
    await operator_passkey_headers(client, device)
