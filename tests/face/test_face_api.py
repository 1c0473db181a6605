"""Face verification through the API, with real photos through the real models.

Genuine answers are different real photos of one person in different real poses: obama3.jpg as the
document, obama.jpg straight on, obama2.jpg turned to his right, obama4.jpg closer. Attacks are built
from one photo as an attacker would (`verification.face.attacks`). The challenge the service draws at
random is pinned in the database after it is issued (see `tests.face.arrange`), so a test knows which
frames to send; nothing else is arranged behind the API's back.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta

import asyncpg
import cv2
import httpx
import msgspec

from service.consents.effects import erase_biometric_job
from service.face.retention import erase_expired_images
from service.runtime import Runtime
from tests.arrange.operators import claim_and_decide
from tests.arrange.people import ready_for_real_name
from tests.arrange.photos import photo
from tests.face.arrange import DOCUMENT, jpeg, live_frames
from tests.face.arrange import answer as _answer
from tests.face.arrange import challenge as _challenge
from tests.face.arrange import ready as _ready
from tests.helpers import enrolled_operator
from verification.face import attacks
from verification.face.engine import FaceEngine


async def test_without_the_biometric_consent_there_is_no_face_processing(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    _, me = await ready_for_real_name(client, runtime)
    response = await client.post("/v1/me/verifications/face", headers=me)
    assert response.status_code == 403 and response.json()["code"] == "consent_missing"
    assert await db.fetchval("SELECT count(*) FROM face_verifications") == 0


async def test_the_same_person_performing_the_challenge_is_verified_and_nothing_replays(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    me = await _ready(client, runtime)
    challenge = await _challenge(client, db, me)
    assert "not certified presentation-attack detection" in challenge["liveness"]
    answered = await _answer(client, me, challenge, jpeg(photo(DOCUMENT)), live_frames())
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "verified"
    assert answered.json()["decided_at"] is not None
    assert (answered.json()["decided_by"], answered.json()["liveness_method"]) == ("automatic", "active-challenge-v2")

    row = await db.fetchrow(
        "SELECT score, accept_threshold, reject_threshold, model_version, liveness_method, template, decided_at"
        " FROM face_verifications WHERE id = $1",
        uuid.UUID(challenge["verification_id"]),
    )
    assert row is not None and row["score"] > 0.5 and row["decided_at"] is not None
    assert (row["accept_threshold"], row["reject_threshold"]) == (0.5, 0.363)
    assert row["model_version"] == "yunet-2023mar-int8bq+sface-2021dec-int8bq"
    assert row["liveness_method"] == "active-challenge-v2"
    assert row["template"] is not None and len(row["template"]) > 512  # sealed, 128 floats and more
    assert await db.fetchval("SELECT count(*) FROM face_samples") == 0  # no image beyond the decision
    whoami = await client.get("/v1/sessions/whoami", headers=me)
    assert whoami.json()["assurance"]["face_verified"] is True
    case = await db.fetchrow(
        "SELECT state, automated_results FROM review_cases WHERE id = $1", uuid.UUID(challenge["case_id"])
    )
    assert case is not None and case["state"] == "approved"
    results = {r["check"]: r for r in json.loads(case["automated_results"])}
    assert results["liveness"]["outcome"] == "passed"
    assert results["face_match"]["outcome"] == "accept" and results["face_match"]["score"] == round(row["score"], 4)

    replay = await _answer(client, me, challenge, jpeg(photo(DOCUMENT)), live_frames())
    assert replay.status_code == 409 and replay.json()["code"] == "challenge_used"


async def test_impostors_photos_and_stale_challenges_fail(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    me = await _ready(client, runtime)
    # Someone else in front of the camera than on the document.
    challenge = await _challenge(client, db, me)
    impostor = await _answer(client, me, challenge, jpeg(photo("person_b_1.jpg")), live_frames())
    assert impostor.status_code == 200 and impostor.json()["status"] == "rejected"
    assert "face_mismatch" in impostor.json()["reason_codes"]

    # A still photo held up: the frames do not move.
    challenge = await _challenge(client, db, me)
    still = jpeg(photo("obama2.jpg"))
    held_up = await _answer(client, me, challenge, jpeg(photo(DOCUMENT)), [[still, still], [still]])
    assert held_up.status_code == 200 and held_up.json()["status"] == "rejected"
    assert held_up.json()["reason_codes"] == ["frames_reused", "challenge_not_performed"]

    # A wrong nonce, then an expired challenge.
    challenge = await _challenge(client, db, me)
    forged = await _answer(client, me, {**challenge, "nonce": "A" * 32}, still, [[still], [still]])
    assert forged.status_code == 403 and forged.json()["code"] == "challenge_invalid"
    await db.execute(
        "UPDATE face_verifications SET expires_at = now() - $2::interval WHERE id = $1",
        uuid.UUID(challenge["verification_id"]),
        timedelta(seconds=1),
    )
    late = await _answer(client, me, challenge, jpeg(photo(DOCUMENT)), live_frames())
    assert late.status_code == 410 and late.json()["code"] == "challenge_expired"


async def test_unusable_photos_are_named_with_what_to_do(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    me = await _ready(client, runtime)
    challenge = await _challenge(client, db, me)
    blurred = cv2.GaussianBlur(photo("obama.jpg"), (0, 0), 12)
    response = await _answer(client, me, challenge, jpeg(blurred), live_frames())
    assert response.status_code == 422 and response.json()["code"] == "face_quality"
    assert response.json()["errors"][0]["field"] == "document"
    assert response.json()["errors"][0]["code"] in {"blurred", "no_face"}

    challenge = await _challenge(client, db, me)
    text = base64.b64encode(b"%PDF-1.4 not an image").decode()
    response = await _answer(client, me, challenge, text, live_frames())
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "document",
        "code": "upload_type_not_allowed",
        "message": response.json()["errors"][0]["message"],
    }
    # Both attempts stay in one case, still at its checks; nothing was decided.
    assert await db.fetchval("SELECT count(DISTINCT case_id) FROM face_verifications") == 1


async def test_a_photo_to_retake_keeps_the_challenge_a_few_times(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    me = await _ready(client, runtime)
    challenge = await _challenge(client, db, me)
    blurred = jpeg(cv2.GaussianBlur(photo(DOCUMENT), (0, 0), 12))
    for _ in range(2):
        retake = await _answer(client, me, challenge, blurred, live_frames())
        assert retake.status_code == 422 and "same challenge" in retake.json()["detail"]
    # The same challenge, answered with a usable photo, is decided.
    answered = await _answer(client, me, challenge, jpeg(photo(DOCUMENT)), live_frames())
    assert answered.status_code == 200 and answered.json()["status"] == "verified"
    assert answered.json()["decided_at"] is not None

    challenge = await _challenge(client, db, me)
    for _ in range(2):
        assert (await _answer(client, me, challenge, blurred, live_frames())).status_code == 422
    spent = await _answer(client, me, challenge, blurred, live_frames())
    assert spent.status_code == 422 and "new one" in spent.json()["detail"]
    again = await _answer(client, me, challenge, jpeg(photo(DOCUMENT)), live_frames())
    assert again.status_code == 409 and again.json()["code"] == "challenge_used"


async def test_the_grey_band_goes_to_an_operator_who_sees_every_photo(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    me = await _ready(client, runtime)
    challenge = await _challenge(client, db, me)
    # Thresholds such that this genuine pair falls between them.
    configured = runtime.settings
    runtime.settings = msgspec.structs.replace(configured, face_accept_threshold=0.95)
    try:
        answered = await _answer(client, me, challenge, jpeg(photo(DOCUMENT)), live_frames())
    finally:
        runtime.settings = configured
    assert answered.status_code == 200 and answered.json()["status"] == "in_review"
    assert "face_match_grey_band" in answered.json()["reason_codes"]
    case_id = challenge["case_id"]
    # The document and every frame of the answer.
    roles = ["document", "live", "frame-0-1", "frame-1-0"]
    assert sorted(await db.fetchval("SELECT array_agg(role) FROM face_samples WHERE content IS NOT NULL")) == sorted(
        roles
    )

    reviewer = await enrolled_operator(runtime, client, "reviewer")
    await client.post(f"/v1/operator/cases/{case_id}/claim", headers=reviewer.headers)
    listed = await client.get(f"/v1/operator/cases/{case_id}/face-images", headers=reviewer.headers)
    assert listed.status_code == 200 and sorted(listed.json()) == sorted(roles)
    for role in roles:
        image = await client.get(
            f"/v1/operator/cases/{case_id}/face-images/{role}",
            params={"reason": "identity_check"},
            headers=reviewer.headers,
        )
        assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
        assert image.headers["cache-control"] == "no-store"
    opened = await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'case.face_image_opened'")
    assert opened == 4
    await claim_and_decide(client, reviewer, case_id, "approve", "evidence_consistent")
    latest = (await client.get("/v1/me/verifications/face", headers=me)).json()
    assert (latest["status"], latest["decided_by"]) == ("verified", "operator")
    # The images go with the decision; the template stays, sealed.
    assert await db.fetchval("SELECT count(*) FROM face_samples WHERE content IS NOT NULL") == 0

    # Withdrawing the biometric consent erases the template and destroys its key.
    await client.post("/v1/me/consents/biometric/withdraw", headers=me)
    job = await db.fetchval("SELECT payload FROM pgqueuer WHERE entrypoint = 'consents.erase_biometric_data'")
    await erase_biometric_job(runtime).handler(job)
    row = await db.fetchrow(
        "SELECT status, template FROM face_verifications WHERE id = $1", uuid.UUID(challenge["verification_id"])
    )
    assert row is not None and (row["status"], row["template"]) == ("withdrawn", None)
    assert (await client.get("/v1/sessions/whoami", headers=me)).json()["assurance"]["face_verified"] is False


async def test_images_of_automated_decisions_are_kept_only_as_configured(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    me = await _ready(client, runtime)
    configured = runtime.settings
    runtime.settings = msgspec.structs.replace(configured, face_image_retention=timedelta(days=30))
    try:
        challenge = await _challenge(client, db, me)
        answered = await _answer(client, me, challenge, jpeg(photo(DOCUMENT)), live_frames())
    finally:
        runtime.settings = configured
    assert answered.json()["status"] == "verified"
    kept = await db.fetch("SELECT keep_until FROM face_samples WHERE content IS NOT NULL")
    assert len(kept) == 2 and all(row["keep_until"] is not None for row in kept)
    assert await erase_expired_images(runtime) == 0
    await db.execute("UPDATE face_samples SET keep_until = now() - interval '1 second'")
    assert await erase_expired_images(runtime) == 2
    assert await db.fetchval("SELECT count(*) FROM face_samples WHERE content IS NOT NULL") == 0


async def test_without_margin_or_when_the_policy_says_so_a_person_looks(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection, engine: FaceEngine
) -> None:
    me = await _ready(client, runtime)
    configured = runtime.settings
    runtime.settings = msgspec.structs.replace(configured, face_verify_without_review="never")
    try:
        answered = await _answer(client, me, await _challenge(client, db, me), jpeg(photo(DOCUMENT)), live_frames())
    finally:
        runtime.settings = configured
    assert answered.json()["status"] == "in_review"
    assert answered.json()["reason_codes"] == ["review_by_policy"]

    # A still re-rendered through a 3-D head moves its nose with depth: the turn counts, but the turned
    # face is the neutral picture bent into shape, so it is never verified without a person looking.
    image = photo("obama.jpg")
    (face,) = engine.detect(image)
    rerendered = [
        [jpeg(image), jpeg(attacks.rerender_head(image, face, -35))],
        [jpeg(attacks.zoom_print(image, face, 1.3))],
    ]
    me = await _ready(client, runtime)
    answered = await _answer(client, me, await _challenge(client, db, me), jpeg(photo(DOCUMENT)), rerendered)
    assert answered.json()["status"] in ("in_review", "rejected"), answered.json()
    assert answered.json()["status"] != "verified"


async def test_the_document_portrait_sent_as_the_live_face_is_refused(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection, engine: FaceEngine
) -> None:
    me = await _ready(client, runtime)
    image = photo("obama.jpg")
    (face,) = engine.detect(image)
    frames = [[jpeg(image, 85), jpeg(attacks.tilt_print(image, -45))], [jpeg(attacks.zoom_print(image, face, 1.3))]]
    answered = await _answer(client, me, await _challenge(client, db, me), jpeg(image), frames)
    assert answered.json()["status"] == "rejected"
    assert answered.json()["reason_codes"][0] == "document_reused"


async def test_capture_times_out_of_order_are_refused_and_an_implausible_capture_goes_to_review(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    """The frames are separate real photos; the times are what a client would send with them."""
    me = await _ready(client, runtime)
    document = jpeg(photo(DOCUMENT))

    async def answered(challenge: dict[str, str], times: list[list[int]]) -> httpx.Response:
        return await client.post(
            f"/v1/me/verifications/face/{challenge['verification_id']}",
            json={"nonce": challenge["nonce"], "document": document, "frames": live_frames(), "captured_at": times},
            headers=me,
        )

    challenge = await _challenge(client, db, me)
    refused = await answered(challenge, [[0, 1500], [1500]])
    assert refused.status_code == 422
    assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [
        ("captured_at[1][0]", "capture_time_repeated")
    ]
    mismatched = await answered(challenge, [[0], [900]])
    assert mismatched.status_code == 422 and mismatched.json()["errors"][0]["code"] == "capture_times_mismatch"

    # The same challenge, retaken: a plausible capture is verified as without times.
    plausible = await answered(challenge, [[0, 1500], [2600]])
    assert plausible.status_code == 200 and plausible.json()["status"] == "verified", plausible.text

    # Two moves in a quarter of a second: a person looks.
    hurried = await answered(await _challenge(client, db, me), [[0, 120], [250]])
    assert hurried.status_code == 200 and hurried.json()["status"] == "in_review"
    assert hurried.json()["reason_codes"] == ["capture_too_short"]
