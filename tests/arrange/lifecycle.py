"""What happens to people over their account's life: cancellation, termination, an export, a little
of every kind of data held about them; made as the service makes them (over HTTP where it can)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg
import httpx

from service.face.keys import biometric_key_owner
from service.runtime import Runtime
from tests.arrange.passkeys import SoftAuthenticator, enrol_passkey
from tests.helpers import STRONG_PASSWORD, OperatorLogin, enrolled_operator


async def cancel_now_due(client: httpx.AsyncClient, db: asyncpg.Connection, me: dict[str, str], ago: int = 1) -> None:
    """Cancel, and let the cooling-off end ``ago`` seconds ago (older ones are picked first)."""
    cancelled = await client.post("/v1/me/cancellation", json={"password": STRONG_PASSWORD}, headers=me)
    assert cancelled.status_code == 202, cancelled.text
    account_id = (await client.get("/v1/me", headers=me)).json()["account_id"]
    await db.execute(
        "UPDATE cancellations SET erase_after = now() - make_interval(secs => $2) WHERE account_id = $1",
        uuid.UUID(account_id),
        ago,
    )


async def terminate(client: httpx.AsyncClient, runtime: Runtime, account_id: uuid.UUID, reason: str) -> None:
    """Two senior reviewers terminate the account (one proposes and decides, the other confirms)."""
    senior = await enrolled_operator(runtime, client, "senior_reviewer")
    body = {"reason": reason, "note": "The employer confirmed the certificate was forged."}
    proposed = await client.post(f"/v1/operator/accounts/{account_id}/termination", json=body, headers=senior.headers)
    assert proposed.status_code == 201, proposed.text
    case_id = proposed.json()["case_id"]
    await client.post(f"/v1/operator/cases/{case_id}/claim", headers=senior.headers)
    staged = await client.post(
        f"/v1/operator/cases/{case_id}/decision",
        json={"decision": "approve", "reason_code": "termination_warranted"},
        headers=senior.headers,
    )
    assert staged.status_code == 200, staged.text
    second = await enrolled_operator(runtime, client, "senior_reviewer")
    confirmed = await client.post(f"/v1/operator/cases/{case_id}/staged-decision/confirm", headers=second.headers)
    assert confirmed.status_code == 200, confirmed.text


async def ready_export(db: asyncpg.Connection, account_id: uuid.UUID) -> uuid.UUID:
    """A data export whose download period has just ended (the erasure job expires it)."""
    export_id = uuid.uuid4()
    await db.execute(
        """INSERT INTO data_exports (id, account_id, requested_by, status, archive, ready_at, expires_at)
           VALUES ($1, $2, $2, 'ready', '\\x00'::bytea, now() - interval '8 days', now() - interval '1 second')""",
        export_id,
        account_id,
    )
    return export_id


@dataclass(frozen=True)
class HeldAbout:
    request_case: str
    statement: str
    reasons: str
    officer: OperatorLogin
    operator_emails: tuple[str, ...]
    document: bytes
    image: bytes


async def held_about(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection, account_id: uuid.UUID, me: dict[str, str]
) -> HeldAbout:
    """A little of every kind of data held about a verified person: a rights request refused with
    an officer's reasons, a disclosure to a recipient and an applied correction it was told of, a
    cancellation stepped back from, a document, a face image under its own key, an invitation
    to a guardian, and a passkey."""
    # A statement of the person's own, refused with an officer's written reasons.
    statement = "Please delete the photos of my old qualification documents."
    filed = await client.post("/v1/me/requests", json={"kind": "deletion", "statement": statement}, headers=me)
    request_case = filed.json()["case_id"]
    officer = await enrolled_operator(runtime, client, "privacy_officer", email="officer.wang@example.com")
    assert (await client.get(f"/v1/operator/cases/{request_case}", headers=officer.headers)).status_code == 200
    await client.post(f"/v1/operator/cases/{request_case}/claim", headers=officer.headers)
    reasons = "Those photos are kept for three years under the qualification rules (section 4)."
    refusal = {"decision": "reject", "reason_code": "request_unfounded", "note": reasons}
    refused = await client.post(f"/v1/operator/cases/{request_case}/decision", json=refusal, headers=officer.headers)
    assert refused.status_code == 200, refused.text
    # A recipient, then a correction it is told about.
    admin = await enrolled_operator(runtime, client, "admin")
    shop = {"name": "Shop", "kind": "relying_party", "webhook_url": "https://shop.example.com/idv", "secret": "A" * 44}
    recipient = (await client.post("/v1/operator/recipients", json=shop, headers=admin.headers)).json()
    disclosure = {"account_id": str(account_id), "categories": ["contact"]}
    url = f"/v1/operator/recipients/{recipient['recipient_id']}/disclosures"
    assert (await client.post(url, json=disclosure, headers=admin.headers)).status_code == 204
    correction = {"statement": "My name was registered with a character missing.", "legal_name": "张三丰"}
    corrected = await client.post("/v1/me/corrections", json=correction, headers=me)
    assert corrected.status_code == 201, corrected.text
    reviewer = await enrolled_operator(runtime, client, "reviewer")
    correction_case = corrected.json()["case_id"]
    await client.post(f"/v1/operator/cases/{correction_case}/claim", headers=reviewer.headers)
    approval = {"decision": "approve", "reason_code": "evidence_consistent"}
    approved = await client.post(
        f"/v1/operator/cases/{correction_case}/decision", json=approval, headers=reviewer.headers
    )
    assert approved.status_code == 200, approved.text
    # A cancellation stepped back from.
    assert (await client.post("/v1/me/cancellation", json={"password": STRONG_PASSWORD}, headers=me)).status_code == 202
    assert (await client.delete("/v1/me/cancellation", headers=me)).status_code == 200
    # A document, a face image under its own biometric key, and an invitation to a guardian.
    document = b"%PDF-1.4 the person's certificate"
    image = b"\x89PNG the person's face"
    cipher = await runtime.vault.open(db, account_id)
    case_id = await db.fetchval("SELECT id FROM review_cases WHERE subject_account_id = $1 LIMIT 1", account_id)
    await db.execute(
        "INSERT INTO documents (id, account_id, kind, content, byte_size) VALUES ($1, $2, 'pdf', $3, $4)",
        uuid.uuid4(),
        account_id,
        cipher.seal("document.content", document),
        len(document),
    )
    verification_id = uuid.uuid4()
    await db.execute(
        """INSERT INTO face_verifications (id, account_id, case_id, status, actions, nonce_digest, expires_at)
           VALUES ($1, $2, $3, 'in_review', '{}', '', now())""",
        verification_id,
        account_id,
        case_id,
    )
    biometric = await runtime.vault.create_key(db, biometric_key_owner(verification_id))
    await db.execute(
        "INSERT INTO face_samples (verification_id, role, content) VALUES ($1, 'live', $2)",
        verification_id,
        biometric.seal("face.sample.live", image),
    )
    await db.execute(
        """INSERT INTO guardian_invitations (id, minor_account_id, contact_kind, contact, code_digest, expires_at)
           VALUES ($1, $2, 'email', $3, $4, now() + interval '1 day')""",
        uuid.uuid4(),
        account_id,
        cipher.seal("guardian.email", "mother@example.com"),
        b"digest",
    )
    # A passkey the person named, and a passkey sign-in under way for them.
    settings = runtime.settings
    device = SoftAuthenticator(origin=settings.webauthn_origins[0], rp_id=settings.webauthn_rp_id)
    await enrol_passkey(client, me, device, name="Grandma's tablet")
    asked = await client.post("/v1/sessions/passkey/options", json={"identifier": "bruce_lee"})
    assert asked.status_code == 200, asked.text
    return HeldAbout(
        request_case, statement, reasons, officer, (officer.email, admin.email, reviewer.email), document, image
    )
