"""Face answers made of the real photos of shared/faces, and a person whose face is verified through the API.

Genuine answers are different real photos of one person in different real poses (obama*.jpg): only they
perform a challenge. The challenge the service draws at random is pinned in the database after it is
issued, so a test knows which frames to send; nothing else is arranged behind the API's back.
"""

from __future__ import annotations

import base64
import uuid

import asyncpg
import cv2
import httpx

from tests.arrange.consents import grant
from tests.arrange.photos import photo
from verification.face.images import ImageBGR

DOCUMENT = "obama3.jpg"
PINNED_ACTIONS = ["turn_right", "move_closer"]


def jpeg(image: ImageBGR, quality: int = 92) -> str:
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return base64.b64encode(encoded.tobytes()).decode()


def frames_of(*actions: list[str]) -> list[list[str]]:
    return [[jpeg(photo(name)) for name in names] for names in actions]


def verification_frames() -> list[list[str]]:
    """[turn_right, move_closer]: obama.jpg straight on, obama2.jpg turned; obama4.jpg closer."""
    return frames_of(["obama.jpg", "obama2.jpg"], ["obama4.jpg"])


def later_frames() -> list[list[str]]:
    """The same person another time: straight on in obama3.jpg (not the verification's live photo)."""
    return frames_of(["obama3.jpg", "obama2.jpg"], ["obama4.jpg"])


def impostor_frames() -> list[list[str]]:
    """Another identity in front of the camera."""
    return frames_of(["person_b_1.jpg", "person_b_2.jpg"], ["person_b_1.jpg"])


async def pin_actions(db: asyncpg.Connection, verification_id: str) -> None:
    await db.execute(
        "UPDATE face_verifications SET actions = $2 WHERE id = $1", uuid.UUID(verification_id), PINNED_ACTIONS
    )


async def face_verified(client: httpx.AsyncClient, db: asyncpg.Connection, me: dict[str, str]) -> str:
    """The person grants the biometric consent and has their face verified; the verification's id."""
    await grant(client, me, "biometric")
    started = await client.post("/v1/me/verifications/face", headers=me)
    assert started.status_code == 201, started.text
    challenge = started.json()
    await pin_actions(db, challenge["verification_id"])
    answered = await client.post(
        f"/v1/me/verifications/face/{challenge['verification_id']}",
        json={"nonce": challenge["nonce"], "document": jpeg(photo(DOCUMENT)), "frames": verification_frames()},
        headers=me,
    )
    assert answered.status_code == 200 and answered.json()["status"] == "verified", answered.text
    return str(challenge["verification_id"])
