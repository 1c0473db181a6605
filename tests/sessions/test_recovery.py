"""Recovery of a forgotten password: one answer for known and unknown identifiers, codes only to
verified contacts, single-use attempt-limited codes, the second factor, and every other session
ended."""

from __future__ import annotations

import asyncio
import re
import statistics
import time
import uuid
from typing import Any

import asyncpg
import httpx
import pyotp

from service.runtime import Runtime
from tests.arrange.contacts import verify_email
from tests.arrange.lifecycle import terminate
from tests.helpers import STRONG_PASSWORD, bearer, latest_code, outbox, register

NEW_PASSWORD = "quartz-lantern-meadow-58"


async def ask(client: httpx.AsyncClient, identifier: str) -> httpx.Response:
    return await client.post("/v1/recovery", json={"identifier": identifier})


async def complete(
    client: httpx.AsyncClient, identifier: str, code: str, new_password: str = NEW_PASSWORD, **extra: str
) -> httpx.Response:
    body = {"identifier": identifier, "code": code, "new_password": new_password, **extra}
    return await client.post("/v1/recovery/complete", json=body)


async def verified_person(client: httpx.AsyncClient, runtime: Runtime, **overrides: Any) -> tuple[str, dict[str, str]]:
    """A registered person with a verified e-mail (the phone, if any, stays unverified)."""
    body = await register(client, **overrides)
    me = bearer(body["session"]["token"])
    await verify_email(client, runtime, me, overrides.get("email", "bruce@example.com"))
    client.cookies.clear()
    return body["account_id"], me


async def recovery_code(runtime: Runtime, email: str = "bruce@example.com") -> str:
    await runtime.courier.deliver_queued()
    for message in reversed(outbox(runtime)):
        if message["to"] == email and "recovery code" in message.get("subject", "").lower():
            return await latest_code(runtime, "email", email)
    raise AssertionError(f"no recovery code sent to {email}")


def strip(response: httpx.Response) -> dict[str, Any]:
    return {k: v for k, v in response.json().items() if k != "request_id"}


async def test_recovery_sets_the_password_ends_other_sessions_and_signs_in(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account_id, me = await verified_person(client, runtime)
    other = bearer(
        (await client.post("/v1/sessions", json={"identifier": "bruce_lee", "password": STRONG_PASSWORD})).json()[
            "session"
        ]["token"]
    )
    client.cookies.clear()
    assert (await ask(client, "bruce@example.com")).status_code == 202
    code = await recovery_code(runtime)
    before = len(outbox(runtime))
    response = await complete(client, "bruce_lee", code)
    assert response.status_code == 201, response.text
    # Sign-in's shape, and its cookie.
    assert set(response.json()) == {"account_id", "state", "session"}
    assert set(response.json()["session"]) == {"session_id", "token", "expires_at"}
    assert response.json()["account_id"] == account_id
    assert "set-cookie" in response.headers
    new = bearer(response.json()["session"]["token"])
    assert (await client.get("/v1/sessions/whoami", headers=new)).status_code == 200
    for ended in (me, other):
        assert (await client.get("/v1/sessions/whoami", headers=ended)).status_code == 401
    client.cookies.clear()
    signed_in = await client.post("/v1/sessions", json={"identifier": "bruce_lee", "password": STRONG_PASSWORD})
    assert signed_in.status_code == 401
    signed_in = await client.post("/v1/sessions", json={"identifier": "bruce_lee", "password": NEW_PASSWORD})
    assert signed_in.status_code == 201
    await runtime.courier.deliver_queued()
    notices = [m for m in outbox(runtime)[before:] if m["to"] == "bruce@example.com"]
    assert any("reset" in m["subject"].lower() for m in notices)


async def test_a_code_goes_to_every_verified_contact_and_never_to_an_unverified_one(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    _, me = await verified_person(client, runtime)  # the phone +8613812345678 is unverified
    await runtime.courier.deliver_queued()
    before = len(outbox(runtime))
    assert (await ask(client, "bruce_lee")).status_code == 202
    await runtime.courier.deliver_queued()
    assert [(m["channel"], m["to"]) for m in outbox(runtime)[before:]] == [("email", "bruce@example.com")]
    # Once the phone is verified, both get the same code.
    phone_code = await latest_code(runtime, "sms", "+8613812345678")
    verified = await client.post("/v1/contacts/phone/verify", json={"code": phone_code}, headers=me)
    assert verified.status_code == 200
    client.cookies.clear()
    await runtime.database.pool.execute("UPDATE one_time_codes SET created_at = created_at - interval '2 minutes'")
    before = len(outbox(runtime))
    assert (await ask(client, "+8613812345678")).status_code == 202
    await runtime.courier.deliver_queued()
    sent = outbox(runtime)[before:]
    assert sorted(m["channel"] for m in sent) == ["email", "sms"]
    codes = {re.search(r"\b(\d{6})\b", m["body"]).group(1) for m in sent}  # type: ignore[union-attr]
    assert len(codes) == 1


async def test_an_account_without_a_verified_contact_gets_nothing(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await register(client)
    client.cookies.clear()
    await runtime.courier.deliver_queued()
    before = len(outbox(runtime))
    assert (await ask(client, "bruce@example.com")).status_code == 202
    await runtime.courier.deliver_queued()
    assert outbox(runtime)[before:] == []


async def test_known_and_unknown_identifiers_get_the_same_answer_in_the_same_time(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """Paired and interleaved, so the machine's load falls on both alike; each known identifier is a
    fresh account with a verified e-mail, so every request takes the full path that sends a code."""
    samples = 25
    known = []
    for _ in range(samples):
        suffix = uuid.uuid4().hex[:8]
        await verified_person(client, runtime, email=f"k{suffix}@example.com", username=f"k_{suffix}", phone=None)
        known.append(f"k{suffix}@example.com")
    unknown = [f"n{uuid.uuid4().hex[:8]}@example.com" for _ in range(samples)]
    known_times, unknown_times, bodies = [], [], set()
    for k, u in zip(known, unknown, strict=True):
        for identifier, times in ((k, known_times), (u, unknown_times)):
            started = time.perf_counter()
            response = await ask(client, identifier)
            times.append(time.perf_counter() - started)
            assert response.status_code == 202, response.text
            bodies.add(response.content)
    assert len(bodies) == 1
    known_median, unknown_median = statistics.median(known_times), statistics.median(unknown_times)
    print(f"recovery request medians: known {known_median * 1000:.1f} ms, unknown {unknown_median * 1000:.1f} ms")
    assert abs(known_median - unknown_median) < 0.03, (known_median, unknown_median)
    # Every known account did get its code.
    await runtime.courier.deliver_queued()
    recipients = {m["to"] for m in outbox(runtime) if "recovery code" in m.get("subject", "").lower()}
    assert recipients == set(known)


async def test_asking_is_throttled_alike_for_known_and_unknown_identifiers(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await verified_person(client, runtime)
    for identifier in ("bruce@example.com", "nobody@example.com"):
        statuses = [(await ask(client, identifier)).status_code for _ in range(7)]
        assert statuses[:5] == [202] * 5, (identifier, statuses)
        assert 429 in statuses[5:], (identifier, statuses)


async def test_a_code_works_once(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await verified_person(client, runtime)
    await ask(client, "bruce@example.com")
    code = await recovery_code(runtime)
    assert (await complete(client, "bruce@example.com", code)).status_code == 201
    client.cookies.clear()
    replay = await complete(client, "bruce@example.com", code, "another-sound-phrase-77")
    assert replay.status_code == 401
    assert replay.json()["code"] == "invalid_recovery_code"


async def test_wrong_codes_unknown_identifiers_and_other_accounts_codes_answer_alike(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await verified_person(client, runtime)
    await verified_person(client, runtime, email="other@example.com", username="other_one", phone=None)
    await ask(client, "bruce@example.com")
    await ask(client, "other@example.com")
    bruce_code = await recovery_code(runtime)
    other_code = await recovery_code(runtime, "other@example.com")
    wrong = "000000" if bruce_code != "000000" else "111111"
    answers = [
        await complete(client, "bruce@example.com", wrong),
        await complete(client, "nobody@example.com", bruce_code),
        await complete(client, "bruce@example.com", other_code) if other_code != bruce_code else None,
        # A weak password with a wrong code says nothing about the account's identifiers.
        await complete(client, "bruce@example.com", wrong, "bruce_lee_bruce"),
    ]
    bodies = [strip(a) for a in answers if a is not None]
    assert all(a.status_code == 401 for a in answers if a is not None)
    assert all(b == bodies[0] for b in bodies), bodies
    assert bodies[0]["code"] == "invalid_recovery_code"
    # Bruce's right code still works (four wrong guesses are within the limit), and only for Bruce.
    assert (await complete(client, "bruce@example.com", bruce_code)).status_code == 201


async def test_parallel_guesses_never_exceed_the_attempt_limit(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    await verified_person(client, runtime)
    await ask(client, "bruce@example.com")
    code = await recovery_code(runtime)
    guesses = [f"{n:06d}" for n in range(30) if f"{n:06d}" != code][:25]
    answers = await asyncio.gather(*(complete(client, "bruce@example.com", g) for g in guesses))
    assert {a.status_code for a in answers} == {401}
    attempts = await db.fetchval("SELECT attempts FROM one_time_codes WHERE purpose = 'recovery'")
    assert attempts == 5
    # The code is used up: even the right one is refused now.
    assert (await complete(client, "bruce@example.com", code)).status_code == 401


async def test_parallel_right_answers_give_one_session(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await verified_person(client, runtime)
    await ask(client, "bruce@example.com")
    code = await recovery_code(runtime)
    answers = await asyncio.gather(*(complete(client, "bruce@example.com", code) for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [201, 401, 401, 401]


async def test_a_weak_new_password_is_refused_with_field_errors_and_the_code_survives(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await verified_person(client, runtime)
    await ask(client, "bruce@example.com")
    code = await recovery_code(runtime)
    for weak, problem in (("short", "password_too_short"), ("bruce_lee_bruce", "password_contains_personal_info")):
        response = await complete(client, "bruce@example.com", code, weak)
        assert response.status_code == 422, response.text
        assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("new_password", problem)]
    assert (await complete(client, "bruce@example.com", code)).status_code == 201


async def test_the_second_factor_is_required_when_enrolled(client: httpx.AsyncClient, runtime: Runtime) -> None:
    _, me = await verified_person(client, runtime)
    enrollment = await client.post("/v1/me/totp", json={"password": STRONG_PASSWORD}, headers=me)
    secret = enrollment.json()["secret"]
    totp = pyotp.TOTP(secret)
    confirmed = await client.post("/v1/me/totp/confirm", json={"code": totp.at(time.time() - 30)}, headers=me)
    recovery_codes = confirmed.json()["recovery_codes"]
    client.cookies.clear()
    await ask(client, "bruce@example.com")
    code = await recovery_code(runtime)
    missing = await complete(client, "bruce@example.com", code)
    assert missing.status_code == 401
    assert missing.json()["code"] == "second_factor_required"
    wrong_totp = "000000" if totp.now() != "000000" else "111111"
    wrong = await complete(client, "bruce@example.com", code, totp_code=wrong_totp)
    assert wrong.json()["code"] == "invalid_second_factor"
    done = await complete(client, "bruce@example.com", code, recovery_code=recovery_codes[0])
    assert done.status_code == 201, done.text
    whoami = await client.get("/v1/sessions/whoami", headers=bearer(done.json()["session"]["token"]))
    assert whoami.json()["assurance"]["level"] == 2


async def test_a_terminated_account_is_answered_like_an_unknown_one(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account_id, _ = await verified_person(client, runtime)
    await ask(client, "bruce@example.com")
    code = await recovery_code(runtime)
    await terminate(client, runtime, uuid.UUID(account_id), "false_information")
    client.cookies.clear()
    await runtime.courier.deliver_queued()
    before = len(outbox(runtime))
    unknown = await ask(client, "nobody@example.com")
    asked = await ask(client, "bruce@example.com")
    assert asked.status_code == unknown.status_code == 202
    assert asked.content == unknown.content
    await runtime.courier.deliver_queued()
    assert not [m for m in outbox(runtime)[before:] if "recovery code" in m.get("subject", "").lower()]
    # A code sent before the termination does not open it either.
    refused = await complete(client, "bruce@example.com", code)
    assert refused.status_code == 401
    assert strip(refused) == strip(await complete(client, "nobody@example.com", code))


async def test_bad_input_is_a_problem_not_a_fault(client: httpx.AsyncClient) -> None:
    for path, body in (
        ("/v1/recovery", {}),
        ("/v1/recovery", {"identifier": ""}),
        ("/v1/recovery", {"identifier": "x" * 10_000}),
        ("/v1/recovery", {"identifier": "a\x00b@example.com"}),
        ("/v1/recovery", {"identifier": ["bruce@example.com"]}),
        ("/v1/recovery/complete", {"identifier": "bruce@example.com", "code": "12345", "new_password": NEW_PASSWORD}),
        ("/v1/recovery/complete", {"identifier": "bruce@example.com", "code": "abcdef", "new_password": NEW_PASSWORD}),
        ("/v1/recovery/complete", {"identifier": "bruce@example.com", "code": "123456"}),
        ("/v1/recovery/complete", {"identifier": "bruce@example.com", "code": "123456", "new_password": "n" * 5000}),
    ):
        response = await client.post(path, json=body)
        assert response.status_code in (400, 422), (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    weird = await ask(client, "😀" * 50)
    assert weird.status_code == 202


async def test_wrong_codes_take_as_long_for_known_and_unknown_identifiers(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    known = []
    for _ in range(5):
        suffix = uuid.uuid4().hex[:8]
        email = f"k{suffix}@example.com"
        await verified_person(client, runtime, email=email, username=f"k_{suffix}", phone=None)
        await ask(client, email)
        code = await recovery_code(runtime, email)
        known += [(email, "000000" if code != "000000" else "111111")] * 3
    known_times, unknown_times = [], []
    for email, wrong in known:
        for identifier, times in ((email, known_times), (f"n{uuid.uuid4().hex[:8]}@example.com", unknown_times)):
            started = time.perf_counter()
            response = await complete(client, identifier, wrong)
            times.append(time.perf_counter() - started)
            assert response.json()["code"] == "invalid_recovery_code"
    known_median, unknown_median = statistics.median(known_times), statistics.median(unknown_times)
    print(f"wrong-code medians: known {known_median * 1000:.1f} ms, unknown {unknown_median * 1000:.1f} ms")
    assert abs(known_median - unknown_median) < 0.03, (known_median, unknown_median)
