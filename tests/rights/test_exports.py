"""Exporting everything held about a person: re-authenticated, built by a job, sealed, downloadable
until it expires; the archive holds the person's own data in clear and nobody else's."""

from __future__ import annotations

import base64
import json
import uuid

import asyncpg
import httpx
import msgspec

from service.rights.exports import BuildExport, build
from service.runtime import Runtime
from tests.arrange.lifecycle import held_about
from tests.arrange.people import PERSON, real_name_verified
from tests.helpers import STRONG_PASSWORD, enrolled_operator, register


async def test_an_export_holds_everything_about_the_person_and_expires(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    account_id, me = await real_name_verified(client, runtime)
    other = await register(client, email="someone.else@example.com", username="someone_else", phone=None)
    admin = await enrolled_operator(runtime, client, "admin")
    shop = {"name": "Shop", "kind": "relying_party", "webhook_url": "https://shop.example.com/idv", "secret": "A" * 44}
    recipient = (await client.post("/v1/operator/recipients", json=shop, headers=admin.headers)).json()
    disclosure = {"account_id": str(account_id), "categories": ["contact"]}
    await client.post(
        f"/v1/operator/recipients/{recipient['recipient_id']}/disclosures", json=disclosure, headers=admin.headers
    )
    wrong = await client.post("/v1/me/exports", json={"password": "not-the-password"}, headers=me)
    assert wrong.status_code == 403

    requested = await client.post("/v1/me/exports", json={"password": STRONG_PASSWORD}, headers=me)
    assert requested.status_code == 202 and requested.json()["status"] == "preparing"
    export_id = requested.json()["export_id"]
    url = f"/v1/me/exports/{export_id}/archive"
    assert (await client.get(url, headers=me)).status_code == 404  # not ready yet
    payload = await db.fetchval("SELECT payload FROM pgqueuer WHERE entrypoint = 'rights.build_export'")
    await build(runtime, msgspec.json.decode(payload, type=BuildExport).export_id)

    stored = await db.fetchval("SELECT archive FROM data_exports WHERE id = $1", uuid.UUID(export_id))
    assert PERSON["email"].encode() not in stored  # sealed at rest
    downloaded = await client.get(url, headers=me)
    assert downloaded.status_code == 200
    assert downloaded.headers["content-disposition"].startswith("attachment")
    archive = json.loads(downloaded.content)
    assert archive["format"] == "idv-export/1"
    assert archive["account"]["account_id"] == str(account_id)
    assert (archive["account"]["display_name"], archive["account"]["birth_date"]) == ("李小龙", "1949-12-31")
    assert archive["account"]["preferred_language"] == "en"  # the suite's IDV_DEFAULT_LANGUAGE
    # Each consent with the language and sha256 of the text agreed to.
    assert {(c["purpose"], c["policy_language"]) for c in archive["consents"]} >= {
        ("terms_of_service", "en"),
        ("privacy_policy", "en"),
    }
    assert all(len(c["policy_sha256"]) == 64 for c in archive["consents"])
    assert {c["kind"]: c["address"] for c in archive["contacts"]} == {
        "email": PERSON["email"],
        "phone": PERSON["phone"],
    }
    (verification,) = archive["real_name_verifications"]
    assert (verification["legal_name"], verification["id_number"], verification["status"]) == (
        "张三",
        "11010519491231002X",
        "verified",
    )
    assert {c["purpose"] for c in archive["consents"]} >= {"terms_of_service", "privacy_policy", "identity_data"}
    assert [c["case_type"] for c in archive["cases"]] == ["real_name"]
    assert [(d["recipient"], d["categories"]) for d in archive["disclosures"]] == [("Shop", ["contact"])]
    assert archive["sessions"] and archive["state_history"][0]["to_state"] == "pending_verification"
    assert other["account_id"] not in downloaded.text and "someone.else" not in downloaded.text

    await db.execute("UPDATE data_exports SET expires_at = now() - interval '1 second'")
    assert (await client.get(url, headers=me)).status_code == 404


async def _built_archive(client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection, me: dict) -> dict:
    requested = await client.post("/v1/me/exports", json={"password": STRONG_PASSWORD}, headers=me)
    assert requested.status_code == 202, requested.text
    export_id = uuid.UUID(requested.json()["export_id"])
    await build(runtime, export_id)
    downloaded = await client.get(f"/v1/me/exports/{export_id}/archive", headers=me)
    assert downloaded.status_code == 200
    archive: dict = json.loads(downloaded.content)
    archive["_text"] = downloaded.text
    return archive


async def test_the_export_holds_statements_reasons_corrections_documents_and_who_acted(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    account_id, me = await real_name_verified(client, runtime)
    other = await register(client, email="someone.else@example.com", username="someone_else", phone=None)
    held = await held_about(client, runtime, db, account_id, me)
    officer, request_case, statement, reasons = held.officer, held.request_case, held.statement, held.reasons
    first = await _built_archive(client, runtime, db, me)

    archive = await _built_archive(client, runtime, db, me)
    evidence = {(e["case_id"], e["name"]): e["value"] for e in archive["case_evidence"]}
    assert evidence[(request_case, "statement")] == statement
    (request,) = [c for c in archive["cases"] if c["id"] == request_case]
    assert request["state"] == "rejected" and request["due_at"]
    (decided,) = [e for e in archive["case_history"] if e["case_id"] == request_case and e["to_state"] == "rejected"]
    assert decided["note"] == reasons
    # Operators by id and role, nothing that identifies them further.
    assert (decided["actor_id"], decided["actor_roles"]) == (str(officer.operator_id), ["privacy_officer"])
    viewed = [e for e in archive["audit_trail"] if e["action"] == "case.viewed" and e["target_id"] == request_case]
    assert viewed and viewed[0]["actor_id"] == str(officer.operator_id) and viewed[0]["origin"] is None
    (own,) = [e for e in archive["audit_trail"] if e["action"] == "rights.request_filed"]
    assert own["origin"]["client_address"] == "203.0.113.10"
    (applied,) = archive["corrections"]
    assert (applied["status"], applied["legal_name"]) == ("applied", "张三丰")
    (document,) = archive["documents"]
    assert base64.b64decode(document["content"]) == held.document
    (face,) = archive["face_images"]
    assert base64.b64decode(face["content"]) == held.image
    assert [i["contact"] for i in archive["guardian_invitations"]] == ["mother@example.com"]
    assert [p["name"] for p in archive["passkeys"]] == ["Grandma's tablet"]
    assert [c["purpose"] for c in archive["passkey_ceremonies"]] == ["sign_in"]
    assert [c["withdrawn_at"] is not None for c in archive["cancellations"]] == [True]
    assert [(n["recipient"], n["event"]) for n in archive["recipient_notices"]] == [("Shop", "data.corrected")]
    assert first["exports"][0]["status"] == "preparing"
    assert [e["status"] for e in archive["exports"]] == ["ready", "preparing"]
    sent = {m["recipient"] for m in archive["messages"]}
    assert PERSON["email"] in sent
    assert all("code" not in (m["variables"] or {}) for m in archive["messages"])
    # Nobody else's data: not the other account's, not the operators'.
    for foreign in (other["account_id"], "someone.else", *held.operator_emails):
        assert foreign not in archive["_text"], foreign
