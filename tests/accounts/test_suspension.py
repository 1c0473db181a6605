"""Suspension for false information: by repeated registry mismatches or by two operators; sessions
ended, the person told, a restricted sign-in to appeal, and reinstatement when the appeal wins."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import msgspec

from service.accounts.notices import send_state_notice
from service.accounts.transitions import StateNotice
from service.runtime import Runtime
from tests.arrange.cases import case_in_review
from tests.arrange.operators import claim_and_decide
from tests.arrange.people import ZHANG_SAN, ready_for_real_name
from tests.helpers import STRONG_PASSWORD, bearer, enrolled_operator, outbox

WRONG_NAME = {**ZHANG_SAN, "legal_name": "李四"}


async def _sign_in(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    response = await client.post("/v1/sessions", json={"identifier": email, "password": STRONG_PASSWORD})
    assert response.status_code == 201, response.text
    return bearer(response.json()["session"]["token"])


async def _deliver_notices(runtime: Runtime, db: asyncpg.Connection) -> None:
    for payload in await db.fetch("SELECT payload FROM pgqueuer WHERE entrypoint = 'accounts.state_notice'"):
        await send_state_notice(runtime, msgspec.json.decode(payload["payload"], type=StateNotice))
    await runtime.courier.deliver_queued()


async def test_repeated_mismatches_suspend_and_a_won_appeal_reinstates(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    email, me = await ready_for_real_name(client, runtime)
    other_device = await _sign_in(client, email)
    for attempt in range(3):
        response = await client.post("/v1/me/verifications/real-name", json=WRONG_NAME, headers=me)
        assert response.status_code == 201 and response.json()["status"] == "rejected", (attempt, response.text)
    last_case = response.json()["case_id"]

    # Every session ended at once.
    for session in (me, other_device):
        assert (await client.get("/v1/sessions/whoami", headers=session)).status_code == 401
    change = await db.fetchrow(
        "SELECT to_state, reason_code, case_id, actor FROM account_state_changes ORDER BY id DESC LIMIT 1"
    )
    assert change is not None
    assert (change["to_state"], change["reason_code"], str(change["case_id"])) == (
        "suspended",
        "repeated_identity_mismatch",
        last_case,
    )
    assert change["actor"] == "system:realname.registry"

    # The person is told why and how to appeal, at their verified address.
    await _deliver_notices(runtime, db)
    notice = next(m for m in outbox(runtime) if m["to"] == email and "suspended" in m["subject"])
    assert "did not match official records" in notice["body"] and "appeal" in notice["body"]

    # Signing in still works, but reaches only the reason, appeals and data rights.
    restricted = await _sign_in(client, email)
    whoami = await client.get("/v1/sessions/whoami", headers=restricted)
    assert whoami.status_code == 200 and whoami.json()["state"] == "suspended"
    profile = (await client.get("/v1/me", headers=restricted)).json()
    assert profile["suspension"]["reason_code"] == "repeated_identity_mismatch"
    assert profile["suspension"]["case_id"] == last_case
    refused = await client.post("/v1/me/verifications/real-name", json=ZHANG_SAN, headers=restricted)
    assert refused.status_code == 403 and refused.json()["code"] == "account_restricted"
    cases = {c["case_id"]: c for c in (await client.get("/v1/me/cases", headers=restricted)).json()}
    assert cases[last_case]["can_appeal"] is True

    appeal = await client.post(
        f"/v1/me/cases/{last_case}/appeal",
        json={"statement": "My name was recorded wrongly by the police station; see the attached certificate."},
        headers=restricted,
    )
    assert appeal.status_code == 201, appeal.text
    appeal_id = appeal.json()["case_id"]
    reviewer = await enrolled_operator(runtime, client, "reviewer")
    senior = await enrolled_operator(runtime, client, "senior_reviewer")
    staged = await claim_and_decide(client, reviewer, appeal_id, "overturn", "new_evidence_accepted")
    assert staged["staged"] is True
    confirmed = await client.post(f"/v1/operator/cases/{appeal_id}/staged-decision/confirm", headers=senior.headers)
    assert confirmed.status_code == 200, confirmed.text

    whoami = (await client.get("/v1/sessions/whoami", headers=restricted)).json()
    assert whoami["state"] == "active"
    assert whoami["assurance"]["real_name_verified"] is True
    assert (await client.get("/v1/me", headers=restricted)).json()["suspension"] is None


async def test_false_information_suspends_only_with_a_second_operator(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    email, me = await ready_for_real_name(client, runtime)
    account_id = uuid.UUID((await client.get("/v1/me", headers=me)).json()["account_id"])
    case_id = str(await case_in_review(client, runtime, account_id=account_id))
    reviewer = await enrolled_operator(runtime, client, "reviewer")
    senior = await enrolled_operator(runtime, client, "senior_reviewer")

    staged = await claim_and_decide(client, reviewer, case_id, "reject", "suspected_false_information")
    assert staged["staged"] is True and staged["state"] == "pending_second_approval"
    assert (await client.get("/v1/sessions/whoami", headers=me)).json()["state"] == "active"

    confirmed = await client.post(f"/v1/operator/cases/{case_id}/staged-decision/confirm", headers=senior.headers)
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "rejected"
    assert (await client.get("/v1/sessions/whoami", headers=me)).status_code == 401
    state = await db.fetchval("SELECT state FROM accounts WHERE id = $1", account_id)
    assert state == "suspended"
    restricted = await _sign_in(client, email)
    assert (await client.get("/v1/me", headers=restricted)).json()["suspension"]["reason_code"] == "false_information"
    # A suspended account's own data rights still work.
    assert (await client.get("/v1/me/consents", headers=restricted)).status_code == 200
    assert (await client.get("/v1/me/corrections", headers=restricted)).status_code == 200


async def test_an_operator_approving_a_referred_real_name_case_verifies_it(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    _, first = await ready_for_real_name(client, runtime)
    assert (await client.post("/v1/me/verifications/real-name", json=ZHANG_SAN, headers=first)).status_code == 201
    _, second = await ready_for_real_name(client, runtime)
    pending = await client.post("/v1/me/verifications/real-name", json=ZHANG_SAN, headers=second)
    assert pending.status_code == 202
    reviewer = await enrolled_operator(runtime, client, "reviewer")
    # Say the operator established that both accounts are one person's (an old and a new phone).
    await claim_and_decide(client, reviewer, pending.json()["case_id"], "approve", "evidence_consistent")
    assert (await client.get("/v1/me/verifications/real-name", headers=second)).json()["status"] == "verified"

    _, third = await ready_for_real_name(client, runtime)
    pending = await client.post("/v1/me/verifications/real-name", json=ZHANG_SAN, headers=third)
    await claim_and_decide(client, reviewer, pending.json()["case_id"], "reject", "duplicate_identity")
    assert (await client.get("/v1/me/verifications/real-name", headers=third)).json()["status"] == "rejected"
