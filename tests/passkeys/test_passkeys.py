"""Passkeys over the API with a software authenticator: enrolment, sign-in, and their abuse
(replays, another flow's or another person's credential, a counter going backwards, enumeration)."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from typing import Any

import asyncpg
import httpx
import pyotp
import pytest

from service.runtime import Runtime
from tests.arrange.contacts import verify_email
from tests.arrange.passkeys import SoftAuthenticator, enrol_passkey, passkey_options
from tests.helpers import STRONG_PASSWORD, bearer, register

OTHER = {"username": "other_one", "email": "other@example.com", "phone": "+8613900001111"}


def authenticator(runtime: Runtime) -> SoftAuthenticator:
    return SoftAuthenticator(origin=runtime.settings.webauthn_origins[0], rp_id=runtime.settings.webauthn_rp_id)


async def sign_in(client: httpx.AsyncClient, flow: dict[str, Any], credential: dict[str, Any]) -> httpx.Response:
    return await client.post("/v1/sessions/passkey", json={"flow_id": flow["flow_id"], "credential": credential})


async def enrolled(client: httpx.AsyncClient, runtime: Runtime) -> tuple[dict[str, Any], SoftAuthenticator]:
    me = await register(client)
    device = authenticator(runtime)
    await enrol_passkey(client, me["session"]["token"], device)
    return me, device


async def test_enrol_then_sign_in_without_an_identifier_is_assurance_2(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    me = await register(client)
    await verify_email(client, runtime, bearer(me["session"]["token"]), "bruce@example.com")
    device = authenticator(runtime)
    await enrol_passkey(client, me["session"]["token"], device)
    listed = await client.get("/v1/me/passkeys", headers=bearer(me["session"]["token"]))
    assert [passkey["name"] for passkey in listed.json()] == ["My phone"]
    assert listed.json()[0]["backup_eligible"] and listed.json()[0]["backed_up"]

    flow = await passkey_options(client)
    assert flow["options"]["userVerification"] == "required"
    assert flow["options"].get("allowCredentials", []) == []
    response = await sign_in(client, flow, device.get(flow["options"]))
    assert response.status_code == 201, response.text
    assert set(response.json()) == {"account_id", "state", "session"}
    assert response.json()["account_id"] == me["account_id"]
    whoami = await client.get("/v1/sessions/whoami", headers=bearer(response.json()["session"]["token"]))
    assert whoami.json()["assurance"]["level"] == 2
    assert await db.fetchval("SELECT sign_count FROM passkey_credentials") == 1
    # The enrolment told the person, and the name is sealed, never in clear.
    assert await db.fetchval("SELECT count(*) FROM courier_messages WHERE template = 'passkey_added'") == 1
    assert b"My phone" not in await db.fetchval("SELECT name FROM passkey_credentials")


async def test_sign_in_with_an_identifier_names_the_passkeys(client: httpx.AsyncClient, runtime: Runtime) -> None:
    _, device = await enrolled(client, runtime)
    flow = await passkey_options(client, "BRUCE@example.com")
    assert [allowed["id"] for allowed in flow["options"]["allowCredentials"]] == [
        device.get(flow["options"], count=0)["rawId"]
    ]
    response = await sign_in(client, flow, device.get(flow["options"]))
    assert response.status_code == 201, response.text


async def test_creation_options_exclude_enrolled_passkeys_and_need_the_password(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    me, device = await enrolled(client, runtime)
    auth = bearer(me["session"]["token"])
    wrong = await client.post("/v1/me/passkeys/options", json={"password": "not-the-password-42"}, headers=auth)
    assert wrong.status_code == 403
    options = (await client.post("/v1/me/passkeys/options", json={"password": STRONG_PASSWORD}, headers=auth)).json()
    assert [excluded["id"] for excluded in options["excludeCredentials"]] == [device.create(options)["rawId"]]
    assert options["authenticatorSelection"] == {
        "residentKey": "preferred",
        "requireResidentKey": False,
        "userVerification": "required",
    }
    assert options["attestation"] == "none"


async def test_an_enrolment_challenge_is_used_once(client: httpx.AsyncClient, runtime: Runtime) -> None:
    me = await register(client)
    auth = bearer(me["session"]["token"])
    options = (await client.post("/v1/me/passkeys/options", json={"password": STRONG_PASSWORD}, headers=auth)).json()
    first = authenticator(runtime).create(options)
    second = authenticator(runtime).create(options)
    both = await asyncio.gather(
        client.post("/v1/me/passkeys", json={"name": "a", "credential": first}, headers=auth),
        client.post("/v1/me/passkeys", json={"name": "b", "credential": second}, headers=auth),
    )
    assert sorted(response.status_code for response in both) == [201, 422]
    refused = next(response for response in both if response.status_code == 422)
    assert refused.json()["code"] == "passkey_challenge_invalid"


async def test_an_enrolment_challenge_is_bound_to_its_session(client: httpx.AsyncClient, runtime: Runtime) -> None:
    me = await register(client)
    other_session = await client.post("/v1/sessions", json={"identifier": "bruce_lee", "password": STRONG_PASSWORD})
    options = (
        await client.post(
            "/v1/me/passkeys/options", json={"password": STRONG_PASSWORD}, headers=bearer(me["session"]["token"])
        )
    ).json()
    response = await client.post(
        "/v1/me/passkeys",
        json={"name": "x", "credential": authenticator(runtime).create(options)},
        headers=bearer(other_session.json()["session"]["token"]),
    )
    assert response.status_code == 422
    assert response.json()["code"] == "passkey_challenge_invalid"


async def test_enrolment_without_user_verification_is_refused(client: httpx.AsyncClient, runtime: Runtime) -> None:
    me = await register(client)
    auth = bearer(me["session"]["token"])
    options = (await client.post("/v1/me/passkeys/options", json={"password": STRONG_PASSWORD}, headers=auth)).json()
    device = authenticator(runtime)
    device.user_verified = False
    response = await client.post(
        "/v1/me/passkeys", json={"name": "x", "credential": device.create(options)}, headers=auth
    )
    assert response.status_code == 422
    assert response.json()["code"] == "passkey_credential_invalid"
    # The refused answer used its challenge up: the same options cannot be answered again.
    device.user_verified = True
    again = await client.post("/v1/me/passkeys", json={"name": "x", "credential": device.create(options)}, headers=auth)
    assert again.json()["code"] == "passkey_challenge_invalid"


async def test_a_replayed_assertion_is_refused_even_in_parallel(client: httpx.AsyncClient, runtime: Runtime) -> None:
    _, device = await enrolled(client, runtime)
    flow = await passkey_options(client)
    assertion = device.get(flow["options"])
    both = await asyncio.gather(sign_in(client, flow, assertion), sign_in(client, flow, assertion))
    assert sorted(response.status_code for response in both) == [201, 401]
    again = await sign_in(client, flow, assertion)
    assert again.status_code == 401
    assert again.json()["code"] == "passkey_refused"


async def test_an_assertion_for_another_flows_challenge_is_refused(client: httpx.AsyncClient, runtime: Runtime) -> None:
    _, device = await enrolled(client, runtime)
    mine, theirs = await passkey_options(client), await passkey_options(client)
    response = await sign_in(client, theirs, device.get(mine["options"]))
    assert response.status_code == 401
    assert response.json()["code"] == "passkey_refused"


async def test_a_flow_for_one_identifier_refuses_another_persons_passkey(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await enrolled(client, runtime)
    other = await register(client, **OTHER)
    theirs = authenticator(runtime)
    await enrol_passkey(client, other["session"]["token"], theirs)
    flow = await passkey_options(client, "bruce_lee")
    response = await sign_in(client, flow, theirs.get(flow["options"]))
    assert response.status_code == 401


async def test_a_counter_going_backwards_is_refused_and_told(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    me, device = await enrolled(client, runtime)
    await verify_email(client, runtime, bearer(me["session"]["token"]), "bruce@example.com")
    for _ in range(2):
        flow = await passkey_options(client)
        assert (await sign_in(client, flow, device.get(flow["options"]))).status_code == 201
    flow = await passkey_options(client)
    cloned = await sign_in(client, flow, device.get(flow["options"], count=1))
    assert cloned.status_code == 401
    assert await db.fetchval("SELECT sign_count FROM passkey_credentials") == 2
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'passkey.counter_regressed'") == 1
    assert await db.fetchval("SELECT count(*) FROM courier_messages WHERE template = 'passkey_counter_regressed'") == 1
    activity = await client.get("/v1/me/activity", headers=bearer(me["session"]["token"]))
    events = [entry["event"] for entry in activity.json()["entries"]]
    assert {"passkey_added", "passkey_counter_regressed", "sign_in_failed"} <= set(events), events


async def test_removing_needs_the_password_and_only_ones_own(client: httpx.AsyncClient, runtime: Runtime) -> None:
    me, device = await enrolled(client, runtime)
    other = await register(client, **OTHER)
    theirs = await enrol_passkey(client, other["session"]["token"], authenticator(runtime))
    auth = bearer(me["session"]["token"])
    mine = (await client.get("/v1/me/passkeys", headers=auth)).json()[0]["id"]

    not_mine = await client.request(
        "DELETE", f"/v1/me/passkeys/{theirs['id']}", json={"password": STRONG_PASSWORD}, headers=auth
    )
    assert not_mine.status_code == 404
    assert not_mine.json()["code"] == "passkey_not_found"
    wrong = await client.request(
        "DELETE", f"/v1/me/passkeys/{mine}", json={"password": "wrong-password-42!"}, headers=auth
    )
    assert wrong.status_code == 403
    removed = await client.request(
        "DELETE", f"/v1/me/passkeys/{mine}", json={"password": STRONG_PASSWORD}, headers=auth
    )
    assert removed.status_code == 204
    assert (await client.get("/v1/me/passkeys", headers=auth)).json() == []
    # The other person's passkey is still there; mine no longer signs in.
    assert len((await client.get("/v1/me/passkeys", headers=bearer(other["session"]["token"]))).json()) == 1
    flow = await passkey_options(client)
    assert (await sign_in(client, flow, device.get(flow["options"]))).status_code == 401


async def test_unknown_identifiers_are_answered_like_known_ones(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await enrolled(client, runtime)
    await register(client, **OTHER)  # known, without a passkey

    def shape(flow: dict[str, Any]) -> tuple[Any, ...]:
        options = flow["options"]
        allowed = options["allowCredentials"]
        return (sorted(flow), sorted(options), len(allowed), [len(item["id"]) for item in allowed], allowed[0]["type"])

    known = await passkey_options(client, "bruce_lee")
    without = await passkey_options(client, "other_one")
    unknown = await passkey_options(client, "nobody_here")
    assert shape(known) == shape(without) == shape(unknown)
    # A decoy is the same on every ask, as a real passkey's id would be, and differs by identifier.
    assert (await passkey_options(client, "nobody_here"))["options"]["allowCredentials"] == unknown["options"][
        "allowCredentials"
    ]
    assert unknown["options"]["allowCredentials"] != without["options"]["allowCredentials"]

    async def timed(identifier: str) -> float:
        started = time.perf_counter()
        await passkey_options(client, identifier)
        return time.perf_counter() - started

    for identifier in ("bruce_lee", "nobody_here"):  # warm up
        await timed(identifier)
    known_times = [await timed("bruce_lee") for _ in range(30)]
    unknown_times = [await timed("nobody_here") for _ in range(30)]
    known_median, unknown_median = statistics.median(known_times), statistics.median(unknown_times)
    print(f"passkey options median: known {known_median * 1000:.2f} ms, unknown {unknown_median * 1000:.2f} ms")
    # Both are one lookup by blind index, then a challenge written: no argon2, no large gap.
    assert abs(known_median - unknown_median) < max(known_median, unknown_median) * 0.5


@pytest.mark.parametrize(
    "credential",
    [
        {"id": "x", "rawId": "x", "type": "public-key", "response": {"clientDataJSON": "e30"}},
        {"id": "x", "rawId": "x", "type": "public-key", "response": {"clientDataJSON": "!!"}},
        {"id": "x", "rawId": "x", "type": "other", "response": {"clientDataJSON": "e30"}},
        {"id": "x", "rawId": "x" * 20000, "type": "public-key", "response": {"clientDataJSON": "e30"}},
        {"id": "x", "rawId": "x", "type": "public-key", "response": {"clientDataJSON": "bm90IGpzb24"}},
    ],
)
async def test_malformed_credentials_are_4xx(
    client: httpx.AsyncClient, runtime: Runtime, credential: dict[str, Any]
) -> None:
    flow = await passkey_options(client)
    response = await sign_in(client, flow, credential)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    me = await register(client)
    enrolment = await client.post(
        "/v1/me/passkeys", json={"name": "x", "credential": credential}, headers=bearer(me["session"]["token"])
    )
    assert 400 <= enrolment.status_code < 500, enrolment.text


async def test_a_passkey_from_another_origin_is_refused(client: httpx.AsyncClient, runtime: Runtime) -> None:
    _, device = await enrolled(client, runtime)
    device.origin = "https://phishing.example"
    flow = await passkey_options(client)
    assert (await sign_in(client, flow, device.get(flow["options"]))).status_code == 401


async def test_a_passkey_is_the_second_factor_when_totp_is_enrolled(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    me, device = await enrolled(client, runtime)
    auth = bearer(me["session"]["token"])
    secret = (await client.post("/v1/me/totp", json={"password": STRONG_PASSWORD}, headers=auth)).json()["secret"]
    code = pyotp.TOTP(secret).at(time.time() - 30)
    assert (await client.post("/v1/me/totp/confirm", json={"code": code}, headers=auth)).status_code == 200
    password_only = await client.post("/v1/sessions", json={"identifier": "bruce_lee", "password": STRONG_PASSWORD})
    assert password_only.json()["code"] == "second_factor_required"

    flow = await passkey_options(client, "bruce_lee")
    response = await sign_in(client, flow, device.get(flow["options"]))
    assert response.status_code == 201, response.text
    whoami = await client.get("/v1/sessions/whoami", headers=bearer(response.json()["session"]["token"]))
    assert whoami.json()["assurance"]["level"] == 2


async def test_an_erased_account_cannot_sign_in_with_a_passkey(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    me, device = await enrolled(client, runtime)
    await db.execute("UPDATE accounts SET state = 'erased' WHERE id = $1", uuid.UUID(me["account_id"]))
    flow = await passkey_options(client)
    response = await sign_in(client, flow, device.get(flow["options"]))
    assert response.status_code == 401
    assert response.json()["code"] == "passkey_refused"


async def test_an_expired_challenge_is_refused(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    me, device = await enrolled(client, runtime)
    flow = await passkey_options(client)
    assert await db.fetchval(
        "SELECT expires_at - now() BETWEEN interval '4 minutes' AND interval '5 minutes' FROM passkey_challenges"
        " WHERE id = $1",
        uuid.UUID(flow["flow_id"]),
    )
    await db.execute("UPDATE passkey_challenges SET expires_at = now() - interval '1 second'")
    assert (await sign_in(client, flow, device.get(flow["options"]))).status_code == 401
    auth = bearer(me["session"]["token"])
    options = (await client.post("/v1/me/passkeys/options", json={"password": STRONG_PASSWORD}, headers=auth)).json()
    await db.execute("UPDATE passkey_challenges SET expires_at = now() - interval '1 second'")
    late = await client.post(
        "/v1/me/passkeys", json={"name": "late", "credential": authenticator(runtime).create(options)}, headers=auth
    )
    assert late.json()["code"] == "passkey_challenge_invalid"
