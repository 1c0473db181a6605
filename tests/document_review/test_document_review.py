"""The way without facial recognition: photos of the ID document checked by an operator."""

from __future__ import annotations

import base64
import uuid

import asyncpg
import httpx

from service.runtime import Runtime
from tests.arrange.operators import claim_and_decide
from tests.arrange.people import ZHANG_SAN, ready_for_real_name
from tests.arrange.qualifications import certificate_jpeg
from tests.helpers import enrolled_operator


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def test_an_operator_checks_the_document_and_the_photos_go_with_the_decision(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    _, me = await ready_for_real_name(client, runtime)
    body = {"front": b64(certificate_jpeg()), "back": b64(certificate_jpeg())}
    early = await client.post("/v1/me/verifications/document-review", json=body, headers=me)
    assert early.status_code == 409 and early.json()["code"] == "real_name_required"
    assert (await client.post("/v1/me/verifications/real-name", json=ZHANG_SAN, headers=me)).status_code == 201
    # Without the biometric consent: no facial recognition is involved.
    bad = await client.post(
        "/v1/me/verifications/document-review", json={**body, "back": b64(b"%PDF-1.4\n%%EOF\n")}, headers=me
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "back"

    requested = await client.post("/v1/me/verifications/document-review", json=body, headers=me)
    assert requested.status_code == 201, requested.text
    case_id = requested.json()["case_id"]
    assert requested.json()["status"] == "in_review"
    again = await client.post("/v1/me/verifications/document-review", json=body, headers=me)
    assert again.status_code == 409 and again.json()["code"] == "review_open"

    reviewer = await enrolled_operator(runtime, client, "reviewer")
    listed = (await client.get(f"/v1/operator/cases/{case_id}/documents", headers=reviewer.headers)).json()
    assert len(listed) == 2
    await claim_and_decide(client, reviewer, case_id, "approve", "evidence_consistent")
    whoami = await client.get("/v1/sessions/whoami", headers=me)
    assert whoami.json()["assurance"]["document_reviewed"] is True
    assert whoami.json()["assurance"]["face_verified"] is False
    assert (await client.get("/v1/me/verifications/document-review", headers=me)).json()["status"] == "approved"
    erased = await db.fetchval(
        "SELECT count(*) FROM documents d JOIN case_documents c ON c.document_id = d.id"
        " WHERE c.case_id = $1 AND d.content IS NULL",
        uuid.UUID(case_id),
    )
    assert erased == 2
