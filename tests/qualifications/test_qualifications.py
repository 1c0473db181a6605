"""Qualification certification over the API: declare, prove the work e-mail, upload documents
(screened and stripped), submit, an operator opens the documents (audited) and decides; in force
in whoami and the profile until it expires or is revoked, after which its documents are erased."""

from __future__ import annotations

import asyncio
import json
import os
import struct
import sys
import threading
import time
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import asyncpg
import cv2
import httpx
import numpy as np
import pytest

from service.memory_budget import MemoryBudget
from service.qualifications.lifecycle import expire_and_erase
from service.runtime import Runtime
from service.settings import Settings
from tests.arrange.operators import claim_and_decide
from tests.arrange.people import ready_for_real_name
from tests.arrange.qualifications import MARKER, certificate_jpeg, declaration
from tests.conftest import environment_for_tests
from tests.helpers import OperatorLogin, enrolled_operator, latest_code


def png_bomb() -> bytes:
    """A tiny PNG whose header claims 100000 x 100000 pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@cache
def png_of_zeros(width: int, height: int, depth: int = 8) -> bytes:
    """A real RGB PNG of black pixels, its rows compressed by zlib as an encoder would: small for its size."""
    row = bytes(1 + width * 3 * depth // 8)
    compressor = zlib.compressobj(1)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, 2, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


class DecodeCounter:
    """Counts the calls to OpenCV's decoder, which it still runs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        decode = cv2.imdecode

        def counted(buffer: object, flags: int) -> object:
            self.calls += 1
            return decode(buffer, flags)

        monkeypatch.setattr(cv2, "imdecode", counted)


def simple_pdf(catalog: bytes, *extra: bytes) -> bytes:
    """A one-page PDF with a cross-reference table; ``extra`` objects are numbered from 4."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R %s >>" % catalog,
        b"<< /Type /Pages /Count 1 /Kids [3 0 R] >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        *extra,
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


async def upload(client: httpx.AsyncClient, me: dict[str, str], qid: str, data: bytes, media: str) -> httpx.Response:
    return await client.post(
        f"/v1/me/qualifications/{qid}/documents", content=data, headers={**me, "content-type": media}
    )


async def _draft(client: httpx.AsyncClient, runtime: Runtime, me: dict[str, str]) -> str:
    work_email = f"w{uuid.uuid4().hex[:8]}@corp.example.com"
    started = await client.post("/v1/me/qualifications", json=declaration(work_email), headers=me)
    assert started.status_code == 201, started.text
    qid = str(started.json()["qualification_id"])
    code = await latest_code(runtime, "email", work_email)
    verified = await client.post(f"/v1/me/qualifications/{qid}/work-email/verify", json={"code": code}, headers=me)
    assert verified.status_code == 200 and verified.json()["work_email_verified"] is True
    return qid


async def _submitted(client: httpx.AsyncClient, runtime: Runtime, me: dict[str, str]) -> tuple[str, str, OperatorLogin]:
    qid = await _draft(client, runtime, me)
    assert (await upload(client, me, qid, certificate_jpeg(), "image/jpeg")).status_code == 201
    submitted = await client.post(f"/v1/me/qualifications/{qid}/submit", headers=me)
    assert submitted.status_code == 200, submitted.text
    reviewer = await enrolled_operator(runtime, client, "reviewer")
    return qid, submitted.json()["case_id"], reviewer


async def test_from_declaration_to_a_qualification_in_force_and_its_expiry(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    _, me = await ready_for_real_name(client, runtime)
    work_email = "alice@corp.example.com"
    started = await client.post("/v1/me/qualifications", json=declaration(work_email), headers=me)
    assert started.status_code == 201, started.text
    body = started.json()
    qid = body["qualification_id"]
    assert (body["status"], body["work_email"], body["work_email_verified"]) == (
        "draft",
        "al***@corp.example.com",
        False,
    )
    second = await client.post("/v1/me/qualifications", json=declaration(work_email), headers=me)
    assert second.status_code == 409 and second.json()["code"] == "qualification_open"

    early = await client.post(f"/v1/me/qualifications/{qid}/submit", headers=me)
    assert early.status_code == 409 and early.json()["code"] == "work_email_unverified"
    code = await latest_code(runtime, "email", work_email)
    assert (
        await client.post(f"/v1/me/qualifications/{qid}/work-email/verify", json={"code": code}, headers=me)
    ).status_code == 200
    empty = await client.post(f"/v1/me/qualifications/{qid}/submit", headers=me)
    assert empty.status_code == 409 and empty.json()["code"] == "documents_missing"

    receipt = await upload(client, me, qid, certificate_jpeg(), "image/jpeg")
    assert receipt.status_code == 201, receipt.text
    assert (receipt.json()["kind"], receipt.json()["width"], receipt.json()["height"]) == ("jpeg", 800, 600)
    stored = await db.fetchval("SELECT content FROM documents WHERE id = $1", uuid.UUID(receipt.json()["document_id"]))
    assert stored is not None and MARKER not in stored
    submitted = (await client.post(f"/v1/me/qualifications/{qid}/submit", headers=me)).json()
    assert submitted["status"] == "submitted"
    case_id = submitted["case_id"]

    reviewer = await enrolled_operator(runtime, client, "reviewer")
    listed = (await client.get(f"/v1/operator/cases/{case_id}/documents", headers=reviewer.headers)).json()
    assert [(d["kind"], d["deleted"]) for d in listed] == [("jpeg", False)]
    url = f"/v1/operator/cases/{case_id}/documents/{listed[0]['document_id']}"
    assert (await client.get(url, headers=reviewer.headers)).status_code == 400  # a reason is required
    await client.post(f"/v1/operator/cases/{case_id}/claim", headers=reviewer.headers)
    opened = await client.get(url, params={"reason": "document_comparison"}, headers=reviewer.headers)
    assert opened.status_code == 200, opened.text
    assert opened.headers["content-type"] == "image/jpeg"
    assert opened.headers["cache-control"] == "no-store" and opened.headers["x-content-type-options"] == "nosniff"
    assert opened.headers["content-disposition"] == f'attachment; filename="document-{listed[0]["document_id"]}.jpeg"'
    assert "sandbox" in opened.headers["content-security-policy"].split("; ")
    assert MARKER not in opened.content and b"\xff\xfe" not in opened.content[:200]
    assert cv2.imdecode(np.frombuffer(opened.content, np.uint8), cv2.IMREAD_COLOR).shape == (600, 800, 3)
    audited = await db.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'case.document_opened' AND target_id = $1", case_id
    )
    assert audited == 1

    await claim_and_decide(client, reviewer, case_id, "approve", "evidence_consistent")
    whoami = await client.get("/v1/sessions/whoami", headers=me)
    assert whoami.json()["assurance"]["qualified"] is True and whoami.headers["x-idv-qualified"] == "true"
    profile = (await client.get("/v1/me", headers=me)).json()
    assert [(q["organization_name"], q["job_title"]) for q in profile["qualifications"]] == [
        ("华为技术有限公司", "软件工程师")
    ]

    # The validity ends: the scheduled job expires it and erases its documents.
    await db.execute("UPDATE qualifications SET valid_until = current_date - 1 WHERE id = $1", uuid.UUID(qid))
    expired, erased = await expire_and_erase(runtime)
    assert (expired, erased) == (1, 1)
    assert (await client.get("/v1/sessions/whoami", headers=me)).json()["assurance"]["qualified"] is False
    assert (await client.get("/v1/me/qualifications", headers=me)).json()[0]["status"] == "expired"
    assert await db.fetchval("SELECT count(*) FROM documents WHERE content IS NOT NULL") == 0


async def test_uploads_are_judged_by_their_bytes(client: httpx.AsyncClient, runtime: Runtime) -> None:
    _, me = await ready_for_real_name(client, runtime)
    qid = await _draft(client, runtime, me)

    bomb = await upload(client, me, qid, png_bomb(), "image/png")
    assert bomb.status_code == 422 and bomb.json()["errors"][0] == {
        "field": "document",
        "code": "image_too_many_pixels",
        "message": bomb.json()["errors"][0]["message"],
    }
    truncated = await upload(client, me, qid, certificate_jpeg()[:5000], "image/jpeg")
    assert truncated.status_code == 422 and truncated.json()["errors"][0]["code"] == "upload_corrupt"
    text = await upload(client, me, qid, b"name,id\nalice,1\n" * 10, "application/octet-stream")
    assert text.status_code == 422 and text.json()["errors"][0]["code"] == "upload_type_not_allowed"
    as_form = await upload(client, me, qid, certificate_jpeg(), "text/plain")
    assert as_form.status_code == 415
    huge = await upload(client, me, qid, b"\xff\xd8\xff" + b"\0" * (11 * 1024 * 1024), "image/jpeg")
    assert huge.status_code == 413
    # A PDF sent as a JPEG is a PDF: judged (and served) as one.
    pdf = simple_pdf(b"")
    renamed = await upload(client, me, qid, pdf, "image/jpeg")
    assert renamed.status_code == 201, renamed.text
    assert renamed.json()["kind"] == "pdf"
    active = simple_pdf(b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>")
    refused = await upload(client, me, qid, active, "application/pdf")
    assert refused.status_code == 422 and refused.json()["errors"][0]["code"] == "pdf_active_content"
    # Issue 17: the action in an object stream behind two Flate filters, its header written "+3 +0".
    hidden = zlib.compress(zlib.compress(b"+3 +0 << /S /JavaScript /JS (app.alert(1)) >>"))
    object_stream = (
        b"<< /Type /ObjStm /N 1 /First 6 /Filter [/FlateDecode /FlateDecode] /Length %d >>\nstream\n%s\nendstream"
    )
    chained = simple_pdf(b"/OpenAction 3 0 R", object_stream % (len(hidden), hidden))
    refused = await upload(client, me, qid, chained, "application/pdf")
    assert refused.status_code == 422 and refused.json()["errors"][0]["code"] == "pdf_active_content"
    garbage = b"%PDF-1.7\n" + bytes(range(256)) * 4 + b"\nstartxref\n12\n%%EOF\n"
    for malformed in (pdf.replace(b"/Root 1 0 R", b"/Root 9 0 R"), garbage):
        answer = await upload(client, me, qid, malformed, "application/pdf")
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["code"] in {"upload_corrupt", "pdf_unsupported"}


async def test_uploads_to_someone_elses_or_a_full_qualification_are_refused_before_anything_decodes(
    client: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    heavy = png_of_zeros(4000, 4000)  # 48 MB of pixels in 50 KB: allowed, and takes a while to decode
    _, alice = await ready_for_real_name(client, runtime)
    _, mallory = await ready_for_real_name(client, runtime)
    qid = await _draft(client, runtime, alice)
    decodes = DecodeCounter(monkeypatch)

    started = time.perf_counter()
    theirs = await upload(client, mallory, qid, heavy, "image/png")
    assert theirs.status_code == 404 and theirs.json()["code"] == "qualification_not_found"
    nowhere = await upload(client, mallory, str(uuid.uuid4()), heavy, "image/png")
    assert nowhere.status_code == 404 and nowhere.json()["code"] == "qualification_not_found"
    assert decodes.calls == 0 and time.perf_counter() - started < 1.0

    for _ in range(5):
        assert (await upload(client, alice, qid, certificate_jpeg(), "image/jpeg")).status_code == 201
    assert decodes.calls == 5
    started = time.perf_counter()
    full = await upload(client, alice, qid, heavy, "image/png")
    assert full.status_code == 409 and full.json()["code"] == "too_many_documents"
    assert decodes.calls == 5 and time.perf_counter() - started < 0.5


async def test_parallel_uploads_beyond_the_cap_are_refused_before_decoding(
    client: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, me = await ready_for_real_name(client, runtime)
    qid = await _draft(client, runtime, me)
    assert (await upload(client, me, qid, certificate_jpeg(), "image/jpeg")).status_code == 201
    decodes = DecodeCounter(monkeypatch)
    answers = await asyncio.gather(*(upload(client, me, qid, certificate_jpeg(), "image/jpeg") for _ in range(8)))
    statuses = [answer.status_code for answer in answers]
    assert set(statuses) == {201, 409} and statuses.count(201) <= 4  # room for four beside the one stored
    assert decodes.calls == statuses.count(201)  # the refused ones were refused before anything decoded


async def test_a_16_bit_png_of_6300_by_6300_pixels_is_refused_before_decoding(
    client: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, me = await ready_for_real_name(client, runtime)
    qid = await _draft(client, runtime, me)
    decodes = DecodeCounter(monkeypatch)
    bomb = png_of_zeros(6300, 6300, depth=16)  # 40 megapixels, under max_pixels; 227 MiB at 16 bits
    refused = await upload(client, me, qid, bomb, "image/png")
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [("document", "image_too_large")]
    assert decodes.calls == 0


async def test_an_upload_that_cannot_get_decode_memory_in_time_is_answered_503(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    _, me = await ready_for_real_name(client, runtime)
    qid = await _draft(client, runtime, me)
    runtime.decode_memory = MemoryBudget(runtime.decode_memory.capacity, patience=0.2)
    release = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as elsewhere:
        # Someone else's decode holds the whole budget.
        holder = asyncio.create_task(runtime.decode_memory.run(elsewhere, runtime.decode_memory.capacity, release.wait))
        await asyncio.sleep(0.05)
        busy = await upload(client, me, qid, certificate_jpeg(), "image/jpeg")
        release.set()
        await holder
    assert busy.status_code == 503 and busy.json()["code"] == "uploads_busy"
    assert busy.headers["content-type"] == "application/problem+json" and busy.headers["retry-after"] == "10"
    assert (await upload(client, me, qid, certificate_jpeg(), "image/jpeg")).status_code == 201


@pytest.mark.slow
async def test_parallel_heavy_uploads_stay_within_the_decode_memory_budget(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, database_url: str, tmp_path: Path
) -> None:
    # Six 5000 x 5000 PNGs at once, each allowed alone (about 150 MB while decoding), on six CPU workers: only
    # the 256 MiB budget stands between them and a gigabyte.
    _, me = await ready_for_real_name(client, runtime)
    qid = await _draft(client, runtime, me)
    payload = tmp_path / "heavy.png"
    payload.write_bytes(png_of_zeros(5000, 5000))
    env = {
        **os.environ,
        **environment_for_tests(tmp_path / "probe-state"),
        "IDV_CPU_WORKERS": "6",
        "IDV_DECODE_MEMORY_BUDGET_MIB": "256",
    }
    token = me["authorization"].removeprefix("Bearer ")
    probe = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.qualifications.upload_memory_probe",
        database_url,
        qid,
        token,
        str(payload),
        "6",
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(probe.communicate(), timeout=300)
    assert probe.returncode == 0, err.decode()[-3000:]
    result = json.loads(out.decode().strip().splitlines()[-1])
    print(result)
    assert set(result["statuses"]) <= {201, 409, 503} and 201 in result["statuses"]
    assert result["growth_kib"] <= (256 + 64) * 1024  # the budget, and the six request bodies and copies


async def test_resubmission_reopens_and_revocation_ends_it(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    _, me = await ready_for_real_name(client, runtime)
    qid, case_id, reviewer = await _submitted(client, runtime, me)
    await claim_and_decide(client, reviewer, case_id, "request_resubmission", "document_unreadable")
    reopened = (await client.get("/v1/me/qualifications", headers=me)).json()[0]
    assert reopened["status"] == "draft"
    assert (await upload(client, me, qid, certificate_jpeg(), "image/jpeg")).status_code == 201
    again = await client.post(f"/v1/me/qualifications/{qid}/submit", headers=me)
    assert again.status_code == 200 and again.json()["case_id"] == case_id
    assert await db.fetchval("SELECT resubmissions FROM review_cases WHERE id = $1", uuid.UUID(case_id)) == 1
    documents = (await client.get(f"/v1/operator/cases/{case_id}/documents", headers=reviewer.headers)).json()
    assert len(documents) == 2
    await claim_and_decide(client, reviewer, case_id, "approve", "evidence_consistent")

    revoke_url = f"/v1/operator/qualifications/{qid}/revoke"
    body = {"reason_code": "employment_ended"}
    assert (await client.post(revoke_url, json=body, headers=reviewer.headers)).status_code == 403
    senior = await enrolled_operator(runtime, client, "senior_reviewer")
    bad = await client.post(revoke_url, json={"reason_code": "dislike"}, headers=senior.headers)
    assert bad.status_code == 422
    revoked = await client.post(revoke_url, json=body, headers=senior.headers)
    assert revoked.status_code == 200 and revoked.json() == {"status": "revoked"}
    mine = (await client.get("/v1/me/qualifications", headers=me)).json()[0]
    assert (mine["status"], mine["end_reason"]) == ("revoked", "employment_ended")
    assert (await client.get("/v1/sessions/whoami", headers=me)).json()["assurance"]["qualified"] is False
    assert (await client.post(revoke_url, json=body, headers=senior.headers)).status_code == 409


@pytest.mark.parametrize("field", ["credit_code", "work_email", "valid_until"])
async def test_declarations_are_validated(client: httpx.AsyncClient, runtime: Runtime, field: str) -> None:
    _, me = await ready_for_real_name(client, runtime)
    bad = {"credit_code": "914403001922038217", "work_email": "not-an-address", "valid_until": "2001-01-01"}
    response = await client.post(
        "/v1/me/qualifications", json={**declaration("bob@corp.example.com"), field: bad[field]}, headers=me
    )
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]
