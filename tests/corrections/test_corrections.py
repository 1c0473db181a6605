"""Correcting locked data: validated like the original, applied only when an operator approves,
the original kept on record."""

from __future__ import annotations

import uuid

import asyncpg
import httpx

from service.runtime import Runtime
from tests.arrange.operators import claim_and_decide
from tests.arrange.people import ZHANG_SAN, ready_for_real_name
from tests.helpers import enrolled_operator

STATEMENT = "The hospital certificate shows the birth date was entered wrongly."


async def _account_id(client: httpx.AsyncClient, me: dict[str, str]) -> uuid.UUID:
    return uuid.UUID((await client.get("/v1/me", headers=me)).json()["account_id"])


async def test_a_birth_date_correction_applies_only_after_review(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    _, me = await ready_for_real_name(client, runtime)
    account_id = await _account_id(client, me)
    assert (await client.patch("/v1/me", json={"birth_date": "1950-01-01"}, headers=me)).status_code == 422

    requested = await client.post(
        "/v1/me/corrections", json={"statement": STATEMENT, "birth_date": "1950-01-01"}, headers=me
    )
    assert requested.status_code == 201, requested.text
    correction = requested.json()
    assert (correction["status"], correction["fields"]) == ("pending", ["birth_date"])
    again_body = {"statement": STATEMENT, "birth_date": "1950-01-02"}
    again = await client.post("/v1/me/corrections", json=again_body, headers=me)
    assert again.status_code == 409 and again.json()["code"] == "correction_pending"

    async def birth_date() -> str:
        async with runtime.database.connection() as conn:
            cipher = await runtime.vault.open(conn, account_id)
            sealed = await conn.fetchval("SELECT birth_date FROM accounts WHERE id = $1", account_id)
        return cipher.open_text("account.birth_date", sealed)

    assert await birth_date() == "1949-12-31"
    reviewer = await enrolled_operator(runtime, client, "reviewer")
    detail = (await client.get(f"/v1/operator/cases/{correction['case_id']}", headers=reviewer.headers)).json()
    assert {e["name"]: e["masked"] for e in detail["evidence"]}["birth_date"] == "1950-**-**"
    assert "1950-01-01" not in str(detail)
    # The statement is personal data like the rest: sealed, its length shown, read only by a reveal.
    masked_statement = {e["name"]: e["masked"] for e in detail["evidence"]}["statement"]
    assert masked_statement == f"statement, {len(STATEMENT)} characters"
    assert STATEMENT[:20] not in str(detail)
    stored = await db.fetchval(
        "SELECT masked FROM review_case_evidence WHERE case_id = $1 AND name = 'statement'",
        uuid.UUID(correction["case_id"]),
    )
    assert STATEMENT[:10] not in stored
    await claim_and_decide(client, reviewer, correction["case_id"], "approve", "evidence_consistent")
    assert await birth_date() == "1950-01-01"
    listed = (await client.get("/v1/me/corrections", headers=me)).json()
    assert listed[0]["status"] == "applied" and listed[0]["decided_at"] is not None


async def test_a_correction_must_agree_with_the_verified_identity(client: httpx.AsyncClient, runtime: Runtime) -> None:
    _, me = await ready_for_real_name(client, runtime)
    not_verified = await client.post(
        "/v1/me/corrections", json={"statement": STATEMENT, "legal_name": "张珊"}, headers=me
    )
    assert not_verified.status_code == 409 and not_verified.json()["code"] == "nothing_verified"
    assert (await client.post("/v1/me/verifications/real-name", json=ZHANG_SAN, headers=me)).status_code == 201

    birth_only = await client.post(
        "/v1/me/corrections", json={"statement": STATEMENT, "birth_date": "1950-01-01"}, headers=me
    )
    assert birth_only.status_code == 422
    assert {(e["field"], e["code"]) for e in birth_only.json()["errors"]} == {
        ("birth_date", "birth_date_mismatch"),
        ("id_number", "birth_date_mismatch"),
    }
    no_type = await client.post(
        "/v1/me/corrections", json={"statement": STATEMENT, "id_number": "110105194912310038"}, headers=me
    )
    assert no_type.status_code == 422 and no_type.json()["errors"][0]["field"] == "document_type"
    bad_check = await client.post(
        "/v1/me/corrections",
        json={"statement": STATEMENT, "id_number": "110105194912310039", "document_type": "resident_id_card"},
        headers=me,
    )
    assert bad_check.status_code == 422 and bad_check.json()["errors"][0]["field"] == "id_number"
    nothing = await client.post("/v1/me/corrections", json={"statement": STATEMENT}, headers=me)
    assert nothing.status_code == 422 and nothing.json()["errors"][0]["code"] == "nothing_to_correct"


async def test_a_corrected_identity_supersedes_the_verification_and_a_refusal_changes_nothing(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    _, me = await ready_for_real_name(client, runtime)
    account_id = await _account_id(client, me)
    assert (await client.post("/v1/me/verifications/real-name", json=ZHANG_SAN, headers=me)).status_code == 201
    reviewer = await enrolled_operator(runtime, client, "reviewer")

    refused = await client.post("/v1/me/corrections", json={"statement": STATEMENT, "legal_name": "张珊"}, headers=me)
    await claim_and_decide(client, reviewer, refused.json()["case_id"], "reject", "name_mismatch")
    assert (await client.get("/v1/me/corrections", headers=me)).json()[0]["status"] == "refused"

    corrected = await client.post(
        "/v1/me/corrections",
        json={
            "statement": STATEMENT,
            "legal_name": "张珊",
            "id_number": "110105194912310038",
            "document_type": "resident_id_card",
        },
        headers=me,
    )
    assert corrected.status_code == 201, corrected.text
    await claim_and_decide(client, reviewer, corrected.json()["case_id"], "approve", "evidence_consistent")

    rows = await db.fetch(
        "SELECT status, provider, legal_name, id_number FROM real_name_verifications WHERE account_id = $1"
        " ORDER BY created_at",
        account_id,
    )
    assert [(r["status"], r["provider"]) for r in rows] == [("superseded", "sandbox"), ("verified", "operator")]
    async with runtime.database.connection() as conn:
        cipher = await runtime.vault.open(conn, account_id)
    assert cipher.open_text("realname.legal_name", rows[1]["legal_name"]) == "张珊"
    assert cipher.open_text("realname.id_number", rows[1]["id_number"]) == "110105194912310038"
    assert cipher.open_text("realname.legal_name", rows[0]["legal_name"]) == "张三"
    whoami = (await client.get("/v1/sessions/whoami", headers=me)).json()
    assert whoami["assurance"]["real_name_verified"] is True


async def test_a_statement_with_control_characters_is_refused_by_field(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    _, me = await ready_for_real_name(client, runtime)
    for bad in (STATEMENT + "\x00", STATEMENT + "\x1b[31m", "\x00" * 12):
        refused = await client.post(
            "/v1/me/corrections", json={"statement": bad, "birth_date": "1950-01-01"}, headers=me
        )
        assert refused.status_code in (400, 422), refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert "statement" in refused.text
    # Lines are fine: people write paragraphs.
    lines = await client.post(
        "/v1/me/corrections", json={"statement": STATEMENT + "\nSee the scan.", "birth_date": "1950-01-01"}, headers=me
    )
    assert lines.status_code == 201, lines.text
