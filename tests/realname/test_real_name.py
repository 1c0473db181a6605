"""Real-name verification over the API: consent first, offline checks, the sandbox registry,
pending and retried when it is down, one identity per account, and the whoami flag."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx

from service.realname.providers import SANDBOX_UNAVAILABLE, SandboxRealNameProvider
from service.realname.verification import check_with_registry
from service.runtime import Runtime
from tests.arrange.consents import grant
from tests.helpers import bearer, register

ZHANG_SAN = {"legal_name": "张三", "document_type": "resident_id_card", "id_number": "11010519491231002x"}


async def verified_ready(client: httpx.AsyncClient, birth_date: str = "1949-12-31", **overrides: Any) -> dict[str, str]:
    suffix = uuid.uuid4().hex[:8]
    body = await register(
        client, birth_date=birth_date, email=f"{suffix}@example.com", username=f"u_{suffix}", phone=None, **overrides
    )
    me = bearer(body["session"]["token"])
    await grant(client, me, "identity_data")
    return me


async def test_without_the_identity_data_consent_nothing_is_processed(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    body = await register(client, birth_date="1949-12-31")
    response = await client.post(
        "/v1/me/verifications/real-name", json=ZHANG_SAN, headers=bearer(body["session"]["token"])
    )
    assert response.status_code == 403 and response.json()["code"] == "consent_missing"
    assert await db.fetchval("SELECT count(*) FROM real_name_verifications") == 0


async def test_a_match_verifies_and_whoami_says_so(client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    me = await verified_ready(client)
    response = await client.post("/v1/me/verifications/real-name", json=ZHANG_SAN, headers=me)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "verified"
    whoami = await client.get("/v1/sessions/whoami", headers=me)
    assert whoami.json()["assurance"]["real_name_verified"] is True
    assert whoami.headers["x-idv-real-name-verified"] == "true"
    row = await db.fetchrow("SELECT id_number, legal_name, provider, provider_outcome FROM real_name_verifications")
    assert row is not None and b"11010519491231002X" not in row["id_number"]
    assert (row["provider"], row["provider_outcome"]) == ("sandbox", "match")
    again = await client.post("/v1/me/verifications/real-name", json=ZHANG_SAN, headers=me)
    assert again.status_code == 409


async def test_offline_checks_name_the_fields(client: httpx.AsyncClient) -> None:
    me = await verified_ready(client)
    bad = await client.post(
        "/v1/me/verifications/real-name",
        json={**ZHANG_SAN, "legal_name": "张3", "id_number": "110105194912310021"},
        headers=me,
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"legal_name", "id_number"}

    other = await verified_ready(client, birth_date="1990-01-01")
    mismatch = await client.post("/v1/me/verifications/real-name", json=ZHANG_SAN, headers=other)
    assert mismatch.status_code == 422
    assert {(e["field"], e["code"]) for e in mismatch.json()["errors"]} == {
        ("id_number", "birth_date_mismatch"),
        ("birth_date", "birth_date_mismatch"),
    }


async def test_a_mismatch_is_rejected_with_a_reason_the_user_can_read(client: httpx.AsyncClient) -> None:
    me = await verified_ready(client)
    response = await client.post("/v1/me/verifications/real-name", json={**ZHANG_SAN, "legal_name": "李四"}, headers=me)
    assert response.status_code == 201 and response.json()["status"] == "rejected"
    cases = (await client.get("/v1/me/cases", headers=me)).json()
    assert cases[0]["state"] == "rejected"
    assert cases[0]["message"] == "The name you gave does not match your identity document."
    # A new attempt is allowed after a rejection.
    retry = await client.post("/v1/me/verifications/real-name", json=ZHANG_SAN, headers=me)
    assert retry.json()["status"] == "verified"


async def test_a_registry_that_is_down_leaves_it_pending_for_the_job(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    me = await verified_ready(client, birth_date="1980-01-01")
    response = await client.post(
        "/v1/me/verifications/real-name",
        json={"legal_name": "张三", "document_type": "resident_id_card", "id_number": SANDBOX_UNAVAILABLE},
        headers=me,
    )
    assert response.status_code == 202 and response.json()["status"] == "pending"
    job = await db.fetchrow("SELECT entrypoint, payload FROM pgqueuer WHERE entrypoint = 'realname.check'")
    assert job is not None
    verification_id = await db.fetchval("SELECT id FROM real_name_verifications")

    class RecoveredRegistry(SandboxRealNameProvider):
        async def check(self, query: Any) -> Any:
            return await super().check(type(query)(query.legal_name, "11010519491231002X", query.document_type))

    status = await check_with_registry(runtime, RecoveredRegistry(), verification_id)
    assert status == "verified"


async def test_one_identity_backs_one_account_and_a_second_claim_goes_to_review(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    first = await verified_ready(client)
    assert (await client.post("/v1/me/verifications/real-name", json=ZHANG_SAN, headers=first)).json()["status"] == (
        "verified"
    )
    second = await verified_ready(client)
    response = await client.post("/v1/me/verifications/real-name", json=ZHANG_SAN, headers=second)
    assert response.status_code == 202 and response.json()["status"] == "pending"
    case = await db.fetchrow(
        "SELECT state, reason_code FROM review_cases WHERE id = $1", uuid.UUID(response.json()["case_id"])
    )
    assert case is not None and (case["state"], case["reason_code"]) == ("in_review", "duplicate_identity")


async def test_withdrawing_identity_data_consent_removes_the_verification(client: httpx.AsyncClient) -> None:
    me = await verified_ready(client)
    await client.post("/v1/me/verifications/real-name", json=ZHANG_SAN, headers=me)
    await client.post("/v1/me/consents/identity_data/withdraw", headers=me)
    whoami = await client.get("/v1/sessions/whoami", headers=me)
    assert whoami.json()["assurance"]["real_name_verified"] is False
    assert (await client.get("/v1/me/verifications/real-name", headers=me)).json()["status"] == "withdrawn"
