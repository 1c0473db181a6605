"""Assisted recovery's face step (issue 19): a person who had their face verified, with the biometric consent
in force, compares their live face with that verification; the result is recorded in the recovery case for
its two operators. The key that buys the challenge reaches only the account's verified contacts, works once,
for one case. Real photos through the real models (tests/arrange/face_answers)."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import asyncpg
import httpx
import msgspec

from service.runtime import Runtime
from tests.arrange.consents import grant
from tests.arrange.contacts import verify_email
from tests.arrange.face_answers import (
    DOCUMENT,
    face_verified,
    frames_of,
    impostor_frames,
    jpeg,
    later_frames,
    pin_actions,
)
from tests.arrange.operators import claim_and_decide
from tests.arrange.people import ZHANG_SAN
from tests.arrange.photos import photo, side_by_side
from tests.helpers import bearer, enrolled_operator, outbox, register

# A second verified identity of the sandbox registry: one real name verifies one account.
LI_SI = {"legal_name": "李四", "document_type": "resident_id_card", "id_number": "110101199003074477"}
BIRTH_DATES = {ZHANG_SAN["id_number"]: "1949-12-31", LI_SI["id_number"]: "1990-03-07"}
FACE_SUBJECT = "Confirm your account recovery with your face"
WITHOUT_FACE_SUBJECT = "How your account recovery will be checked"


async def _holder(
    client: httpx.AsyncClient,
    runtime: Runtime,
    db: asyncpg.Connection,
    *,
    face: bool,
    identity: dict[str, str] = ZHANG_SAN,
) -> dict[str, Any]:
    """A person with a verified e-mail and a verified real name, whose face is verified when asked."""
    suffix = uuid.uuid4().hex[:8]
    email = f"{suffix}@example.com"
    birth_date = BIRTH_DATES[identity["id_number"]]
    body = await register(client, birth_date=birth_date, email=email, username=f"u_{suffix}", phone=None)
    me = bearer(body["session"]["token"])
    await verify_email(client, runtime, me, email)
    await grant(client, me, "identity_data")
    verified = await client.post("/v1/me/verifications/real-name", json=identity, headers=me)
    assert verified.status_code == 201 and verified.json()["status"] == "verified", verified.text
    if face:
        await face_verified(client, db, me)
    client.cookies.clear()
    answers = {"legal_name": identity["legal_name"], "id_number": identity["id_number"]}
    return {"email": email, "me": me, "account_id": uuid.UUID(body["account_id"]), "answers": answers}


async def _ask(client: httpx.AsyncClient, identifier: str, answers: dict[str, str] | None = None) -> httpx.Response:
    answers = answers or {"legal_name": ZHANG_SAN["legal_name"], "id_number": ZHANG_SAN["id_number"]}
    response = await client.post("/v1/recovery/assisted", json={"identifier": identifier, **answers})
    client.cookies.clear()
    assert response.status_code == 202, response.text
    return response


async def _case_id(db: asyncpg.Connection, account_id: uuid.UUID) -> uuid.UUID:
    case_id: uuid.UUID = await db.fetchval(
        "SELECT id FROM review_cases WHERE subject_account_id = $1 AND case_type = 'account_recovery'", account_id
    )
    assert case_id is not None
    return case_id


async def _messages_to(runtime: Runtime, email: str, subject: str) -> list[dict[str, str]]:
    await runtime.courier.deliver_queued()
    return [m for m in outbox(runtime) if m["to"] == email and m.get("subject") == subject]


async def _face_key(runtime: Runtime, email: str) -> tuple[str, str]:
    """The newest face key sent to the address: (case id, key)."""
    [*_, message] = await _messages_to(runtime, email, FACE_SUBJECT)
    case = re.search(r"Request: ([0-9a-f-]{36})", message["body"])
    key = re.search(r"Key: ([A-Za-z0-9_-]+)", message["body"])
    assert case and key, message["body"]
    return case.group(1), key.group(1)


async def _start(client: httpx.AsyncClient, case_id: str, key: str) -> httpx.Response:
    return await client.post("/v1/recovery/assisted/face", json={"case_id": case_id, "key": key})


async def _challenge(client: httpx.AsyncClient, db: asyncpg.Connection, case_id: str, key: str) -> dict[str, Any]:
    started = await _start(client, case_id, key)
    assert started.status_code == 201, started.text
    challenge: dict[str, Any] = started.json()
    assert challenge["case_id"] == case_id
    await pin_actions(db, challenge["verification_id"])
    return challenge


async def _answer(client: httpx.AsyncClient, challenge: dict[str, Any], frames: list[list[str]]) -> httpx.Response:
    return await client.post(
        f"/v1/recovery/assisted/face/{challenge['verification_id']}",
        json={"nonce": challenge["nonce"], "frames": frames},
    )


async def _results_seen_by(client: httpx.AsyncClient, runtime: Runtime, case_id: str) -> list[dict[str, Any]]:
    reviewer = await enrolled_operator(runtime, client, "reviewer")
    detail = await client.get(f"/v1/operator/cases/{case_id}", headers=reviewer.headers)
    assert detail.status_code == 200, detail.text
    results: list[dict[str, Any]] = detail.json()["automated_results"]
    return results


async def test_the_genuine_person_is_recorded_as_a_face_match_that_the_operators_see(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    holder = await _holder(client, runtime, db, face=True)
    asked = await _ask(client, holder["email"])
    unknown = await _ask(client, f"n{uuid.uuid4().hex[:8]}@example.com")
    assert asked.content == unknown.content  # nothing about face data in the answer
    case_id, key = await _face_key(runtime, holder["email"])
    assert case_id == str(await _case_id(db, holder["account_id"]))
    assert await _messages_to(runtime, holder["email"], WITHOUT_FACE_SUBJECT) == []

    challenge = await _challenge(client, db, case_id, key)
    answered = await _answer(client, challenge, later_frames())
    assert answered.status_code == 200, answered.text
    result = answered.json()
    assert (result["liveness"], result["face_match"], result["reason_codes"]) == ("passed", "accept", [])

    # The two operators see it in the case, beside the real-name evidence; it decided nothing.
    results = {r["check"]: r for r in await _results_seen_by(client, runtime, case_id)}
    assert results["recovery_face_liveness"]["outcome"] == "passed"
    match = results["recovery_face_match"]
    assert match["outcome"] == "accept" and match["score"] > match["threshold"] == 0.5
    assert match["reason_code"] == "against_stored_face_verification"
    state = await db.fetchval("SELECT state FROM review_cases WHERE id = $1", uuid.UUID(case_id))
    assert state == "in_review"
    masked = await db.fetchval(
        "SELECT masked FROM review_case_evidence WHERE case_id = $1 AND name = 'face'", uuid.UUID(case_id)
    )
    assert masked.startswith("offered")
    # No image and no new template are kept; the face verification in force is unchanged.
    row = await db.fetchrow(
        "SELECT status, template, score FROM face_verifications WHERE id = $1",
        uuid.UUID(challenge["verification_id"]),
    )
    assert row is not None and (row["status"], row["template"]) == ("in_review", None)
    assert round(row["score"], 4) == match["score"]
    assert await db.fetchval("SELECT count(*) FROM face_samples") == 0
    latest = (await client.get("/v1/me/verifications/face", headers=holder["me"])).json()
    assert latest["status"] == "verified"
    whoami = await client.get("/v1/sessions/whoami", headers=holder["me"])
    assert whoami.json()["assurance"]["face_verified"] is True

    # Neither the key nor the challenge works twice.
    again = await _start(client, case_id, key)
    assert (again.status_code, again.json()["code"]) == (401, "invalid_recovery_key")
    replayed = await _answer(client, challenge, later_frames())
    assert (replayed.status_code, replayed.json()["code"]) == (409, "challenge_used")


async def test_another_identitys_face_is_recorded_as_a_mismatch_and_counts_as_a_failed_attempt(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    holder = await _holder(client, runtime, db, face=True)
    await _ask(client, holder["email"])
    case_id, key = await _face_key(runtime, holder["email"])
    challenge = await _challenge(client, db, case_id, key)
    answered = await _answer(client, challenge, impostor_frames())
    assert answered.status_code == 200, answered.text
    assert answered.json()["face_match"] == "reject" and "face_mismatch" in answered.json()["reason_codes"]
    results = await _results_seen_by(client, runtime, case_id)
    [match] = [r for r in results if r["check"] == "recovery_face_match"]
    assert match["outcome"] == "reject" and match["score"] < 0.363
    status = await db.fetchval(
        "SELECT status FROM face_verifications WHERE id = $1", uuid.UUID(challenge["verification_id"])
    )
    assert status == "rejected"

    # The face verification's bounds hold: past the failures allowed in a row, no further challenge.
    configured = runtime.settings
    runtime.settings = msgspec.structs.replace(configured, face_failures_in_a_row=1)
    try:
        # Asking again sends a fresh key (once the resend interval has passed).
        await db.execute(
            "UPDATE one_time_codes SET created_at = now() - interval '2 minutes' WHERE account_id = $1",
            holder["account_id"],
        )
        await _ask(client, holder["email"])
        fresh_case, fresh_key = await _face_key(runtime, holder["email"])
        assert (fresh_case, fresh_key != key) == (case_id, True)
        refused = await _start(client, case_id, fresh_key)
        assert (refused.status_code, refused.json()["code"]) == (409, "face_attempts_exhausted"), refused.text
        assert "document" in refused.json()["detail"]
    finally:
        runtime.settings = configured
    # The refusal did not spend the key: within the bounds it buys the challenge.
    assert (await _start(client, case_id, fresh_key)).status_code == 201


async def test_a_key_replayed_forged_expired_or_used_on_another_case_is_refused_alike(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    first = await _holder(client, runtime, db, face=True)
    second = await _holder(client, runtime, db, face=True, identity=LI_SI)
    await _ask(client, first["email"])
    await _ask(client, second["email"], second["answers"])
    first_case, first_key = await _face_key(runtime, first["email"])
    second_case, second_key = await _face_key(runtime, second["email"])

    refusals = [
        await _start(client, second_case, first_key),  # one case's key on another case
        await _start(client, first_case, second_key),
        await _start(client, first_case, "A" * 24),
        await _start(client, str(uuid.uuid4()), first_key),
    ]
    assert {(r.status_code, r.json()["code"]) for r in refusals} == {(401, "invalid_recovery_key")}
    assert len({str({k: v for k, v in r.json().items() if k != "request_id"}) for r in refusals}) == 1

    # Each key still works once, on its own case: of parallel uses, one wins.
    parallel = await asyncio.gather(*(_start(client, first_case, first_key) for _ in range(4)))
    assert sorted(r.status_code for r in parallel) == [201, 401, 401, 401], [r.text for r in parallel]
    replay = await _start(client, first_case, first_key)
    assert (replay.status_code, replay.json()["code"]) == (401, "invalid_recovery_key")
    await db.execute(
        "UPDATE one_time_codes SET expires_at = now() WHERE account_id = $1 AND purpose = 'assisted_recovery_face'",
        second["account_id"],
    )
    late = await _start(client, second_case, second_key)
    assert (late.status_code, late.json()["code"]) == (401, "invalid_recovery_key")


async def test_an_unusable_photo_is_named_and_the_challenge_survives_a_retake(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    holder = await _holder(client, runtime, db, face=True)
    await _ask(client, holder["email"])
    case_id, key = await _face_key(runtime, holder["email"])
    challenge = await _challenge(client, db, case_id, key)
    two_people = frames_of(["obama.jpg", "obama2.jpg"], ["obama4.jpg"])
    two_people[0][0] = jpeg(side_by_side(photo("obama3.jpg"), photo("biden.jpg")))
    unusable = await _answer(client, challenge, two_people)
    assert (unusable.status_code, unusable.json()["code"]) == (422, "face_quality"), unusable.text
    assert unusable.json()["errors"][0]["field"] == "frames[0][0]"
    incomplete = await _answer(client, challenge, later_frames()[:1])
    assert (incomplete.status_code, incomplete.json()["errors"][0]["code"]) == (422, "challenge_incomplete")
    # Nothing was recorded for the operators; the same challenge, retaken, is judged.
    assert await _results_seen_by(client, runtime, case_id) == []
    retaken = await _answer(client, challenge, later_frames())
    assert retaken.status_code == 200 and retaken.json()["face_match"] == "accept", retaken.text


async def test_a_recovery_challenge_cannot_be_answered_as_a_face_verification(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    holder = await _holder(client, runtime, db, face=True)
    await _ask(client, holder["email"])
    case_id, key = await _face_key(runtime, holder["email"])
    challenge = await _challenge(client, db, case_id, key)
    # A wrong nonce is refused without judging anything.
    forged = await _answer(client, {**challenge, "nonce": "B" * 32}, later_frames())
    assert (forged.status_code, forged.json()["code"]) == (403, "challenge_invalid"), forged.text
    # The holder, still signed in, cannot turn the recovery's challenge into a verification that would
    # decide the recovery case by the face checks alone.
    as_verification = await client.post(
        f"/v1/me/verifications/face/{challenge['verification_id']}",
        json={"nonce": challenge["nonce"], "document": jpeg(photo(DOCUMENT)), "frames": later_frames()},
        headers=holder["me"],
    )
    assert (as_verification.status_code, as_verification.json()["code"]) == (404, "verification_not_found")
    # Nor is a face verification's challenge answered through the recovery.
    client.cookies.clear()
    own = await client.post("/v1/me/verifications/face", headers=holder["me"])
    assert own.status_code == 201, own.text
    client.cookies.clear()
    crossed = await _answer(client, own.json(), later_frames())
    assert (crossed.status_code, crossed.json()["code"]) == (404, "verification_not_found")


async def test_without_biometric_consent_or_face_verification_the_step_is_not_offered(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    withdrawn = await _holder(client, runtime, db, face=True)
    await client.post("/v1/me/consents/biometric/withdraw", headers=withdrawn["me"])
    client.cookies.clear()
    never = await _holder(client, runtime, db, face=False, identity=LI_SI)
    unknown = await _ask(client, f"n{uuid.uuid4().hex[:8]}@example.com")
    for holder in (withdrawn, never):
        asked = await _ask(client, holder["email"], holder["answers"])
        assert asked.content == unknown.content
        case_id = await _case_id(db, holder["account_id"])
        masked = await db.fetchval(
            "SELECT masked FROM review_case_evidence WHERE case_id = $1 AND name = 'face'", case_id
        )
        assert masked.startswith("not offered")
        # The holder (and only the holder, at their verified contacts) is told what the request rests on.
        assert await _messages_to(runtime, holder["email"], FACE_SUBJECT) == []
        [told] = await _messages_to(runtime, holder["email"], WITHOUT_FACE_SUBJECT)
        assert "real name and identity document" in told["body"]
        assert not await db.fetchval(
            "SELECT count(*) FROM one_time_codes WHERE account_id = $1 AND purpose = 'assisted_recovery_face'",
            holder["account_id"],
        )
        # Asking again sends no key either.
        await _ask(client, holder["email"], holder["answers"])
        assert await _messages_to(runtime, holder["email"], FACE_SUBJECT) == []


async def test_a_key_sent_before_the_consent_was_withdrawn_buys_no_challenge(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    holder = await _holder(client, runtime, db, face=True)
    await _ask(client, holder["email"])
    case_id, key = await _face_key(runtime, holder["email"])
    withdrawn = await client.post("/v1/me/consents/biometric/withdraw", headers=holder["me"])
    assert withdrawn.status_code == 200, withdrawn.text
    client.cookies.clear()
    refused = await _start(client, case_id, key)
    assert (refused.status_code, refused.json()["code"]) == (409, "face_step_not_offered")
    assert "real name and identity document" in refused.json()["detail"]
    assert not await db.fetchval("SELECT count(*) FROM face_verifications WHERE case_id = $1", uuid.UUID(case_id))


async def test_a_face_result_cancels_a_decision_staged_before_it(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    holder = await _holder(client, runtime, db, face=True)
    await _ask(client, holder["email"])
    case_id, key = await _face_key(runtime, holder["email"])
    first = await enrolled_operator(runtime, client, "senior_reviewer")
    staged = await claim_and_decide(client, first, case_id, "approve", "identity_confirmed")
    assert staged["staged"] is True
    challenge = await _challenge(client, db, case_id, key)
    assert (await _answer(client, challenge, impostor_frames())).status_code == 200
    # The second operator must not confirm what the first one never saw.
    second = await enrolled_operator(runtime, client, "senior_reviewer")
    confirmed = await client.post(f"/v1/operator/cases/{case_id}/staged-decision/confirm", headers=second.headers)
    assert (confirmed.status_code, confirmed.json()["code"]) == (409, "nothing_staged"), confirmed.text
    assert await db.fetchval("SELECT state FROM review_cases WHERE id = $1", uuid.UUID(case_id)) == "in_review"


async def test_malformed_face_step_requests_are_problems_never_errors(client: httpx.AsyncClient) -> None:
    bodies: list[Any] = [
        {},
        {"case_id": "not-a-uuid", "key": "A" * 24},
        {"case_id": str(uuid.uuid4())},
        {"case_id": str(uuid.uuid4()), "key": "short"},
        {"case_id": str(uuid.uuid4()), "key": "A" * 24 + "\u0000"},
        {"case_id": str(uuid.uuid4()), "key": "A" * 24, "extra": 1},
        ["not", "an", "object"],
    ]
    for body in bodies:
        response = await client.post("/v1/recovery/assisted/face", json=body)
        assert 400 <= response.status_code < 500, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json", body
    answers: list[Any] = [
        {},
        {"nonce": "A" * 32, "frames": []},
        {"nonce": "A" * 32, "frames": [["bm90IGFuIGltYWdl"]]},
        {"nonce": "A" * 32, "frames": [["bm90IGFuIGltYWdl"]], "document": "x"},
    ]
    for body in answers:
        response = await client.post(f"/v1/recovery/assisted/face/{uuid.uuid4()}", json=body)
        assert 400 <= response.status_code < 500, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json", body
