"""Minors over HTTP: registration waits for a guardian, the invitation, a real-name verified adult
consents (for a child, operators confirm the relationship with four eyes), the ledger records the
guardian as the actor."""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg
import httpx
import msgspec

from service.guardians.lifecycle import end_at_majority, erase_without_consent
from service.lifecycle.cancellation import erase_due
from service.rights.exports import build
from service.runtime import Runtime
from tests.arrange.guardians import guarded_minor, invitation_code, minor_awaiting_guardian, verified_guardian
from tests.arrange.operators import claim_and_decide
from tests.arrange.people import born, ready_for_real_name
from tests.helpers import STRONG_PASSWORD, bearer, enrolled_operator, outbox, register, registration


async def test_a_minor_waits_for_a_verified_adult_guardian(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    minor_id, minor = await minor_awaiting_guardian(client, runtime, 15)
    whoami = await client.get("/v1/sessions/whoami", headers=minor)
    assert whoami.status_code == 200 and whoami.json()["state"] == "awaiting_guardian"
    blocked = await client.get("/v1/me/consents", headers=minor)
    assert blocked.status_code == 403 and blocked.json()["code"] == "guardian_consent_required"
    assert (await client.get("/v1/me", headers=minor)).status_code == 200

    code = await invitation_code(client, runtime, minor, "parent@example.com")
    # Someone not real-name verified cannot consent, and does not spend the code.
    _, unverified = await ready_for_real_name(client, runtime)
    body = {"invitation_code": code, "relationship": "parent", "scopes": ["account", "identity_data"]}
    refused = await client.post("/v1/guardianships", json=body, headers=unverified)
    assert refused.status_code == 403 and refused.json()["code"] == "guardian_not_verified"
    # Nor can another minor (their session reaches nothing yet).
    _, other_minor = await minor_awaiting_guardian(client, runtime, 16)
    assert (await client.post("/v1/guardianships", json=body, headers=other_minor)).status_code == 403

    guardian = await verified_guardian(client, runtime)
    consented = await client.post("/v1/guardianships", json=body, headers=guardian)
    assert consented.status_code == 201, consented.text
    assert (consented.json()["state"], consented.json()["relationship"]) == ("active", "parent")
    assert (await client.post("/v1/guardianships", json=body, headers=guardian)).status_code == 404  # used

    whoami = await client.get("/v1/sessions/whoami", headers=minor)
    assert whoami.json()["state"] == "pending_verification"  # the minor's own e-mail is not verified yet
    guardian_id = uuid.UUID((await client.get("/v1/me", headers=guardian)).json()["account_id"])
    ledger = await db.fetch(
        "SELECT purpose, action, actor_account_id FROM consent_events WHERE account_id = $1 AND channel = 'guardian'",
        minor_id,
    )
    assert {(r["purpose"], r["action"], r["actor_account_id"]) for r in ledger} == {
        ("guardian_consent", "granted", guardian_id),
        ("identity_data", "granted", guardian_id),
    }
    seen_by_minor = (await client.get("/v1/me/guardianships", headers=minor)).json()
    assert [g["guardian_account_id"] for g in seen_by_minor] == [str(guardian_id)]


async def test_a_child_waits_until_two_operators_confirm_the_relationship(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    guardian = await verified_guardian(client, runtime)
    first_id, first = await minor_awaiting_guardian(client, runtime, 10)
    second_id, second = await minor_awaiting_guardian(client, runtime, 12)
    body = {"relationship": "parent", "scopes": ["account"]}
    child = await client.post(
        "/v1/guardianships",
        json={**body, "invitation_code": await invitation_code(client, runtime, first, "mum@example.com")},
        headers=guardian,
    )
    assert child.status_code == 201 and child.json()["state"] == "pending_review"
    case_id = child.json()["case_id"]
    assert (await client.get("/v1/sessions/whoami", headers=first)).json()["state"] == "awaiting_guardian"
    assert await db.fetchval("SELECT subject_is_child FROM review_cases WHERE id = $1", uuid.UUID(case_id))

    # One guardian, two children: the second is refused by the operators.
    other = await client.post(
        "/v1/guardianships",
        json={**body, "invitation_code": await invitation_code(client, runtime, second, "mum@example.com")},
        headers=guardian,
    )
    assert other.status_code == 201

    senior = await enrolled_operator(runtime, client, "senior_reviewer")
    privacy = await enrolled_operator(runtime, client, "privacy_officer")
    staged = await claim_and_decide(client, senior, case_id, "approve", "evidence_consistent")
    assert staged["staged"] is True  # children's data: four eyes
    confirmed = await client.post(f"/v1/operator/cases/{case_id}/staged-decision/confirm", headers=privacy.headers)
    assert confirmed.status_code == 200, confirmed.text
    assert (await client.get("/v1/sessions/whoami", headers=first)).json()["state"] == "pending_verification"

    refused_case = other.json()["case_id"]
    await claim_and_decide(client, senior, refused_case, "reject", "under_age_without_consent")
    await client.post(f"/v1/operator/cases/{refused_case}/staged-decision/confirm", headers=privacy.headers)
    assert (await client.get("/v1/sessions/whoami", headers=second)).json()["state"] == "awaiting_guardian"
    latest = await db.fetchrow(
        "SELECT action, channel FROM consent_events WHERE account_id = $1 AND purpose = 'guardian_consent'"
        " ORDER BY id DESC LIMIT 1",
        second_id,
    )
    assert latest is not None and (latest["action"], latest["channel"]) == ("withdrawn", "guardian_refused")
    states = {
        g["minor_account_id"]: g["state"] for g in (await client.get("/v1/me/guardianships", headers=guardian)).json()
    }
    assert states == {str(first_id): "active", str(second_id): "refused"}


async def test_an_adult_needs_no_guardian(client: httpx.AsyncClient, runtime: Runtime) -> None:
    adult = await register(
        client, birth_date=born(runtime, 18), email="adult@example.com", username="adult_1", phone=None
    )
    assert adult["state"] == "pending_verification"
    refused = await client.post(
        "/v1/me/guardian-invitation", json={"email": "p@example.com"}, headers=bearer(adult["session"]["token"])
    )
    assert refused.status_code == 409 and refused.json()["code"] == "no_guardian_needed"


async def test_a_guardian_sees_the_minor_and_revoking_suspends_then_deletes(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    guardian = await verified_guardian(client, runtime)
    minor_id, minor, guardianship = await guarded_minor(client, runtime, guardian)
    seen = await client.get(f"/v1/guardianships/{guardianship}/minor", headers=guardian)
    assert seen.status_code == 200 and seen.json()["account_id"] == str(minor_id)
    _, stranger = await ready_for_real_name(client, runtime)
    assert (await client.get(f"/v1/guardianships/{guardianship}/minor", headers=stranger)).status_code == 404
    # Nobody grants guardian consent to themselves through the consents API.
    self_grant = await client.post("/v1/me/consents/guardian_consent", json={"version": "2026-11-01"}, headers=minor)
    assert self_grant.status_code == 403

    # The guardian takes the minor's data away too: the archive is the minor's.
    exported = await client.post(
        f"/v1/guardianships/{guardianship}/exports", json={"password": STRONG_PASSWORD}, headers=guardian
    )
    assert exported.status_code == 202 and exported.json()["subject_account_id"] == str(minor_id)
    await build(runtime, uuid.UUID(exported.json()["export_id"]))
    archive = await client.get(f"/v1/me/exports/{exported.json()['export_id']}/archive", headers=guardian)
    assert archive.status_code == 200 and archive.json()["account"]["account_id"] == str(minor_id)
    stranger_export = await client.post(
        f"/v1/guardianships/{guardianship}/exports", json={"password": STRONG_PASSWORD}, headers=stranger
    )
    assert stranger_export.status_code == 404

    # An archive asked for while the guardianship was in force, not yet downloaded when it ends.
    pending = await client.post(
        f"/v1/guardianships/{guardianship}/exports", json={"password": STRONG_PASSWORD}, headers=guardian
    )
    await build(runtime, uuid.UUID(pending.json()["export_id"]))

    assert (await client.post(f"/v1/guardianships/{guardianship}/revoke", headers=guardian)).status_code == 204
    assert await db.fetchval("SELECT state FROM accounts WHERE id = $1", minor_id) == "suspended"
    # The former guardian's right to the minor's data ended with the revocation.
    late = await client.get(f"/v1/me/exports/{pending.json()['export_id']}/archive", headers=guardian)
    assert (late.status_code, late.json()["code"]) == (404, "export_not_ready")
    assert (await client.get("/v1/sessions/whoami", headers=minor)).status_code == 401

    # The window passes (the clock is driven in the database, not slept through).
    await db.execute("UPDATE accounts SET updated_at = now() - interval '8 days' WHERE id = $1", minor_id)
    assert await erase_without_consent(runtime) == 1
    assert await db.fetchval("SELECT state FROM accounts WHERE id = $1", minor_id) == "erased"


async def test_without_a_guardian_in_the_window_the_minors_data_is_deleted(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    child = {
        "birth_date": born(runtime, 13),
        "email": "lonely.kid@example.com",
        "username": "lonely_kid",
        "phone": None,
    }
    minor_id = uuid.UUID((await register(client, **child))["account_id"])
    assert await erase_without_consent(runtime) == 0  # still within the window
    await db.execute("UPDATE accounts SET created_at = now() - interval '8 days' WHERE id = $1", minor_id)
    assert await erase_without_consent(runtime) == 1

    assert await db.fetchval("SELECT state FROM accounts WHERE id = $1", minor_id) == "erased"
    assert await db.fetchval("SELECT count(*) FROM contacts WHERE account_id = $1", minor_id) == 0
    assert await db.fetchval("SELECT destroyed_at IS NOT NULL FROM data_keys WHERE owner_id = $1", minor_id)
    row = await db.fetchrow("SELECT username, display_name, birth_date FROM accounts WHERE id = $1", minor_id)
    assert row is not None and (row["username"], row["display_name"], row["birth_date"]) == (None, b"", b"")
    # The e-mail address and the username are free again.
    again = await client.post("/v1/registrations", json=registration(**child))
    assert again.status_code == 201, again.text


async def test_guardianship_ends_on_the_18th_birthday(client: httpx.AsyncClient, runtime: Runtime) -> None:
    guardian = await verified_guardian(client, runtime)
    _, minor, guardianship = await guarded_minor(client, runtime, guardian, years=17)
    today = runtime.settings.today()
    assert await end_at_majority(runtime, today) == 0
    assert await end_at_majority(runtime, today + timedelta(days=366)) == 1
    states = {
        g["guardianship_id"]: g["state"] for g in (await client.get("/v1/me/guardianships", headers=minor)).json()
    }
    assert states[guardianship] == "ended"
    await runtime.courier.deliver_queued()
    told = [m for m in outbox(runtime) if m.get("subject") == "Guardianship ended at 18"]
    # The guardian's e-mail is verified and is told; the minor never verified theirs.
    assert len(told) == 1 and "The minor you were the guardian of is now an adult." in told[0]["body"]


async def test_a_child_whose_guardian_is_erased_is_suspended_not_left_alone(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    guardian = await verified_guardian(client, runtime)
    minor_id, minor, _ = await guarded_minor(client, runtime, guardian)
    username = (await client.get("/v1/me", headers=minor)).json()["username"]
    cancelled = await client.post("/v1/me/cancellation", json={"password": STRONG_PASSWORD}, headers=guardian)
    assert cancelled.status_code == 202, cancelled.text
    await db.execute("UPDATE cancellations SET erase_after = now() - interval '1 second'")
    assert await erase_due(runtime) == 1
    assert await db.fetchval("SELECT state FROM accounts WHERE id = $1", minor_id) == "suspended"
    reason = await db.fetchval(
        "SELECT reason_code FROM account_state_changes WHERE account_id = $1 ORDER BY id DESC LIMIT 1", minor_id
    )
    assert reason == "guardian_account_erased"
    # Told the truth: no case to appeal, only that a guardian's consent is needed to keep the account.
    signed_in = await client.post("/v1/sessions", json={"identifier": username, "password": STRONG_PASSWORD})
    assert signed_in.status_code == 201, signed_in.text
    suspension = (await client.get("/v1/me", headers=bearer(signed_in.json()["session"]["token"]))).json()["suspension"]
    assert suspension["how_to_appeal"] is None and suspension["case_id"] is None
    assert "no decision to appeal" in suspension["next_step"]
    assert "account was closed" in suspension["message"]


async def test_a_guardian_revoking_has_every_effect_of_a_withdrawal(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    guardian = await verified_guardian(client, runtime)
    minor_id, minor = await minor_awaiting_guardian(client, runtime, 15)
    code = await invitation_code(client, runtime, minor, f"g{uuid.uuid4().hex[:6]}@example.com")
    body = {"invitation_code": code, "relationship": "legal_guardian", "scopes": ["account", "biometric"]}
    consented = await client.post("/v1/guardianships", json=body, headers=guardian)
    assert consented.status_code == 201, consented.text
    async with runtime.database.transaction() as conn:
        recipient_id = uuid.uuid4()
        await conn.execute(
            """INSERT INTO recipients (id, name, kind, webhook_url, secret)
               VALUES ($1, 'School', 'relying_party', 'https://school.example.com/idv', '\\x00')""",
            recipient_id,
        )
        await conn.execute(
            "INSERT INTO disclosures (recipient_id, account_id, categories) VALUES ($1, $2, '{contact}')",
            recipient_id,
            minor_id,
        )

    revoke = await client.post(f"/v1/guardianships/{consented.json()['guardianship_id']}/revoke", headers=guardian)
    assert revoke.status_code == 204
    # As if the minor had withdrawn: biometric data erased by a job, recipients told.
    erasures = await db.fetchval("SELECT count(*) FROM pgqueuer WHERE entrypoint = 'consents.erase_biometric_data'")
    assert erasures == 1
    told = await db.fetch("SELECT payload FROM recipient_notices WHERE account_id = $1 ORDER BY created_at", minor_id)
    purposes = sorted(msgspec.json.decode(row["payload"])["details"]["purpose"] for row in told)
    assert purposes == ["biometric", "guardian_consent"]
