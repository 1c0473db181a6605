"""The committed OpenAPI document is the one the code generates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from service.app import create_litestar
from service.http.openapi import render_document
from service.http.request_guard import UPLOAD_MEDIA_TYPES
from service.settings import Settings

COMMITTED = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"


def test_committed_document_is_current(settings: Settings) -> None:
    generated = render_document(create_litestar(settings, dsn="postgresql://unused"))
    assert COMMITTED.read_text() == generated, "openapi/openapi.json is stale: run `idv openapi`"


def test_request_bodies_refuse_unknown_fields_and_errors_are_problems() -> None:
    document = json.loads(COMMITTED.read_text())
    schemas = document["components"]["schemas"]
    for name in ("RegistrationRequest", "SignInRequest", "ProfileChanges", "CodeSubmission", "TotpRemoval"):
        assert schemas[name]["additionalProperties"] is False, name
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert "application/problem+json" in operation["responses"]["default"]["content"], (path, method)


async def test_the_service_serves_the_same_document(client: httpx.AsyncClient) -> None:
    served = (await client.get("/openapi.json")).json()
    assert served == json.loads(COMMITTED.read_text())


# Operator endpoints one reaches before having an operator session.
OPERATOR_SIGN_IN = {
    ("/v1/operator/enrolment", "post"),
    ("/v1/operator/enrolment/confirm", "post"),
    ("/v1/operator/sessions", "post"),
    ("/v1/operator/sessions/passkey/options", "post"),
    ("/v1/operator/sessions/passkey", "post"),
}


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    document = json.loads(COMMITTED.read_text())
    return [(path, method, op) for path, item in document["paths"].items() for method, op in item.items()]


def test_every_operator_operation_requires_an_operator_session() -> None:
    checked = 0
    for path, method, operation in _operations():
        if not path.startswith("/v1/operator/") or (path, method) in OPERATOR_SIGN_IN:
            continue
        assert operation.get("security") == [{"operator_token": []}], (path, method)
        checked += 1
    assert checked >= 25
    schemes = json.loads(COMMITTED.read_text())["components"]["securitySchemes"]
    assert schemes["operator_token"] == {**schemes["operator_token"], "type": "http", "scheme": "bearer"}


def test_upload_endpoints_document_their_file_body() -> None:
    uploads = [(p, m, op) for p, m, op in _operations() if p.endswith("/documents") and m == "post"]
    assert uploads
    for path, _, operation in uploads:
        content = operation["requestBody"]["content"]
        assert set(content) == set(UPLOAD_MEDIA_TYPES), path
        assert all(c["schema"] == {"type": "string", "format": "binary"} for c in content.values())


def test_no_json_response_is_documented_as_a_bare_string() -> None:
    for path, method, operation in _operations():
        for status, response in operation["responses"].items():
            for media_type, content in (response.get("content") or {}).items():
                if "json" in media_type:
                    assert content["schema"] != {"type": "string"}, (path, method, status)
    # What tests/rights/test_exports.py downloads and reads as an object.
    archive = json.loads(COMMITTED.read_text())["paths"]["/v1/me/exports/{export_id}/archive"]["get"]
    assert archive["responses"]["200"]["content"]["application/json"]["schema"]["type"] == "object"
