"""People and face challenges arranged through the API, shared by the face tests.

The challenge the service draws at random is pinned in the database after it is issued, so a test
knows which frames to send; nothing else is arranged behind the API's back.
"""

from __future__ import annotations

import base64
import uuid

import asyncpg
import cv2
import httpx

from service.runtime import Runtime
from tests.arrange.consents import grant
from tests.arrange.people import ready_for_real_name
from tests.arrange.photos import photo
from verification.face.images import ImageBGR

# Genuine answers are different real photos of one person (see `test_face_api`).
DOCUMENT = "obama3.jpg"


def jpeg(image: ImageBGR, quality: int = 92) -> str:
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return base64.b64encode(encoded.tobytes()).decode()


def live_frames() -> list[list[str]]:
    """Frames for [turn_right, move_closer], each a different real photo: straight on, turned; closer."""
    return [[jpeg(photo("obama.jpg")), jpeg(photo("obama2.jpg"))], [jpeg(photo("obama4.jpg"))]]


async def ready(client: httpx.AsyncClient, runtime: Runtime) -> dict[str, str]:
    """A registered person who gave the biometric consent; their authorization headers."""
    _, me = await ready_for_real_name(client, runtime)
    await grant(client, me, "biometric")
    return me


async def challenge(
    client: httpx.AsyncClient, db: asyncpg.Connection, me: dict[str, str], actions: list[str] | None = None
) -> dict[str, str]:
    response = await client.post("/v1/me/verifications/face", headers=me)
    assert response.status_code == 201, response.text
    body: dict[str, str] = response.json()
    await db.execute(
        "UPDATE face_verifications SET actions = $2 WHERE id = $1",
        uuid.UUID(body["verification_id"]),
        actions or ["turn_right", "move_closer"],
    )
    return body


async def answer(
    client: httpx.AsyncClient, me: dict[str, str], challenge: dict[str, str], document: str, frames: list[list[str]]
) -> httpx.Response:
    return await client.post(
        f"/v1/me/verifications/face/{challenge['verification_id']}",
        json={"nonce": challenge["nonce"], "document": document, "frames": frames},
        headers=me,
    )
