"""The committed OpenAPI document is the one the code generates."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from service.app import create_litestar
from service.http.openapi import render_document
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
