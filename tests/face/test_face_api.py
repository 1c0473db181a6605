"""Face verification through the API, with real photos through the real models.

The live frames are real geometric transformations of real photos (tests/face/transforms.py): a
head turned through a generic 3D head model, a zoom for moving closer. The challenge the service
draws at random is pinned in the database after it is issued, so a test knows which frames to
send; nothing else is arranged behind the API's back.
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
from tests.accounts.test_suspension import _decide, _person
from tests.face.photos import photo
from tests.face.transforms import move_closer, turn_head
from tests.helpers import enrolled_operator
from verification.face.engine import FaceEngine
from verification.face.images import ImageBGR

CONSENT = {"version": "2026-11-01"}


def jpeg(image: ImageBGR) -> str:
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok
    return base64.b64encode(encoded.tobytes()).decode()


def live_frames(engine: FaceEngine, name: str) -> list[list[str]]:
    """Frames for [turn_left, move_closer]: a straight-on frame, then the head turned; then closer."""
    image = photo(name)
    (face,) = engine.detect(image)
    return [
        [jpeg(image), jpeg(turn_head(image, face, 35))],
        [jpeg(move_closer(image, face, 1.3))],
    ]


async def _challenge(
    client: httpx.AsyncClient, db: asyncpg.Connection, me: dict[str, str], actions: list[str] | None = None
) -> dict[str, str]:
    response = await client.post("/v1/me/verifications/face", headers=me)
    assert response.status_code == 201, response.text
    body: dict[str, str] = response.json()
    await db.execute(
        "UPDATE face_verifications SET actions = $2 WHERE id = $1",
        uuid.UUID(body["verification_id"]),
        actions or ["turn_left", "move_closer"],
    )
    return body


async def _ready(client: httpx.AsyncClient, runtime: Runtime) -> dict[str, str]:
    _, me = await _person(client, runtime)
    assert (await client.post("/v1/me/consents/biometric", json=CONSENT, headers=me)).status_code == 200
    return me


async def _answer(
    client: httpx.AsyncClient, me: dict[str, str], challenge: dict[str, str], document: str, frames: list[list[str]]
) -> httpx.Response:
    return await client.post(
        f"/v1/me/verifications/face/{challenge['verification_id']}",
        json={"nonce": challenge["nonce"], "document": document, "frames": frames},
        headers=me,
    )


async def test_without_the_biometric_consent_there_is_no_face_processing(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    _, me = await _person(client, runtime)
    response = await client.post("/v1/me/verifications/face", headers=me)
    assert response.status_code == 403 and response.json()["code"] == "consent_missing"
    assert await db.fetchval("SELECT count(*) FROM face_verifications") == 0


async def test_the_same_person_performing_the_challenge_is_verified_and_nothing_replays(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection, engine: FaceEngine
) -> None:
    me = await _ready(client, runtime)
    challenge = await _challenge(client, db, me)
    assert "not certified presentation-attack detection" in challenge["liveness"]
    answered = await _answer(client, me, challenge, jpeg(photo("obama.jpg")), live_frames(engine, "obama2.jpg"))
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "verified"

    row = await db.fetchrow(
        "SELECT score, accept_threshold, reject_threshold, model_version, liveness_method, template, decided_at"
        " FROM face_verifications WHERE id = $1",
        uuid.UUID(challenge["verification_id"]),
    )
    assert row is not None and row["score"] > 0.5 and row["decided_at"] is not None
    assert (row["accept_threshold"], row["reject_threshold"]) == (0.5, 0.363)
    assert row["model_version"] == "yunet-2023mar-int8bq+sface-2021dec-int8bq"
    assert row["liveness_method"] == "active-challenge-v1"
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

    replay = await _answer(client, me, challenge, jpeg(photo("obama.jpg")), live_frames(engine, "obama2.jpg"))
    assert replay.status_code == 409 and replay.json()["code"] == "challenge_used"


async def test_impostors_photos_and_stale_challenges_fail(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection, engine: FaceEngine
) -> None:
    me = await _ready(client, runtime)
    # Someone else in front of the camera than on the document.
    challenge = await _challenge(client, db, me)
    impostor = await _answer(client, me, challenge, jpeg(photo("obama.jpg")), live_frames(engine, "person_b_1.jpg"))
    assert impostor.status_code == 200 and impostor.json()["status"] == "rejected"
    assert "face_mismatch" in impostor.json()["reason_codes"]

    # A still photo held up: the frames do not move.
    challenge = await _challenge(client, db, me)
    still = jpeg(photo("obama2.jpg"))
    held_up = await _answer(client, me, challenge, jpeg(photo("obama.jpg")), [[still, still], [still]])
    assert held_up.status_code == 200 and held_up.json()["status"] == "rejected"
    assert held_up.json()["reason_codes"] == ["challenge_not_performed"]

    # A wrong nonce, then an expired challenge.
    challenge = await _challenge(client, db, me)
    forged = await _answer(client, me, {**challenge, "nonce": "A" * 32}, still, [[still], [still]])
    assert forged.status_code == 403 and forged.json()["code"] == "challenge_invalid"
    await db.execute(
        "UPDATE face_verifications SET expires_at = now() - $2::interval WHERE id = $1",
        uuid.UUID(challenge["verification_id"]),
        timedelta(seconds=1),
    )
    late = await _answer(client, me, challenge, jpeg(photo("obama.jpg")), live_frames(engine, "obama2.jpg"))
    assert late.status_code == 410 and late.json()["code"] == "challenge_expired"


async def test_unusable_photos_are_named_with_what_to_do(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection, engine: FaceEngine
) -> None:
    me = await _ready(client, runtime)
    challenge = await _challenge(client, db, me)
    blurred = cv2.GaussianBlur(photo("obama.jpg"), (0, 0), 12)
    response = await _answer(client, me, challenge, jpeg(blurred), live_frames(engine, "obama2.jpg"))
    assert response.status_code == 422 and response.json()["code"] == "face_quality"
    assert response.json()["errors"][0]["field"] == "document"
    assert response.json()["errors"][0]["code"] in {"blurred", "no_face"}

    challenge = await _challenge(client, db, me)
    text = base64.b64encode(b"%PDF-1.4 not an image").decode()
    response = await _answer(client, me, challenge, text, live_frames(engine, "obama2.jpg"))
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "document",
        "code": "upload_type_not_allowed",
        "message": response.json()["errors"][0]["message"],
    }
    # Both attempts stay in one case, still at its checks; nothing was decided.
    assert await db.fetchval("SELECT count(DISTINCT case_id) FROM face_verifications") == 1


async def test_the_grey_band_goes_to_an_operator_who_sees_both_photos(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection, engine: FaceEngine
) -> None:
    me = await _ready(client, runtime)
    challenge = await _challenge(client, db, me)
    # Thresholds such that this genuine pair falls between them.
    configured = runtime.settings
    runtime.settings = msgspec.structs.replace(configured, face_accept_threshold=0.95)
    try:
        answered = await _answer(client, me, challenge, jpeg(photo("obama.jpg")), live_frames(engine, "obama2.jpg"))
    finally:
        runtime.settings = configured
    assert answered.status_code == 200 and answered.json()["status"] == "in_review"
    case_id = challenge["case_id"]
    assert await db.fetchval("SELECT count(*) FROM face_samples WHERE content IS NOT NULL") == 2

    reviewer = await enrolled_operator(runtime, client, "reviewer")
    await client.post(f"/v1/operator/cases/{case_id}/claim", headers=reviewer.headers)
    for role in ("document", "live"):
        image = await client.get(
            f"/v1/operator/cases/{case_id}/face-images/{role}",
            params={"reason": "identity_check"},
            headers=reviewer.headers,
        )
        assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
        assert image.headers["cache-control"] == "no-store"
    opened = await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'case.face_image_opened'")
    assert opened == 2
    await _decide(client, reviewer, case_id, "approve", "evidence_consistent")
    assert (await client.get("/v1/me/verifications/face", headers=me)).json()["status"] == "verified"
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
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection, engine: FaceEngine
) -> None:
    me = await _ready(client, runtime)
    configured = runtime.settings
    runtime.settings = msgspec.structs.replace(configured, face_image_retention=timedelta(days=30))
    try:
        challenge = await _challenge(client, db, me)
        answered = await _answer(client, me, challenge, jpeg(photo("obama.jpg")), live_frames(engine, "obama2.jpg"))
    finally:
        runtime.settings = configured
    assert answered.json()["status"] == "verified"
    kept = await db.fetch("SELECT keep_until FROM face_samples WHERE content IS NOT NULL")
    assert len(kept) == 2 and all(row["keep_until"] is not None for row in kept)
    assert await erase_expired_images(runtime) == 0
    await db.execute("UPDATE face_samples SET keep_until = now() - interval '1 second'")
    assert await erase_expired_images(runtime) == 2
    assert await db.fetchval("SELECT count(*) FROM face_samples WHERE content IS NOT NULL") == 0
