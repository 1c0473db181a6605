"""Cases whose evidence an operator opens, made through the API as a person would make them: a
qualification case with a real JPEG, a real PNG and a PDF; a face case in the grey band, with the
real photos of shared/faces (the document portrait and every live frame kept for the operator)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg
import cv2
import httpx
import msgspec
import numpy as np

from service.runtime import Runtime
from tests.arrange.consents import grant
from tests.arrange.face_answers import DOCUMENT, jpeg, pin_actions, verification_frames
from tests.arrange.people import ready_for_real_name
from tests.arrange.photos import photo
from tests.arrange.qualifications import certificate_jpeg, declaration
from tests.helpers import latest_code

# What a face case in the grey band keeps: the document portrait, the first live frame, and every
# frame of the answer (verification_frames: two for the first action, one for the second).
FACE_IMAGE_ROLES = ["document", "live", "frame-0-1", "frame-1-0"]


def certificate_png() -> bytes:
    """A real PNG (a drawn payslip), 640 x 480."""
    image = np.full((480, 640, 3), 250, np.uint8)
    cv2.putText(image, "Payslip 2026-11", (40, 100), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (30, 30, 30), 2)
    cv2.rectangle(image, (20, 20), (620, 460), (160, 60, 60), 3)
    ok, encoded = cv2.imencode(".png", image)
    assert ok
    return encoded.tobytes()


def certificate_pdf() -> bytes:
    """A one-page PDF without active content, with its cross-reference table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Count 1 /Kids [3 0 R] >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
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


@dataclass(frozen=True)
class DocumentCase:
    case_id: uuid.UUID
    # The document ids by kind: jpeg, png, pdf.
    documents: dict[str, uuid.UUID]
    me: dict[str, str]


async def qualification_case_with_documents(client: httpx.AsyncClient, runtime: Runtime) -> DocumentCase:
    """A person declares a qualification, proves the work e-mail, uploads a JPEG, a PNG and a PDF and
    submits it: an open qualification case with those three documents."""
    _, me = await ready_for_real_name(client, runtime)
    work_email = f"w{uuid.uuid4().hex[:8]}@corp.example.com"
    started = await client.post("/v1/me/qualifications", json=declaration(work_email), headers=me)
    assert started.status_code == 201, started.text
    qid = started.json()["qualification_id"]
    code = await latest_code(runtime, "email", work_email)
    verified = await client.post(f"/v1/me/qualifications/{qid}/work-email/verify", json={"code": code}, headers=me)
    assert verified.status_code == 200, verified.text
    documents = {}
    for data, media in (
        (certificate_jpeg(), "image/jpeg"),
        (certificate_png(), "image/png"),
        (certificate_pdf(), "application/pdf"),
    ):
        receipt = await client.post(
            f"/v1/me/qualifications/{qid}/documents", content=data, headers={**me, "content-type": media}
        )
        assert receipt.status_code == 201, receipt.text
        documents[receipt.json()["kind"]] = uuid.UUID(receipt.json()["document_id"])
    assert sorted(documents) == ["jpeg", "pdf", "png"]
    submitted = await client.post(f"/v1/me/qualifications/{qid}/submit", headers=me)
    assert submitted.status_code == 200, submitted.text
    return DocumentCase(uuid.UUID(submitted.json()["case_id"]), documents, me)


async def face_case_in_review(client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection) -> uuid.UUID:
    """A person's face verification, with genuine photos, lands between the thresholds (the accept
    threshold raised for that answer only): a face case for an operator, keeping every image."""
    _, me = await ready_for_real_name(client, runtime)
    await grant(client, me, "biometric")
    started = await client.post("/v1/me/verifications/face", headers=me)
    assert started.status_code == 201, started.text
    challenge = started.json()
    await pin_actions(db, challenge["verification_id"])
    configured = runtime.settings
    runtime.settings = msgspec.structs.replace(configured, face_accept_threshold=0.95)
    try:
        answered = await client.post(
            f"/v1/me/verifications/face/{challenge['verification_id']}",
            json={"nonce": challenge["nonce"], "document": jpeg(photo(DOCUMENT)), "frames": verification_frames()},
            headers=me,
        )
    finally:
        runtime.settings = configured
    assert answered.status_code == 200 and answered.json()["status"] == "in_review", answered.text
    return uuid.UUID(challenge["case_id"])
