"""Assisted recovery (issue 19): a person who lost the password and the second factor proves their real
name again and two operators decide. One answer for every identifier; a case only when the answers
match a verified real name; approving removes the old factors and sends a code to the verified
contacts; rejecting changes nothing."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from typing import Any

import asyncpg
import httpx
import msgspec
import pyotp

from service.runtime import Runtime
from service.sessions.assisted import DECIDED_JOB, RecoveryDecided, tell_recovery_decided
from tests.arrange.consents import grant
from tests.arrange.contacts import verify_email
from tests.arrange.lifecycle import terminate
from tests.arrange.operators import claim_and_decide
from tests.arrange.people import ZHANG_SAN
from tests.helpers import STRONG_PASSWORD, bearer, enrolled_operator, latest_code, outbox, register

NEW_PASSWORD = "quartz-lantern-meadow-58"
MATCHING = {"legal_name": ZHANG_SAN["legal_name"], "id_number": ZHANG_SAN["id_number"]}


async def _person(client: httpx.AsyncClient, runtime: Runtime, *, real_name: bool, totp: bool) -> dict[str, Any]:
    """A person with a verified e-mail, verified as ZHANG_SAN when asked, with TOTP when asked."""
    suffix = uuid.uuid4().hex[:8]
    email = f"{suffix}@example.com"
    body = await register(client, birth_date="1949-12-31", email=email, username=f"u_{suffix}", phone=None)
    me = bearer(body["session"]["token"])
    await verify_email(client, runtime, me, email)
    if real_name:
        await grant(client, me, "identity_data")
        verified = await client.post("/v1/me/verifications/real-name", json=ZHANG_SAN, headers=me)
        assert verified.status_code == 201 and verified.json()["status"] == "verified", verified.text
    if totp:
        enrolled = await client.post("/v1/me/totp", json={"password": STRONG_PASSWORD}, headers=me)
        assert enrolled.status_code == 201, enrolled.text
        code = pyotp.TOTP(enrolled.json()["secret"]).now()
        assert (await client.post("/v1/me/totp/confirm", json={"code": code}, headers=me)).status_code == 200
    client.cookies.clear()
    return {"email": email, "me": me, "account_id": uuid.UUID(body["account_id"])}


async def _ask(client: httpx.AsyncClient, identifier: str, **answers: str) -> httpx.Response:
    response = await client.post("/v1/recovery/assisted", json={"identifier": identifier, **MATCHING, **answers})
    client.cookies.clear()
    return response


async def _cases(db: asyncpg.Connection, account_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(
        await db.fetch(
            "SELECT id, state FROM review_cases WHERE subject_account_id = $1 AND case_type = 'account_recovery'",
            account_id,
        )
    )


async def _run_decided_jobs(runtime: Runtime, db: asyncpg.Connection) -> int:
    """What the worker does with the queued outcome jobs; how many there were."""
    rows = await db.fetch("SELECT payload FROM pgqueuer WHERE entrypoint = $1 ORDER BY id", DECIDED_JOB)
    for row in rows:
        await tell_recovery_decided(runtime, msgspec.json.decode(row["payload"], type=RecoveryDecided))
    await db.execute("DELETE FROM pgqueuer WHERE entrypoint = $1", DECIDED_JOB)
    await runtime.courier.deliver_queued()
    return len(rows)


def _subjects_to(runtime: Runtime, recipient: str) -> list[str]:
    return [m.get("subject") or m["body"] for m in outbox(runtime) if m["to"] == recipient]


async def _totp_enabled(db: asyncpg.Connection, account_id: uuid.UUID) -> bool:
    return bool(await db.fetchval("SELECT count(*) FROM totp_credentials WHERE account_id = $1", account_id))


async def test_two_operators_approve_the_old_factors_go_and_a_code_sets_a_new_password(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    holder = await _person(client, runtime, real_name=True, totp=True)
    # The name as typed may differ in spacing and the number in case: they are normalized first.
    asked = await _ask(client, holder["email"], id_number=ZHANG_SAN["id_number"].lower())
    assert asked.status_code == 202, asked.text
    [case] = await _cases(db, holder["account_id"])
    assert case["state"] == "in_review"
    # The evidence says whether the answers matched, never what they were.
    masked = await db.fetch("SELECT name, masked FROM review_case_evidence WHERE case_id = $1", case["id"])
    shown = {row["name"]: row["masked"] for row in masked}
    assert shown["legal_name"] == shown["id_number"] == "matches the verified record"
    assert shown["second_factor"] == "totp"
    assert not any(ZHANG_SAN["id_number"] in text or ZHANG_SAN["legal_name"] in text for text in shown.values())
    # The holder is told at once, wherever they still read.
    await runtime.courier.deliver_queued()
    assert "Someone asked to recover your account" in _subjects_to(runtime, holder["email"])

    first = await enrolled_operator(runtime, client, "senior_reviewer")
    staged = await claim_and_decide(client, first, str(case["id"]), "approve", "identity_confirmed")
    assert staged["staged"] is True  # never on one operator's word
    assert await _totp_enabled(db, holder["account_id"])
    assert (await client.get("/v1/sessions/whoami", headers=holder["me"])).status_code == 200
    confirm_url = f"/v1/operator/cases/{case['id']}/staged-decision/confirm"
    alone = await client.post(confirm_url, headers=first.headers)
    assert (alone.status_code, alone.json()["code"]) == (403, "four_eyes_same_operator")
    reviewer = await enrolled_operator(runtime, client, "reviewer")
    junior = await client.post(confirm_url, headers=reviewer.headers)
    assert (junior.status_code, junior.json()["code"]) == (403, "role_not_allowed")
    assert await _totp_enabled(db, holder["account_id"])
    senior = await enrolled_operator(runtime, client, "senior_reviewer")
    confirmed = await client.post(confirm_url, headers=senior.headers)
    assert confirmed.status_code == 200, confirmed.text

    # The old factors are gone with every session, in the decision's transaction.
    assert not await _totp_enabled(db, holder["account_id"])
    assert not await db.fetchval("SELECT count(*) FROM recovery_codes WHERE account_id = $1", holder["account_id"])
    assert (await client.get("/v1/sessions/whoami", headers=holder["me"])).status_code == 401
    # Replaying the approval changes nothing and queues no second code.
    for _ in range(2):
        replayed = await client.post(confirm_url, headers=senior.headers)
        assert (replayed.status_code, replayed.json()["code"]) == (409, "nothing_staged"), replayed.text
    assert await _run_decided_jobs(runtime, db) == 1

    code = await latest_code(runtime, "email", holder["email"])
    assert "Your account recovery was approved" in _subjects_to(runtime, holder["email"])
    completion = {"identifier": holder["email"], "code": code, "new_password": NEW_PASSWORD}
    recovered = await client.post("/v1/recovery/complete", json=completion)
    assert recovered.status_code == 201, recovered.text  # no second factor asked: none is left
    client.cookies.clear()
    me = bearer(recovered.json()["session"]["token"])
    again = await client.post("/v1/recovery/complete", json=completion)
    assert again.status_code == 401  # the code worked once
    client.cookies.clear()
    events = [e["event"] for e in (await client.get("/v1/me/activity", headers=me)).json()["entries"]]
    assert {"second_factor_removed", "recovery_used"} <= set(events)
    own = {c["case_id"]: c for c in (await client.get("/v1/me/cases", headers=me)).json()}
    assert own[str(case["id"])]["state"] == "approved"


async def test_a_rejection_changes_nothing_and_the_person_is_told(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    holder = await _person(client, runtime, real_name=True, totp=True)
    assert (await _ask(client, holder["email"])).status_code == 202
    [case] = await _cases(db, holder["account_id"])
    reviewer = await enrolled_operator(runtime, client, "reviewer")
    staged = await claim_and_decide(client, reviewer, str(case["id"]), "reject", "identity_not_confirmed")
    assert staged["staged"] is True
    senior = await enrolled_operator(runtime, client, "senior_reviewer")
    confirmed = await client.post(f"/v1/operator/cases/{case['id']}/staged-decision/confirm", headers=senior.headers)
    assert confirmed.status_code == 200, confirmed.text
    assert await _run_decided_jobs(runtime, db) == 1
    assert await _totp_enabled(db, holder["account_id"])
    assert (await client.get("/v1/sessions/whoami", headers=holder["me"])).status_code == 200
    assert "Your account recovery was not approved" in _subjects_to(runtime, holder["email"])
    assert not any("recovery code" in s.lower() for s in _subjects_to(runtime, holder["email"]))


async def test_every_identifier_gets_the_same_answer_in_the_same_time_and_only_a_match_opens_a_case(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    verified = await _person(client, runtime, real_name=True, totp=False)
    unverified = await _person(client, runtime, real_name=False, totp=False)
    unknown = f"n{uuid.uuid4().hex[:8]}@example.com"
    kinds: dict[str, tuple[str, dict[str, str]]] = {
        "matching": (verified["email"], {}),
        "wrong_name": (verified["email"], {"legal_name": "李四"}),
        "wrong_number": (verified["email"], {"id_number": "110105194912310038"}),
        "not_a_name": (verified["email"], {"legal_name": "x" * 200}),
        "no_real_name": (unverified["email"], {}),
        "unknown": (unknown, {}),
    }
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    bodies = set()
    for _ in range(3):  # rounds, each under the per-identifier throttle, which is cleared between them
        for kind, (identifier, answers) in kinds.items():
            started = time.perf_counter()
            response = await _ask(client, identifier, **answers)
            times[kind].append(time.perf_counter() - started)
            assert response.status_code == 202, (kind, response.text)
            bodies.add(response.content)
        await db.execute("DELETE FROM sign_in_throttle")
    assert len(bodies) == 1
    medians = {kind: statistics.median(t) for kind, t in times.items()}
    print("assisted recovery medians (ms):", {kind: round(m * 1000, 1) for kind, m in medians.items()})
    assert min(min(t) for t in times.values()) >= 0.2
    assert max(medians.values()) - min(medians.values()) < 0.03, medians

    # One case, for the matching answers only (asking again while it is open opens no other).
    assert len(await _cases(db, verified["account_id"])) == 1
    assert await _cases(db, unverified["account_id"]) == []
    # A mismatch is recorded (which part matched) for the security team, not queued for operators.
    refused = await db.fetch(
        "SELECT details FROM audit_log WHERE action = 'account.assisted_recovery_refused' AND target_id = $1",
        str(verified["account_id"]),
    )
    assert len(refused) == 9
    for row in refused:
        assert ZHANG_SAN["id_number"] not in str(row["details"]) and "李四" not in str(row["details"])
    # Nobody but the holder was told anything, and the holder once.
    await runtime.courier.deliver_queued()
    assert _subjects_to(runtime, unknown) == []
    assert not any("recover" in s.lower() for s in _subjects_to(runtime, unverified["email"]))
    assert _subjects_to(runtime, verified["email"]).count("Someone asked to recover your account") == 1


async def test_asking_is_throttled_alike_for_known_and_unknown_identifiers(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    holder = await _person(client, runtime, real_name=True, totp=False)
    for identifier in (holder["email"], "nobody@example.com"):
        answers = [await _ask(client, identifier, legal_name="李四") for _ in range(7)]
        statuses = [answer.status_code for answer in answers]
        assert statuses[:5] == [202] * 5, (identifier, statuses)
        # Sign-in's counters: past the free attempts, the waits grow with each further request.
        assert 429 in statuses[5:], (identifier, statuses)
        refused = next(answer for answer in answers if answer.status_code == 429)
        assert refused.headers["content-type"] == "application/problem+json" and "retry-after" in refused.headers
        assert refused.json()["code"] == "too_many_attempts"
    assert await _cases(db, holder["account_id"]) == []


async def test_parallel_requests_open_one_case(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    holder = await _person(client, runtime, real_name=True, totp=False)
    answers = await asyncio.gather(*(_ask(client, holder["email"]) for _ in range(5)))
    assert [a.status_code for a in answers] == [202] * 5
    assert len(await _cases(db, holder["account_id"])) == 1


async def test_the_subject_cannot_decide_their_own_case_but_can_withdraw_it(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    holder = await _person(client, runtime, real_name=True, totp=True)
    assert (await _ask(client, holder["email"])).status_code == 202
    [case] = await _cases(db, holder["account_id"])
    body = {"decision": "approve", "reason_code": "identity_confirmed", "claim": True}
    for action in ("decision", "staged-decision/confirm"):
        url = f"/v1/operator/cases/{case['id']}/{action}"
        refused = await client.post(url, json=body, headers=holder["me"])
        assert refused.status_code in {401, 403}, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    # Someone else may have asked in the holder's name: the holder, still signed in, sees it and ends it.
    own = {c["case_id"]: c for c in (await client.get("/v1/me/cases", headers=holder["me"])).json()}
    assert own[str(case["id"])]["state"] == "in_review"
    withdrawn = await client.post(f"/v1/me/cases/{case['id']}/withdraw", headers=holder["me"])
    assert withdrawn.status_code == 200, withdrawn.text
    assert await _totp_enabled(db, holder["account_id"])
    assert await _run_decided_jobs(runtime, db) == 0
    # A withdrawn case cannot be decided afterwards.
    reviewer = await enrolled_operator(runtime, client, "reviewer")
    late = await client.post(f"/v1/operator/cases/{case['id']}/decision", json=body, headers=reviewer.headers)
    assert late.status_code in {404, 409}, late.text
    assert await _totp_enabled(db, holder["account_id"])


async def test_malformed_requests_are_problems_never_errors(client: httpx.AsyncClient, runtime: Runtime) -> None:
    bodies: list[Any] = [
        {},
        {"identifier": "a@example.com"},
        {"identifier": "a@example.com", "legal_name": "张三"},
        {"identifier": "a@example.com", "legal_name": "x" * 201, "id_number": "1"},
        {"identifier": "a@example.com", "legal_name": "张三", "id_number": "1" * 41},
        {"identifier": "a@example.com", "legal_name": "张\u0000三", "id_number": "1"},
        {"identifier": "", "legal_name": "张三", "id_number": "1"},
        {"identifier": "a@example.com", "legal_name": 3, "id_number": "1"},
        {**MATCHING, "identifier": "a@example.com", "extra": 1},
        ["not", "an", "object"],
    ]
    for body in bodies:
        response = await client.post("/v1/recovery/assisted", json=body)
        assert 400 <= response.status_code < 500, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json", body
    huge = await client.post(
        "/v1/recovery/assisted",
        content=b'{"identifier": "' + b"a" * 2_000_000 + b'"}',
        headers={"content-type": "application/json"},
    )
    assert 400 <= huge.status_code < 500


async def test_a_terminated_account_gets_no_case_and_the_same_answer(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    holder = await _person(client, runtime, real_name=True, totp=False)
    await terminate(client, runtime, holder["account_id"], "abuse")
    before = len(outbox(runtime))
    asked = await _ask(client, holder["email"])
    unknown = await _ask(client, "nobody@example.com")
    assert (asked.status_code, asked.content) == (unknown.status_code, unknown.content) == (202, unknown.content)
    assert await _cases(db, holder["account_id"]) == []
    await runtime.courier.deliver_queued()
    assert not any("recover" in m.get("subject", "").lower() for m in outbox(runtime)[before:])


async def test_two_operators_confirming_at_once_apply_the_approval_once(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    holder = await _person(client, runtime, real_name=True, totp=True)
    assert (await _ask(client, holder["email"])).status_code == 202
    [case] = await _cases(db, holder["account_id"])
    first = await enrolled_operator(runtime, client, "senior_reviewer")
    await claim_and_decide(client, first, str(case["id"]), "approve", "identity_confirmed")
    seconds = [await enrolled_operator(runtime, client, "senior_reviewer") for _ in range(2)]
    url = f"/v1/operator/cases/{case['id']}/staged-decision/confirm"
    answers = await asyncio.gather(*(client.post(url, headers=s.headers) for s in seconds))
    assert sorted(a.status_code for a in answers)[0] == 200
    assert sum(a.status_code == 200 for a in answers) == 1, [a.text for a in answers]
    assert all(a.status_code < 500 for a in answers)
    assert await _run_decided_jobs(runtime, db) == 1
    await runtime.courier.deliver_queued()
    codes = [m for m in outbox(runtime) if m["to"] == holder["email"] and "approved" in m.get("subject", "")]
    assert len(codes) == 1
