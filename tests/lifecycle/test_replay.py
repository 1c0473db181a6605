"""A backup taken before an erasure, restored, then the live ledger replayed: the person is gone
from the restored database too."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import asyncpg
import httpx
import msgspec
import pytest

from service.consents.effects import erase_biometric_job
from service.database.embedded import find_bindir
from service.documents import store as documents
from service.face import store as face
from service.face.keys import biometric_key_owner
from service.lifecycle.cancellation import erase_due
from service.lifecycle.ledger import Category
from service.lifecycle.replay import read_ledger, replay
from service.rights import store as exports
from service.runtime import Runtime
from service.settings import Settings
from service.vault import DataKeyDestroyed
from tests.arrange.cleartext import found_in_clear
from tests.arrange.consents import grant
from tests.arrange.lifecycle import ready_export
from tests.arrange.people import PERSON, real_name_verified
from tests.helpers import STRONG_PASSWORD, enrolled_operator


async def test_replaying_the_ledger_erases_again_what_a_restored_backup_brought_back(
    client: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    owner_database_url: str,
    empty_database_url: str,
    tmp_path: Path,
) -> None:
    account_id, me = await real_name_verified(client, runtime)
    admin = await enrolled_operator(runtime, client, "admin")
    shop = {"name": "Shop", "kind": "relying_party", "webhook_url": "https://shop.example.com/idv", "secret": "A" * 44}
    recipient = (await client.post("/v1/operator/recipients", json=shop, headers=admin.headers)).json()
    disclosure = {"account_id": str(account_id), "categories": ["contact"]}
    url = f"/v1/operator/recipients/{recipient['recipient_id']}/disclosures"
    assert (await client.post(url, json=disclosure, headers=admin.headers)).status_code == 204
    backup = tmp_path / "before.dump"
    bindir = find_bindir()
    subprocess.run([bindir / "pg_dump", "-Fc", "-d", owner_database_url, "-f", backup], check=True)

    assert (await client.post("/v1/me/cancellation", json={"password": STRONG_PASSWORD}, headers=me)).status_code == 202
    async with runtime.database.transaction() as conn:
        await conn.execute("UPDATE cancellations SET erase_after = now() - interval '1 second'")
    assert await erase_due(runtime) == 1
    async with runtime.database.connection() as conn:
        ledger = await read_ledger(conn)
        notices = [tuple(r) for r in await conn.fetch("SELECT id, payload FROM recipient_notices")]
    assert [(entry.account_id, entry.reason) for entry in ledger] == [(account_id, "cancelled")]
    assert len(notices) == 1

    subprocess.run([bindir / "pg_restore", "-d", empty_database_url, backup], check=True)
    async with Runtime.open(settings, empty_database_url, apply_migrations=False) as restored:
        async with restored.database.connection() as conn:
            # The backup brought the person back: their key opens their data again.
            cipher = await restored.vault.open(conn, account_id)
            sealed = await conn.fetchval("SELECT display_name FROM accounts WHERE id = $1", account_id)
            assert cipher.open_text("account.display_name", sealed) == PERSON["display_name"]
        assert await replay(restored, ledger) == 1
        assert await replay(restored, ledger) == 0
        async with restored.database.connection() as conn:
            with pytest.raises(DataKeyDestroyed):
                await restored.vault.open(conn, account_id)
            assert await conn.fetchval("SELECT state FROM accounts WHERE id = $1", account_id) == "erased"
            # The legal hold counts from the erasure, not from the replay.
            assert await conn.fetchval("SELECT erased_at FROM erasure_ledger") == ledger[0].erased_at
            # The recipient is sent the very notice it had (same id, same body), not a second one.
            assert [tuple(r) for r in await conn.fetch("SELECT id, payload FROM recipient_notices")] == notices
            queued = await conn.fetch("SELECT payload FROM pgqueuer WHERE entrypoint = 'recipients.deliver_notice'")
            assert [msgspec.json.decode(r["payload"])["notice_id"] for r in queued] == [str(notices[0][0])]
    check = await asyncpg.connect(empty_database_url)
    try:
        for secret in (PERSON["email"], PERSON["phone"], PERSON["display_name"], "11010519491231002X"):
            assert await found_in_clear(check, secret) == [], secret
    finally:
        await check.close()


async def test_replaying_partial_erasures_erases_again_face_data_documents_images_and_exports(
    client: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    db: asyncpg.Connection,
    owner_database_url: str,
    empty_database_url: str,
    tmp_path: Path,
) -> None:
    account_id, me = await real_name_verified(client, runtime)
    await grant(client, me, "biometric")
    case_id = await db.fetchval("SELECT id FROM review_cases WHERE subject_account_id = $1", account_id)
    cipher = await runtime.vault.open(db, account_id)
    # A verified face (its template kept), an attempt whose images wait for review, a document
    # and an export ready for download: each is erased on its own while the account lives.
    verified, reviewed = uuid.uuid4(), uuid.uuid4()
    sealed: dict[str, bytes] = {}
    for verification_id, status in ((verified, "verified"), (reviewed, "in_review")):
        await db.execute(
            """INSERT INTO face_verifications (id, account_id, case_id, status, actions, nonce_digest, expires_at)
               VALUES ($1, $2, $3, $4, '{}', '', now())""",
            verification_id,
            account_id,
            case_id,
            status,
        )
    biometric = await runtime.vault.create_key(db, biometric_key_owner(verified))
    sealed["template"] = biometric.seal("face.template", b"template of the face")
    await db.execute("UPDATE face_verifications SET template = $2 WHERE id = $1", verified, sealed["template"])
    biometric = await runtime.vault.create_key(db, biometric_key_owner(reviewed))
    sealed["image"] = biometric.seal("face.sample.live", b"image of the face")
    await db.execute(
        "INSERT INTO face_samples (verification_id, role, content) VALUES ($1, 'live', $2)", reviewed, sealed["image"]
    )
    document_id = uuid.uuid4()
    sealed["document"] = cipher.seal("document.content", b"%PDF-1.4 certificate")
    await db.execute(
        "INSERT INTO documents (id, account_id, kind, content, byte_size) VALUES ($1, $2, 'pdf', $3, 20)",
        document_id,
        account_id,
        sealed["document"],
    )
    export_id = await ready_export(db, account_id)
    sealed["export"] = cipher.seal("rights.export", b'{"format": "idv-export/1"}')
    await db.execute("UPDATE data_exports SET archive = $2 WHERE id = $1", export_id, sealed["export"])

    backup = tmp_path / "before.dump"
    bindir = find_bindir()
    subprocess.run([bindir / "pg_dump", "-Fc", "-d", owner_database_url, "-f", backup], check=True)

    async with runtime.database.transaction() as conn:
        assert await face.erase_samples_of_case(conn, case_id) == 1  # the review was decided
        assert await documents.erase(conn, [document_id]) == 1  # no longer needed after the decision
        assert await exports.expire(conn) == 1  # its download period ended
    assert (await client.post("/v1/me/consents/biometric/withdraw", headers=me)).status_code == 200
    job = await db.fetchval("SELECT payload FROM pgqueuer WHERE entrypoint = 'consents.erase_biometric_data'")
    await erase_biometric_job(runtime).handler(job)
    async with runtime.database.connection() as conn:
        ledger = await read_ledger(conn)
    assert {(entry.account_id, entry.category): set(entry.items) for entry in ledger} == {
        (account_id, Category.FACE_IMAGES): {reviewed},
        (account_id, Category.DOCUMENTS): {document_id},
        (account_id, Category.EXPORTS): {export_id},
        (account_id, Category.FACE_TEMPLATES): {verified},
        (account_id, Category.BIOMETRIC_KEYS): {verified, reviewed},
        (account_id, Category.CONSENT): set(),  # the biometric consent withdrawn (reason: the purpose)
    }

    subprocess.run([bindir / "pg_restore", "-d", empty_database_url, backup], check=True)
    check = await asyncpg.connect(empty_database_url)
    try:
        # The backup brought all of it back.
        for name, value in sealed.items():
            assert await found_in_clear(check, value) != [], name
        async with Runtime.open(settings, empty_database_url, apply_migrations=False) as restored:
            assert await replay(restored, ledger) == len(ledger)
            assert await replay(restored, ledger) == 0
            async with restored.database.connection() as conn:
                for verification_id in (verified, reviewed):
                    with pytest.raises(DataKeyDestroyed):
                        await restored.vault.open(conn, biometric_key_owner(verification_id))
        # A scan of the whole restored database finds nothing that was erased.
        for name, value in sealed.items():
            assert await found_in_clear(check, value) == [], name
        assert await check.fetchval("SELECT status FROM face_verifications WHERE id = $1", verified) == "withdrawn"
        # The restored backup does not show the biometric consent granted again: it is withdrawn,
        # by the replay, once.
        consent_events = await check.fetch(
            "SELECT action, channel FROM consent_events WHERE account_id = $1 AND purpose = 'biometric' ORDER BY id",
            account_id,
        )
        assert [(e["action"], e["channel"]) for e in consent_events][-2:] == [
            ("granted", "api"),
            ("withdrawn", "replay"),
        ]
        # Redone erasures are ledgered in the restored database too, at their original times.
        assert {(r["category"], r["erased_at"]) for r in await check.fetch("SELECT * FROM erasure_ledger")} == {
            (entry.category.value, entry.erased_at) for entry in ledger
        }
    finally:
        await check.close()
