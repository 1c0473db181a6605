"""The consent ledger: grants, withdrawals and their effects, and policy versions that block."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from service.cases.catalogue import CaseType
from service.consents.effects import erase_biometric_job
from service.consents.ledger import require_consent
from service.consents.purposes import ConsentPurpose
from service.database import migrations
from service.errors import Forbidden
from service.policies.catalog import PolicySourceError, repository_documents
from service.policies.publishing import publish_repository_documents
from service.runtime import Runtime
from tests.arrange.cases import case_in_review
from tests.helpers import OperatorLogin, bearer, enrolled_operator, register

CURRENT = "2026-11-01"


async def signed_up(client: httpx.AsyncClient) -> tuple[uuid.UUID, dict[str, str]]:
    body = await register(client)
    return uuid.UUID(body["account_id"]), bearer(body["session"]["token"])


def states(overview: dict[str, Any]) -> dict[str, bool]:
    return {p["purpose"]: p["granted"] for p in overview["purposes"]}


async def test_registration_grants_only_the_terms_and_privacy_policy(client: httpx.AsyncClient) -> None:
    _, me = await signed_up(client)
    overview = (await client.get("/v1/me/consents", headers=me)).json()
    assert overview["consent_required"] is False
    assert states(overview) == {
        "terms_of_service": True,
        "privacy_policy": True,
        "identity_data": False,
        "biometric": False,
        "marketing": False,
        "third_party_sharing": False,
    }
    assert [e["channel"] for e in overview["history"]] == ["registration", "registration"]


async def test_grant_against_the_current_notice_and_withdraw(client: httpx.AsyncClient) -> None:
    _, me = await signed_up(client)
    stale = await client.post("/v1/me/consents/identity_data", json={"version": "2020-01-01"}, headers=me)
    assert stale.status_code == 409 and stale.json()["code"] == "policy_not_current"
    granted = await client.post("/v1/me/consents/identity_data", json={"version": CURRENT}, headers=me)
    assert states(granted.json())["identity_data"] is True
    again = await client.post("/v1/me/consents/identity_data", json={"version": CURRENT}, headers=me)
    assert len(again.json()["history"]) == 3  # granting twice records it once

    withdrawn = await client.post("/v1/me/consents/identity_data/withdraw", headers=me)
    assert states(withdrawn.json())["identity_data"] is False
    assert [(e["purpose"], e["action"]) for e in withdrawn.json()["history"]][-2:] == [
        ("identity_data", "granted"),
        ("identity_data", "withdrawn"),
    ]
    twice = await client.post("/v1/me/consents/identity_data/withdraw", headers=me)
    assert twice.status_code == 409 and twice.json()["code"] == "consent_not_granted"
    terms = await client.post("/v1/me/consents/terms_of_service/withdraw", headers=me)
    assert terms.status_code == 409 and terms.json()["code"] == "consent_not_withdrawable"
    unknown = await client.post("/v1/me/consents/everything", json={"version": CURRENT}, headers=me)
    assert (unknown.status_code, unknown.json()["code"]) == (400, "invalid_parameters")


async def test_sensitive_processing_waits_for_its_own_consent_and_stops_when_withdrawn(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    account, me = await signed_up(client)
    with pytest.raises(Forbidden) as refused:
        await require_consent(db, runtime.policies, account, ConsentPurpose.BIOMETRIC)
    assert refused.value.code == "consent_missing"
    # Refusing the sensitive purposes leaves basic service working.
    assert (await client.patch("/v1/me", json={"display_name": "Lee"}, headers=me)).status_code == 200

    await client.post("/v1/me/consents/biometric", json={"version": CURRENT}, headers=me)
    await require_consent(db, runtime.policies, account, ConsentPurpose.BIOMETRIC)
    await client.post("/v1/me/consents/biometric/withdraw", headers=me)
    with pytest.raises(Forbidden):
        await require_consent(db, runtime.policies, account, ConsentPurpose.BIOMETRIC)


async def test_withdrawing_identity_data_stops_its_open_cases(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    account, me = await signed_up(client)
    await client.post("/v1/me/consents/identity_data", json={"version": CURRENT}, headers=me)
    real_name = await case_in_review(client, runtime, account_id=account)
    face = await case_in_review(client, runtime, account_id=account, case_type=CaseType.FACE)
    await client.post("/v1/me/consents/identity_data/withdraw", headers=me)
    case_states = dict(await db.fetch("SELECT id, state FROM review_cases"))
    assert case_states == {real_name: "withdrawn", face: "in_review"}
    reason = await db.fetchval("SELECT reason_code FROM review_cases WHERE id = $1", real_name)
    assert reason == "consent_withdrawn"


async def test_withdrawing_biometric_consent_erases_face_data_through_a_job(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    account, me = await signed_up(client)
    await client.post("/v1/me/consents/biometric", json={"version": CURRENT}, headers=me)
    face = await case_in_review(client, runtime, account_id=account, case_type=CaseType.FACE)
    other = await case_in_review(client, runtime, account_id=account)
    await client.post("/v1/me/consents/biometric/withdraw", headers=me)

    job = await db.fetchrow("SELECT entrypoint, payload FROM pgqueuer WHERE entrypoint LIKE 'consents.%'")
    assert job is not None and job["entrypoint"] == "consents.erase_biometric_data"
    assert await db.fetchval("SELECT state FROM review_cases WHERE id = $1", face) == "withdrawn"
    await erase_biometric_job(runtime).handler(job["payload"])

    evidence = dict(await db.fetch("SELECT case_id, count(*) FROM review_case_evidence GROUP BY case_id"))
    assert face not in evidence and evidence[other] == 2
    # What happened before the withdrawal stays on record.
    events = await db.fetchval("SELECT count(*) FROM review_case_events WHERE case_id = $1", face)
    assert events >= 4
    erased = await db.fetchval("SELECT details FROM audit_log WHERE action = 'consent.biometric_data_erased'")
    assert erased == '{"items":2}'


async def publish(
    client: httpx.AsyncClient, admin: OperatorLogin, kind: str, version: str, major: bool
) -> httpx.Response:
    today = datetime.now(UTC).date().isoformat()
    header = f"---\ntitle: Privacy Policy\neffective_at: {today}\nmajor: {str(major).lower()}\n---\n"
    source = header + f"# Privacy\n\nNew text {version}.\n"
    return await client.post(
        "/v1/operator/policies", json={"kind": kind, "version": version, "source": source}, headers=admin.headers
    )


async def test_a_major_version_blocks_all_but_reading_and_accepting_it(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    _, me = await signed_up(client)
    admin = await enrolled_operator(runtime, client, "admin")
    version = datetime.now(UTC).date().isoformat() + ".1"
    published = await publish(client, admin, "privacy_policy", version, major=True)
    assert published.status_code == 201, published.text

    whoami = await client.get("/v1/sessions/whoami", headers=me)
    assert whoami.status_code == 200 and whoami.json()["consent_required"] is True
    assert whoami.headers["x-idv-consent-required"] == "true"
    blocked = await client.patch("/v1/me", json={"display_name": "Lee"}, headers=me)
    assert blocked.status_code == 403 and blocked.json()["code"] == "consent_required"
    assert (await client.get("/v1/me/cases", headers=me)).status_code == 403
    for allowed in ("/v1/me", "/v1/me/consents", "/v1/sessions", "/v1/policies"):
        assert (await client.get(allowed, headers=me)).status_code == 200, allowed
    overview = (await client.get("/v1/me/consents", headers=me)).json()
    privacy = next(p for p in overview["purposes"] if p["purpose"] == "privacy_policy")
    assert privacy["regrant_required"] is True and privacy["current_version"] == version

    accepted = await client.post("/v1/me/consents/privacy_policy", json={"version": version}, headers=me)
    assert accepted.json()["consent_required"] is False
    assert (await client.get("/v1/sessions/whoami", headers=me)).json()["consent_required"] is False
    assert (await client.patch("/v1/me", json={"display_name": "Lee"}, headers=me)).status_code == 200


async def test_a_minor_version_only_notifies(client: httpx.AsyncClient, runtime: Runtime) -> None:
    _, me = await signed_up(client)
    admin = await enrolled_operator(runtime, client, "admin")
    version = datetime.now(UTC).date().isoformat() + ".2"
    assert (await publish(client, admin, "privacy_policy", version, major=False)).status_code == 201
    assert (await client.get("/v1/sessions/whoami", headers=me)).json()["consent_required"] is False
    assert (await client.patch("/v1/me", json={"display_name": "Lee"}, headers=me)).status_code == 200
    overview = (await client.get("/v1/me/consents", headers=me)).json()
    privacy = next(p for p in overview["purposes"] if p["purpose"] == "privacy_policy")
    assert (privacy["update_available"], privacy["regrant_required"]) == (True, False)
    # New registrations accept the version in effect now.
    listed = {p["kind"]: p["version"] for p in (await client.get("/v1/policies")).json()}
    assert listed["privacy_policy"] == version


async def test_published_versions_cannot_be_backdated_repeated_or_rewritten(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    admin = await enrolled_operator(runtime, client, "admin")
    version = datetime.now(UTC).date().isoformat() + ".3"
    assert (await publish(client, admin, "privacy_policy", version, major=False)).status_code == 201
    assert (await publish(client, admin, "privacy_policy", version, major=False)).status_code == 409
    past = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    old = await client.post(
        "/v1/operator/policies",
        json={"kind": "privacy_policy", "version": past, "source": f"---\ntitle: P\neffective_at: {past}\n---\nText\n"},
        headers=admin.headers,
    )
    assert old.status_code == 422 and old.json()["errors"][0]["code"] == "effective_in_the_past"
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await db.execute("UPDATE policy_versions SET source = 'rewritten'")
    audit = await db.fetchval("SELECT target_id FROM audit_log WHERE action = 'policy.published'")
    assert audit == f"privacy_policy:{version}"


async def test_a_repository_document_edited_after_publication_stops_start_up(empty_database_url: str) -> None:
    conn = await asyncpg.connect(empty_database_url)
    try:
        await migrations.migrate(conn, migrations.discover())
        original = repository_documents()[0]
        await conn.execute(
            "INSERT INTO policy_versions VALUES ($1, $2, $3, $4, $5, 'not-the-same', 'old text', 'repository')",
            original.kind,
            original.version,
            original.title,
            original.effective_at,
            original.major,
        )
        with pytest.raises(PolicySourceError, match="differs from the published text"):
            await publish_repository_documents(conn)
    finally:
        await conn.close()


def test_every_repository_document_parses() -> None:
    kinds = {d.kind for d in repository_documents()}
    assert {k.value for k in kinds} >= {p.value for p in ConsentPurpose if p.value.endswith(("service", "policy"))}


@pytest.mark.parametrize("purpose", ["identity_data", "biometric", "marketing", "third_party_sharing"])
async def test_every_optional_purpose_can_be_granted_and_withdrawn_and_both_stay_on_record(
    client: httpx.AsyncClient, db: asyncpg.Connection, purpose: str
) -> None:
    account, me = await signed_up(client)
    await client.post(f"/v1/me/consents/{purpose}", json={"version": CURRENT}, headers=me)
    overview = (await client.post(f"/v1/me/consents/{purpose}/withdraw", headers=me)).json()
    assert states(overview)[purpose] is False
    rows = await db.fetch(
        "SELECT action, policy_sha256 FROM consent_events WHERE account_id = $1 AND purpose = $2 ORDER BY id",
        account,
        purpose,
    )
    assert [r["action"] for r in rows] == ["granted", "withdrawn"]
    assert rows[0]["policy_sha256"] == rows[1]["policy_sha256"] != ""
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await db.execute("DELETE FROM consent_events WHERE account_id = $1", account)
