"""One's avatar (issue 19): screened like documents, square and small, without metadata, sealed, one's own."""

from __future__ import annotations

import asyncio
import base64
import json
import struct
import threading
import time
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg
import cv2
import httpx
import msgspec
import numpy as np
import pytest

from service.app import create_asgi
from service.avatars.avatars import AVATAR_FIELD
from service.lifecycle.cancellation import erase_due
from service.memory_budget import MemoryBudget
from service.rights.exports import build_archive
from service.runtime import Runtime
from tests.arrange.cleartext import found_in_clear
from tests.arrange.lifecycle import cancel_now_due
from tests.arrange.people import person
from tests.helpers import enrolled_operator

FACES = Path(__file__).parents[2].parent / "shared" / "faces"
MARKER = b"GPS 39.9042N 116.4074E avatar-secret-marker"


def face(name: str) -> bytes:
    return (FACES / name).read_bytes()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_declaring(width: int, height: int, depth: int = 8) -> bytes:
    """A tiny PNG whose header declares ``width`` x ``height`` RGB pixels at ``depth`` bits: a bomb if large."""
    header = _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, 2, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + _chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _chunk(b"IEND", b"")


def png_16_bit(width: int, height: int) -> bytes:
    """A real 16-bit RGB PNG (a gradient), as scanners and some editors write."""
    ramp = np.linspace(0, 65535, width, dtype=np.uint16)
    pixels = np.repeat(np.stack([ramp, ramp[::-1], np.full(width, 30000, np.uint16)], axis=1)[None], height, axis=0)
    ok, encoded = cv2.imencode(".png", pixels)
    assert ok
    data = encoded.tobytes()
    assert data[24] == 16  # IHDR's bit depth
    return data


def with_gps_exif(jpeg: bytes) -> bytes:
    """``jpeg`` with an APP1 EXIF segment holding a GPS IFD: latitude reference and a map datum carrying MARKER."""
    gps_ifd = 26
    data_at = gps_ifd + 2 + 2 * 12 + 4
    tiff = b"II*\x00" + struct.pack("<I", 8)
    tiff += struct.pack("<H", 1) + struct.pack("<HHII", 0x8825, 4, 1, gps_ifd) + struct.pack("<I", 0)
    tiff += struct.pack("<H", 2)
    tiff += struct.pack("<HHI", 0x0001, 2, 2) + b"N\x00\x00\x00"
    tiff += struct.pack("<HHII", 0x0012, 2, len(MARKER) + 1, data_at) + struct.pack("<I", 0)
    tiff += MARKER + b"\x00"
    segment = b"Exif\x00\x00" + tiff
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(segment) + 2) + segment + jpeg[2:]


async def put(client: httpx.AsyncClient, me: dict[str, str], data: bytes, media: str = "image/jpeg") -> httpx.Response:
    return await client.put("/v1/me/avatar", content=data, headers={**me, "content-type": media})


def decoded(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert image is not None
    return image


def problem(answer: httpx.Response) -> tuple[int, str]:
    body = answer.json()
    assert answer.headers["content-type"] == "application/problem+json"
    return answer.status_code, body["errors"][0]["code"] if "errors" in body else body["code"]


async def test_a_photo_becomes_a_square_of_at_most_512_pixels_without_its_metadata(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    account_id, me = await person(client, runtime)
    assert (await client.get("/v1/me/avatar", headers=me)).status_code == 404

    upload = with_gps_exif(face("obama.jpg"))  # 910 x 1137 pixels
    assert MARKER in upload and b"Exif" in upload
    answer = await put(client, me, upload)
    assert answer.status_code == 200, answer.text
    assert {k: answer.json()[k] for k in ("kind", "side")} == {"kind": "jpeg", "side": 512}

    shown = await client.get("/v1/me/avatar", headers=me)
    assert shown.status_code == 200
    assert shown.headers["content-type"] == "image/jpeg"
    assert shown.headers["cache-control"] == "no-store"
    assert shown.headers["x-content-type-options"] == "nosniff"
    assert len(shown.content) == answer.json()["byte_size"]
    assert decoded(shown.content).shape == (512, 512, 3)
    assert MARKER not in shown.content and b"Exif" not in shown.content and b"GPS" not in shown.content

    # The centre square: the face (in the middle of the portrait) stays, the top and bottom go.
    original = decoded(face("obama.jpg"))
    top = (original.shape[0] - original.shape[1]) // 2
    centre = cv2.resize(original[top : top + original.shape[1]], (512, 512), interpolation=cv2.INTER_AREA)
    assert np.abs(decoded(shown.content).astype(int) - centre.astype(int)).mean() < 4

    # Sealed at rest: neither the image nor its pixels' encoding is in clear anywhere.
    stored = await db.fetchval("SELECT content FROM avatars WHERE account_id = $1", account_id)
    assert shown.content not in stored and not stored.startswith(b"\xff\xd8")
    assert await found_in_clear(db, shown.content[100:164]) == []
    async with runtime.database.transaction() as conn:
        cipher = await runtime.vault.open(conn, account_id)
    assert cipher.open(AVATAR_FIELD, stored) == shown.content


async def test_a_small_png_stays_a_png_at_its_own_size_and_a_new_picture_replaces_the_old(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    _, me = await person(client, runtime)
    astronaut = await put(client, me, face("astronaut.png"), "image/png")  # 512 x 512 already
    assert astronaut.status_code == 200, astronaut.text
    assert (astronaut.json()["kind"], astronaut.json()["side"]) == ("png", 512)
    small = await put(client, me, face("person_a_1.jpg"))  # 204 x 244: cropped to 204, not enlarged
    assert small.status_code == 200 and small.json()["side"] == 204
    shown = await client.get("/v1/me/avatar", headers=me)
    assert shown.headers["content-type"] == "image/jpeg" and decoded(shown.content).shape == (204, 204, 3)
    # A PNG with an alpha channel keeps only its colour.
    rgba = await put(client, me, face("32bit.png"), "application/octet-stream")
    assert rgba.status_code == 200 and rgba.json()["side"] == 512
    assert decoded((await client.get("/v1/me/avatar", headers=me)).content).shape == (512, 512, 3)


class DecodeCounter:
    """Counts the calls to OpenCV's decoder, which it still runs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        decode = cv2.imdecode

        def counted(buffer: object, flags: int) -> object:
            self.calls += 1
            return decode(buffer, flags)

        monkeypatch.setattr(cv2, "imdecode", counted)


async def test_hostile_uploads_are_refused_with_a_stable_code(
    client: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, me = await person(client, runtime)
    decodes = DecodeCounter(monkeypatch)
    started = time.perf_counter()
    bomb = await put(client, me, png_declaring(100_000, 100_000), "image/png")
    assert problem(bomb) == (422, "image_too_many_pixels")
    assert bomb.json()["errors"][0]["field"] == "avatar"
    # 16 bits a sample: 7000 x 5000 is within the pixel count, not the decode memory; refused from its header.
    deep = await put(client, me, png_declaring(7000, 5000, depth=16), "image/png")
    assert problem(deep) == (422, "image_too_large")
    assert time.perf_counter() - started < 1.0 and decodes.calls == 0  # neither was decoded
    truncated = await put(client, me, face("obama.jpg")[:5000])
    assert problem(truncated) == (422, "upload_corrupt")
    pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    assert problem(await put(client, me, pdf, "image/jpeg")) == (422, "upload_type_not_allowed")
    html = b"<html><script>alert(document.cookie)</script></html>"
    assert problem(await put(client, me, html, "image/png")) == (422, "upload_type_not_allowed")
    gif = b"GIF89a" + b"\0" * 100
    assert problem(await put(client, me, gif, "application/octet-stream")) == (422, "upload_type_not_allowed")
    assert problem(await put(client, me, b"", "image/png")) == (422, "upload_empty")
    as_form = await put(client, me, face("obama.jpg"), "text/plain")
    assert problem(as_form) == (415, "unsupported_media_type")
    as_json = await put(client, me, face("obama.jpg"), "application/json")
    assert as_json.status_code in {400, 415}
    # Nothing was stored by any of them.
    assert (await client.get("/v1/me/avatar", headers=me)).status_code == 404


async def test_a_polyglot_keeps_only_its_pixels(client: httpx.AsyncClient, runtime: Runtime) -> None:
    _, me = await person(client, runtime)
    script = b"<html><script>alert(document.cookie)</script></html>"
    polyglot = face("messi5.jpg") + script  # a JPEG that is also an HTML page to a sniffing browser
    answer = await put(client, me, polyglot, "image/jpeg")
    assert answer.status_code == 200, answer.text  # bytes after the image are never kept, so need not be refused
    shown = await client.get("/v1/me/avatar", headers=me)
    assert script not in shown.content and b"<script" not in shown.content
    assert shown.headers["content-type"] == "image/jpeg"
    assert shown.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in shown.headers["content-security-policy"]
    # A PNG that is also a ZIP archive (a classic polyglot): the archive is not kept either.
    archive = b"PK\x03\x04" + b"\x14\x00" * 8 + b"payload.html<script>alert(1)</script>" + b"PK\x05\x06" + b"\0" * 18
    answer = await put(client, me, face("astronaut.png") + archive, "image/png")
    assert answer.status_code == 200, answer.text
    shown = await client.get("/v1/me/avatar", headers=me)
    assert b"PK\x03\x04" not in shown.content and b"<script" not in shown.content


async def test_an_avatar_that_cannot_get_decode_memory_in_time_is_answered_503(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    _, me = await person(client, runtime)
    runtime.decode_memory = MemoryBudget(runtime.decode_memory.capacity, patience=0.2)
    release = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as elsewhere:
        # Someone else's decode holds the whole budget.
        holder = asyncio.create_task(runtime.decode_memory.run(elsewhere, runtime.decode_memory.capacity, release.wait))
        await asyncio.sleep(0.05)
        busy = await put(client, me, face("obama.jpg"))
        release.set()
        await holder
    assert problem(busy) == (503, "uploads_busy") and busy.headers["retry-after"]
    assert (await client.get("/v1/me/avatar", headers=me)).status_code == 404
    assert (await put(client, me, face("obama.jpg"))).status_code == 200


async def test_a_16_bit_png_of_a_reasonable_size_is_kept_at_8_bits(client: httpx.AsyncClient, runtime: Runtime) -> None:
    _, me = await person(client, runtime)
    answer = await put(client, me, png_16_bit(800, 600), "image/png")
    assert answer.status_code == 200, answer.text
    shown = decoded((await client.get("/v1/me/avatar", headers=me)).content)
    assert shown.shape == (512, 512, 3) and shown.dtype == np.uint8


async def test_a_body_over_5_mib_is_refused_before_it_is_read_whole(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    _, me = await person(client, runtime)
    # Within the server's cap but over 5 MiB: the screen's own limit answers.
    just_over = await put(client, me, b"\xff\xd8\xff" + b"\0" * (5 * 1024 * 1024))
    assert problem(just_over) == (413, "upload_too_large")
    # Far over: refused on its declared length, nothing read.
    huge = await put(client, me, b"\xff\xd8\xff" + b"\0" * (20 * 1024 * 1024))
    assert huge.status_code == 413 and huge.headers["content-type"] == "application/problem+json"
    # Streamed without a length: refused as soon as the cap is passed, the rest of the stream never read.
    sent = 0

    async def endless() -> object:
        nonlocal sent
        chunk = b"\0" * (1024 * 1024)
        for _ in range(64):
            sent += len(chunk)
            yield chunk

    streamed = await client.put("/v1/me/avatar", content=endless(), headers={**me, "content-type": "image/jpeg"})
    assert streamed.status_code == 413 and streamed.headers["content-type"] == "application/problem+json"
    assert sent < 10 * 1024 * 1024
    assert (await client.get("/v1/me/avatar", headers=me)).status_code == 404


async def test_another_person_never_sees_or_removes_ones_avatar(client: httpx.AsyncClient, runtime: Runtime) -> None:
    _, alice = await person(client, runtime)
    _, mallory = await person(client, runtime)
    assert (await put(client, alice, face("obama.jpg"))).status_code == 200
    alices = (await client.get("/v1/me/avatar", headers=alice)).content

    assert problem(await client.get("/v1/me/avatar", headers=mallory)) == (404, "avatar_not_found")
    assert problem(await client.delete("/v1/me/avatar", headers=mallory)) == (404, "avatar_not_found")
    assert (await put(client, mallory, face("biden.jpg"))).status_code == 200
    assert (await client.get("/v1/me/avatar", headers=alice)).content == alices
    assert (await client.get("/v1/me/avatar", headers=mallory)).content != alices
    # Without a session, nothing at all (the client's jar holds the last registration's cookie).
    client.cookies.clear()
    for method in ("GET", "DELETE"):
        assert (await client.request(method, "/v1/me/avatar")).status_code == 401
    assert (
        await client.put("/v1/me/avatar", content=face("obama.jpg"), headers={"content-type": "image/jpeg"})
    ).status_code == 401
    # A forged cross-site upload carrying the session is refused before anything is read.
    forged = await client.put(
        "/v1/me/avatar",
        content=face("biden.jpg"),
        headers={**alice, "content-type": "image/jpeg", "origin": "https://evil.example"},
    )
    assert problem(forged) == (403, "origin_not_allowed")
    assert (await client.get("/v1/me/avatar", headers=alice)).content == alices

    assert (await client.delete("/v1/me/avatar", headers=alice)).status_code == 204
    assert problem(await client.get("/v1/me/avatar", headers=alice)) == (404, "avatar_not_found")
    assert problem(await client.delete("/v1/me/avatar", headers=alice)) == (404, "avatar_not_found")
    assert (await client.get("/v1/me/avatar", headers=mallory)).status_code == 200


async def test_parallel_uploads_by_one_person_run_one_at_a_time(client: httpx.AsyncClient, runtime: Runtime) -> None:
    _, me = await person(client, runtime)
    answers = await asyncio.gather(*(put(client, me, face("biden.jpg")) for _ in range(6)))
    statuses = [answer.status_code for answer in answers]
    assert set(statuses) <= {200, 409} and 200 in statuses
    for answer in answers:
        if answer.status_code == 409:
            assert problem(answer) == (409, "avatar_upload_under_way")
    # Afterwards one more goes through: nothing was left marked as under way.
    assert (await put(client, me, face("messi5.jpg"))).status_code == 200


async def test_the_avatar_is_exported_and_erased_with_the_account(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    account_id, me = await person(client, runtime)
    assert (await put(client, me, face("messi5.jpg"))).status_code == 200
    shown = (await client.get("/v1/me/avatar", headers=me)).content

    async with runtime.database.transaction() as conn:
        cipher = await runtime.vault.open(conn, account_id)
        archive = json.loads(await build_archive(conn, runtime.vault, cipher, account_id))
    assert archive["avatar"]["kind"] == "jpeg" and archive["avatar"]["side"] == 342
    assert base64.b64decode(archive["avatar"]["content"]) == shown

    await cancel_now_due(client, db, me)
    assert await erase_due(runtime) == 1
    assert await db.fetchval("SELECT count(*) FROM avatars WHERE account_id = $1", account_id) == 0


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_an_unknown_avatar_path_is_not_an_account_id(
    client: httpx.AsyncClient, runtime: Runtime, method: str
) -> None:
    _, me = await person(client, runtime)
    # There is no way to name another person's avatar: the only avatar is one's own.
    answer = await client.request(method, f"/v1/me/avatar/{uuid.uuid4()}", headers=me)
    assert answer.status_code in {404, 405}


async def test_uploads_are_rate_limited_per_client_address(runtime: Runtime) -> None:
    limited = msgspec.structs.replace(runtime.settings, rate_limit_uploads_per_minute=2)
    transport = httpx.ASGITransport(app=create_asgi(limited, runtime=runtime), client=("192.0.2.77", 1))
    async with httpx.AsyncClient(transport=transport, base_url="https://idv.test") as client:
        _, me = await person(client, runtime)
        answers = [await put(client, me, face("messi5.jpg")) for _ in range(3)]
        assert [answer.status_code for answer in answers] == [200, 200, 429]
        assert answers[2].headers["content-type"] == "application/problem+json"
        # Reading and removing are not uploads.
        assert (await client.get("/v1/me/avatar", headers=me)).status_code == 200
        assert (await client.delete("/v1/me/avatar", headers=me)).status_code == 204


async def test_a_restricted_account_sees_and_removes_its_avatar_but_cannot_change_it(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account_id, me = await person(client, runtime)
    assert (await put(client, me, face("messi5.jpg"))).status_code == 200
    senior = await enrolled_operator(runtime, client, "senior_reviewer")
    url = f"/v1/operator/accounts/{account_id}/restriction"
    restricted = await client.post(url, json={"reason_code": "identity_in_doubt"}, headers=senior.headers)
    assert restricted.status_code == 200, restricted.text
    assert problem(await put(client, me, face("obama.jpg"))) == (403, "account_restricted")
    assert (await client.get("/v1/me/avatar", headers=me)).status_code == 200
    assert (await client.delete("/v1/me/avatar", headers=me)).status_code == 204
