"""An erased account's transaction records stay under a legal hold, minimized (no personal value,
no blind index), until the hold ends; then the nightly purge deletes them and nothing else."""

from __future__ import annotations

import base64
import uuid

import asyncpg
import httpx

from service.lifecycle.cancellation import erase_due
from service.lifecycle.retention import purge, report
from service.runtime import Runtime
from tests.arrange.consents import grant
from tests.arrange.contacts import verify_email
from tests.arrange.people import real_name_verified
from tests.helpers import STRONG_PASSWORD, bearer, enrolled_operator, register

HELD = (
    "real_name_verifications",
    "cancellations",
    "disclosures",
    "recipient_notices",
    "documents",
    "qualifications",
    "face_verifications",
)


async def _held_rows(db: asyncpg.Connection, account_id: uuid.UUID) -> dict[str, int]:
    return {
        table: await db.fetchval(f"SELECT count(*) FROM {table} WHERE account_id = $1", account_id)  # noqa: S608
        for table in HELD
    }


async def test_transaction_records_are_held_minimized_then_purged_when_the_hold_ends(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection, owner_db: asyncpg.Connection
) -> None:
    account_id, me = await real_name_verified(client, runtime)
    kept_id, _ = await _verified_person_with_other_identifiers(client, runtime)
    admin = await enrolled_operator(runtime, client, "admin")
    shop = {
        "name": "Shop",
        "kind": "relying_party",
        "webhook_url": "https://shop.example.com/idv",
        "secret": base64.b64encode(b"s" * 32).decode(),
    }
    recipient = (await client.post("/v1/operator/recipients", json=shop, headers=admin.headers)).json()
    disclosure = {"account_id": str(account_id), "categories": ["real_name_status"]}
    url = f"/v1/operator/recipients/{recipient['recipient_id']}/disclosures"
    assert (await client.post(url, json=disclosure, headers=admin.headers)).status_code == 204

    assert (await client.post("/v1/me/cancellation", json={"password": STRONG_PASSWORD}, headers=me)).status_code == 202
    await db.execute(
        "UPDATE cancellations SET erase_after = now() - interval '1 second' WHERE account_id = $1", account_id
    )
    assert await erase_due(runtime) == 1

    # Held, and minimized: the check's outcome and provider reference, not the person.
    held = await db.fetchrow(
        """SELECT status, provider, provider_reference, legal_name, id_number, birth_date, id_number_index
           FROM real_name_verifications WHERE account_id = $1""",
        account_id,
    )
    assert held is not None
    assert (held["status"], held["provider"]) == ("withdrawn", "sandbox")
    assert held["provider_reference"]
    assert (held["legal_name"], held["id_number"], held["birth_date"], held["id_number_index"]) == (b"",) * 4
    assert await _held_rows(db, account_id) == {
        **dict.fromkeys(HELD, 1),
        **dict.fromkeys(("documents", "qualifications", "face_verifications"), 0),
    }
    due = {line.category: line.due_now for line in await report(db, runtime.settings.retention)}
    assert due["legal_hold"] == 0
    assert (await purge(runtime))["legal_hold"] == 0

    await _uploads_and_verifications_held(db, account_id)

    # Three years pass (the erasure ledger is append-only: only its owner, triggers off, can move it).
    async with owner_db.transaction():
        await owner_db.execute("SET LOCAL session_replication_role = replica")
        await owner_db.execute("UPDATE erasure_ledger SET erased_at = erased_at - interval '1096 days'")
    due = {line.category: line.due_now for line in await report(db, runtime.settings.retention)}
    assert due["legal_hold"] == 1
    # Four records above, and a document (linked to its case and qualification), a qualification
    # and a face verification with its (emptied) sample.
    assert (await purge(runtime))["legal_hold"] == 10
    assert await _held_rows(db, account_id) == dict.fromkeys(HELD, 0)
    # The tombstone, its history and the ledger stay; the other person's records are untouched.
    assert await db.fetchval("SELECT state FROM accounts WHERE id = $1", account_id) == "erased"
    assert await db.fetchval("SELECT count(*) FROM erasure_ledger WHERE account_id = $1", account_id) == 1
    assert await db.fetchval("SELECT count(*) FROM real_name_verifications WHERE account_id = $1", kept_id) == 1


async def _verified_person_with_other_identifiers(
    client: httpx.AsyncClient, runtime: Runtime
) -> tuple[uuid.UUID, dict[str, str]]:
    body = await register(client, email="kept@example.com", username="kept_one", phone=None, birth_date="1990-03-07")
    me = bearer(body["session"]["token"])
    await verify_email(client, runtime, me, "kept@example.com")
    await grant(client, me, "identity_data")
    verification = {"legal_name": "李四", "document_type": "resident_id_card", "id_number": "110101199003074477"}
    response = await client.post("/v1/me/verifications/real-name", json=verification, headers=me)
    assert response.status_code == 201, response.text
    return uuid.UUID(body["account_id"]), me


async def _uploads_and_verifications_held(db: asyncpg.Connection, account_id: uuid.UUID) -> None:
    """Rows as an erasure leaves them (content gone, values blanked), referencing one another."""
    document, qualification, face = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    case_id = await db.fetchval("SELECT id FROM review_cases WHERE subject_account_id = $1 LIMIT 1", account_id)
    await db.execute(
        """INSERT INTO documents (id, account_id, kind, content, byte_size, deleted_at)
           VALUES ($1, $2, 'png', NULL, 1024, now())""",
        document,
        account_id,
    )
    await db.execute("INSERT INTO case_documents (case_id, document_id) VALUES ($1, $2)", case_id, document)
    await db.execute(
        """INSERT INTO qualifications (id, account_id, status, organization_name, credit_code, job_title,
                                       work_email, valid_until)
           VALUES ($1, $2, 'approved', '', '', '', '', '2030-01-01')""",
        qualification,
        account_id,
    )
    await db.execute(
        "INSERT INTO qualification_documents (qualification_id, document_id) VALUES ($1, $2)", qualification, document
    )
    await db.execute(
        """INSERT INTO face_verifications (id, account_id, case_id, status, actions, nonce_digest, expires_at)
           VALUES ($1, $2, $3, 'expired', '{}', '', now())""",
        face,
        account_id,
        case_id,
    )
    await db.execute(
        "INSERT INTO face_samples (verification_id, role, content, deleted_at) VALUES ($1, 'live', NULL, now())", face
    )
