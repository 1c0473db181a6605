"""The case page's viewer over HTTP: a case's documents and face images, opened through the operator
API's own functions (the same checks, the same audit entries), images inline, PDFs only as downloads,
and everyone the API refuses refused here too."""

from __future__ import annotations

import json
import re
import uuid

import asyncpg
import cv2
import httpx
import numpy as np

from service.console.security import CONTENT_SECURITY_POLICY
from service.http.evidence import EVIDENCE_HEADERS
from service.runtime import Runtime
from tests.arrange.cases import case_in_review
from tests.arrange.console import ConsoleOperator, console_sign_in, csrf_of, enrolled_for_console
from tests.arrange.evidence import (
    FACE_IMAGE_ROLES,
    DocumentCase,
    face_case_in_review,
    qualification_case_with_documents,
)
from tests.helpers import OperatorLogin, enrolled_operator, register

COOKIE = "__Host-idv_console"
REASON = {"reason": "document_comparison"}


async def signed_in(client: httpx.AsyncClient, runtime: Runtime, *roles: str) -> ConsoleOperator:
    client.cookies.clear()
    operator = await enrolled_for_console(runtime, client, *roles)
    response = await console_sign_in(client, operator)
    assert response.status_code == 303, response.text
    return operator


def document_url(case_id: uuid.UUID, document_id: uuid.UUID) -> str:
    return f"/console/cases/{case_id}/documents/{document_id}"


def api_url(console_url: str) -> str:
    return console_url.replace("/console/cases/", "/v1/operator/cases/")


async def opened(db: asyncpg.Connection, action: str, case_id: uuid.UUID) -> list[dict[str, str]]:
    rows = await db.fetch(
        "SELECT actor_id, details FROM audit_log WHERE action = $1 AND target_id = $2 ORDER BY at",
        action,
        str(case_id),
    )
    return [{"actor_id": row["actor_id"], **json.loads(row["details"])} for row in rows]


async def denied(db: asyncpg.Connection, case_id: uuid.UUID) -> int:
    count: int = await db.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'operator.access_denied' AND target_id = $1", str(case_id)
    )
    return count


def decoded(content: bytes) -> tuple[int, ...]:
    image = cv2.imdecode(np.frombuffer(content, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return tuple(image.shape)


def assert_evidence_headers(response: httpx.Response, media_type: str) -> None:
    assert response.headers["content-type"] == media_type
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cross-origin-resource-policy"] == "same-origin"
    assert "sandbox" in response.headers["content-security-policy"].split("; ")
    assert "set-cookie" not in response.headers


async def test_images_show_inline_and_a_pdf_only_downloads_each_opening_audited(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    case = await qualification_case_with_documents(client, runtime)
    operator = await signed_in(client, runtime, "reviewer")
    jpeg, png, pdf = (document_url(case.case_id, case.documents[kind]) for kind in ("jpeg", "png", "pdf"))

    # Without a reason the viewer lists the documents and opens none of them.
    page = await client.get(f"/console/cases/{case.case_id}")
    assert page.status_code == 200
    text = " ".join(page.text.split())
    assert "Document 1 (jpeg, 800×600" in text and "Document 2 (png, 640×480" in text and "(pdf, " in text
    assert "<img" not in page.text and 'name="reason" required' in page.text
    assert await opened(db, "case.document_opened", case.case_id) == []

    page = await client.get(f"/console/cases/{case.case_id}", params=REASON)
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "img-src 'self'" in CONTENT_SECURITY_POLICY
    assert "style=" not in page.text and "<script>" not in page.text
    assert f'<img src="{jpeg}?reason=document_comparison"' in page.text
    assert f'<img src="{png}?reason=document_comparison"' in page.text
    assert f'<a href="{pdf}?reason=document_comparison" download' in page.text
    assert f'<img src="{pdf}' not in page.text
    assert '<option value="document_comparison" selected>' in page.text

    image = await client.get(jpeg, params=REASON)
    assert image.status_code == 200, image.text
    assert_evidence_headers(image, "image/jpeg")
    assert image.headers["content-disposition"] == f'inline; filename="document-{case.documents["jpeg"]}.jpeg"'
    assert decoded(image.content) == (600, 800, 3)
    image = await client.get(png, params={"reason": "identity_check"})
    assert image.status_code == 200
    assert_evidence_headers(image, "image/png")
    assert image.headers["content-disposition"].startswith("inline;")
    assert decoded(image.content) == (480, 640, 3)
    download = await client.get(pdf, params=REASON)
    assert download.status_code == 200
    assert_evidence_headers(download, "application/pdf")
    assert download.headers["content-disposition"] == f'attachment; filename="document-{case.documents["pdf"]}.pdf"'
    assert download.content.startswith(b"%PDF-")

    # One entry per opening, as the operator API writes it: who, which document, why.
    entries = await opened(db, "case.document_opened", case.case_id)
    assert [(e["actor_id"], e["document_id"], e["reason"]) for e in entries] == [
        (str(operator.operator_id), str(case.documents["jpeg"]), "document_comparison"),
        (str(operator.operator_id), str(case.documents["png"]), "identity_check"),
        (str(operator.operator_id), str(case.documents["pdf"]), "document_comparison"),
    ]
    # A reason is required, one of the API's; nothing opens without one.
    for params in ({}, {"reason": "curiosity"}, {"reason": ""}):
        refused = await client.get(jpeg, params=params)
        assert refused.status_code == 400, params
        assert refused.headers["content-type"] != "image/jpeg"
    assert len(await opened(db, "case.document_opened", case.case_id)) == 3


async def test_a_face_case_shows_the_portrait_and_every_live_frame(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    case_id = await face_case_in_review(client, runtime, db)
    operator = await signed_in(client, runtime, "reviewer")
    page = await client.get(f"/console/cases/{case_id}")
    text = " ".join(page.text.split())
    assert "Document portrait" in text and "First live frame" in text and "Action 2, frame 1" in text
    assert "<img" not in page.text
    page = await client.get(f"/console/cases/{case_id}", params={"reason": "identity_check"})
    for role in FACE_IMAGE_ROLES:
        url = f"/console/cases/{case_id}/face-images/{role}"
        assert f'<img src="{url}?reason=identity_check"' in page.text, role
        image = await client.get(url, params={"reason": "identity_check"})
        assert image.status_code == 200, image.text
        assert_evidence_headers(image, "image/jpeg")
        assert image.headers["content-disposition"] == f'inline; filename="face-{role}.jpeg"'
        assert len(decoded(image.content)) == 3
    entries = await opened(db, "case.face_image_opened", case_id)
    assert [(e["actor_id"], e["image"], e["reason"]) for e in entries] == [
        (str(operator.operator_id), role, "identity_check") for role in FACE_IMAGE_ROLES
    ]
    for role in ("frame-9-9", "frame-x-1", "portrait", "document.."):
        refused = await client.get(f"/console/cases/{case_id}/face-images/{role}", params={"reason": "identity_check"})
        assert refused.status_code in {400, 404}, role
    assert len(await opened(db, "case.face_image_opened", case_id)) == len(FACE_IMAGE_ROLES)


async def same_answer(
    client: httpx.AsyncClient, login: OperatorLogin, url: str, params: dict[str, str] = REASON
) -> int:
    """The console's status for ``url``, checked to be the operator API's for an operator with the same roles."""
    console = await client.get(url, params=params)
    api = await client.get(api_url(url), params=params, headers=login.headers)
    assert console.status_code == api.status_code, (url, console.text, api.text)
    assert not console.headers["content-type"].startswith(("image/", "application/pdf"))
    return console.status_code


async def test_whoever_the_api_refuses_the_console_refuses(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    case = await qualification_case_with_documents(client, runtime)
    face = await face_case_in_review(client, runtime, db)
    jpeg = document_url(case.case_id, case.documents["jpeg"])
    frame = f"/console/cases/{face}/face-images/live"

    # An operator whose roles do not cover the type (a privacy officer works cases, not these): 403,
    # and the refusal is audited as the API's is.
    await signed_in(client, runtime, "privacy_officer")
    officer = await enrolled_operator(runtime, client, "privacy_officer")
    for url in (jpeg, frame):
        assert await same_answer(client, officer, url) == 403
    assert await denied(db, case.case_id) == 2 and await denied(db, face) == 2
    page = await client.get(jpeg, params=REASON)
    assert "case_type_not_allowed" in page.text
    # An admin works no cases at all.
    await signed_in(client, runtime, "admin")
    admin = await enrolled_operator(runtime, client, "admin")
    for url in (jpeg, frame):
        assert await same_answer(client, admin, url) == 403

    # A case another reviewer claimed opens for them only.
    claimant = await signed_in(client, runtime, "reviewer")
    token = csrf_of((await client.get(f"/console/cases/{case.case_id}")).text)
    assert (await client.post(f"/console/cases/{case.case_id}/claim", data={"csrf_token": token})).status_code == 303
    assert (await client.get(jpeg, params=REASON)).status_code == 200
    await signed_in(client, runtime, "reviewer")
    other = await enrolled_operator(runtime, client, "reviewer")
    assert await same_answer(client, other, jpeg) == 409
    page = await client.get(f"/console/cases/{case.case_id}", params=REASON)
    assert page.status_code == 200 and "<img" not in page.text and "Listed only" in page.text

    # Another case's id with this case's document: not found, nothing opened.
    elsewhere = await case_in_review(client, runtime)
    mixed = document_url(elsewhere, case.documents["png"])
    assert await same_answer(client, other, mixed) == 404
    assert (await client.get(mixed, params=REASON)).headers["content-type"].startswith("text/html")
    assert await same_answer(client, other, f"/console/cases/{elsewhere}/face-images/live") == 404
    assert await same_answer(client, other, document_url(case.case_id, uuid.uuid4())) == 409  # claimed: first
    assert await same_answer(client, other, document_url(elsewhere, uuid.uuid4())) == 404

    # Malformed ids never reach a handler, and never make a server error.
    for url in (
        f"/console/cases/not-a-uuid/documents/{case.documents['jpeg']}",
        f"/console/cases/{case.case_id}/documents/123",
        f"/console/cases/{case.case_id}/documents/{case.documents['jpeg']}x",
        f"/console/cases/{face}/face-images/%2e%2e",
        f"/console/cases/{face}/face-images/{'a' * 300}",
    ):
        response = await client.get(url, params=REASON)
        assert 400 <= response.status_code < 500, url
        assert not response.headers.get("content-type", "").startswith("image/")

    # Opened by the claimant only (one opening): the others left no trace but their refusals.
    entries = await opened(db, "case.document_opened", case.case_id)
    assert [e["actor_id"] for e in entries] == [str(claimant.operator_id)]
    assert await opened(db, "case.face_image_opened", face) == []


async def test_no_console_session_opens_nothing(client: httpx.AsyncClient, runtime: Runtime) -> None:
    case = await qualification_case_with_documents(client, runtime)
    jpeg = document_url(case.case_id, case.documents["jpeg"])
    client.cookies.clear()
    response = await client.get(jpeg, params=REASON)
    assert response.status_code == 303 and response.headers["location"] == "/console/sign-in"
    # A person's session, even the subject's own, in any cookie or as a bearer token.
    person = await register(client, email="someone@example.com", username="someone", phone=None)
    for token in (person["session"]["token"], case.me["authorization"].removeprefix("Bearer ")):
        for name in (COOKIE, "__Host-idv_session", "idv_console"):
            client.cookies.clear()
            client.cookies.set(name, token, domain="idv.test")
            response = await client.get(jpeg, params=REASON)
            assert response.status_code == 303, name
            assert response.content == b"" or b"JFIF" not in response.content
        client.cookies.clear()
        response = await client.get(jpeg, params=REASON, headers={"authorization": f"Bearer {token}"})
        assert response.status_code == 303
    # An operator's API token is not a console session either.
    reviewer = await enrolled_operator(runtime, client, "reviewer")
    client.cookies.clear()
    assert (await client.get(jpeg, params=REASON, headers=reviewer.headers)).status_code == 303


async def test_an_appeal_lists_the_original_cases_documents_as_the_api_allows(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    case: DocumentCase = await qualification_case_with_documents(client, runtime)
    await signed_in(client, runtime, "reviewer")
    token = csrf_of((await client.get(f"/console/cases/{case.case_id}")).text)
    decided = await client.post(
        f"/console/cases/{case.case_id}/decision",
        data={"csrf_token": token, "choice": "reject:document_unreadable"},
    )
    assert decided.status_code == 303
    appealed = await client.post(
        f"/v1/me/cases/{case.case_id}/appeal", json={"statement": "The scan was sharp."}, headers=case.me
    )
    assert appealed.status_code == 201, appealed.text
    appeal_id = uuid.UUID(appealed.json()["case_id"])

    await signed_in(client, runtime, "reviewer")
    login = await enrolled_operator(runtime, client, "reviewer")
    page = await client.get(f"/console/cases/{appeal_id}", params=REASON)
    assert page.status_code == 200
    text = " ".join(page.text.split())
    assert "The decision appealed" in text and "Its documents and photos" in text
    for listed in ("Document 1 (jpeg, 800×600, ", "Document 2 (png, 640×480, ", "Document 3 (pdf, "):
        assert listed in text
    # The original case is closed: the API opens none of its documents, so the page links none.
    assert "<img" not in page.text and "/documents/" not in page.text
    assert "Listed only" in text
    jpeg = document_url(case.case_id, case.documents["jpeg"])
    assert await same_answer(client, login, jpeg) == 409
    assert (await client.get(jpeg, params=REASON)).status_code == 409
    entries = await opened(db, "case.document_opened", case.case_id)
    assert [e["actor_id"] for e in entries] == []


async def test_the_api_and_the_console_answer_evidence_with_the_same_headers(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    case = await qualification_case_with_documents(client, runtime)
    await signed_in(client, runtime, "reviewer")
    login = await enrolled_operator(runtime, client, "reviewer")
    shared = {name.lower(): value for name, value in EVIDENCE_HEADERS.items()}
    face_case = await face_case_in_review(client, runtime, db)
    urls = [
        document_url(case.case_id, case.documents["pdf"]),
        document_url(case.case_id, case.documents["jpeg"]),
        f"/console/cases/{face_case}/face-images/document",
    ]
    for url in urls:
        for response in (
            await client.get(url, params=REASON),
            await client.get(api_url(url), params=REASON, headers=login.headers),
        ):
            assert response.status_code == 200, (url, response.text)
            assert {name: response.headers.get(name) for name in shared} == shared, url
            assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_face_case_shows_the_portrait_beside_each_live_frame_with_a_zoom_and_no_inline_code(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    case_id = await face_case_in_review(client, runtime, db)
    await signed_in(client, runtime, "reviewer")
    listed = await client.get(f"/console/cases/{case_id}")
    assert "<img" not in listed.text and "zoom-toggle" not in listed.text  # nothing opened yet
    page = await client.get(f"/console/cases/{case_id}", params={"reason": "identity_check"})
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    portrait = f'<img src="/console/cases/{case_id}/face-images/document?reason=identity_check"'
    pairs = page.text.split('<li class="pair">')[1:]
    frames = [role for role in FACE_IMAGE_ROLES if role != "document"]
    assert len(pairs) == len(frames)
    paired = []
    for pair in (p.split("</li>")[0] for p in pairs):
        images = re.findall(
            r'<img src="/console/cases/[0-9a-f-]+/face-images/([a-z0-9-]+)\?reason=identity_check"', pair
        )
        assert len(images) == 2 and images[0] == "document", pair  # the portrait first, on the left
        paired.append(images[1])
    assert sorted(paired) == sorted(frames)
    assert page.text.count('class="zoom-toggle"') == 1
    # Zoom is a checkbox and a stylesheet rule: no inline style, no inline script.
    assert " style=" not in page.text and "<style" not in page.text
    assert "<script>" not in page.text and " on" + "click=" not in page.text
    # The reviewer's documents, when they are in a face case's viewer, are not paired.
    assert page.text.count(portrait) == len(frames)
