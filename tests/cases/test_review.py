"""Reviewing cases over the operator API, and the subject's side of it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from service.app import create_asgi
from service.audit import Actor
from service.cases.cases import lock_case, replace_evidence
from service.cases.schemas import Evidence
from service.cases.sweep import sweep_overdue
from service.runtime import Runtime
from service.settings import load_settings
from tests.arrange.cases import ID_NUMBER, case_in_review
from tests.arrange.operators import decide
from tests.conftest import environment_for_tests
from tests.helpers import bearer, enrolled_operator, register


async def test_a_reviewer_works_a_case_from_queue_to_decision(client: httpx.AsyncClient, runtime: Runtime) -> None:
    case_id = await case_in_review(client, runtime)
    reviewer = await enrolled_operator(runtime, client, "reviewer")

    queue = await client.get("/v1/operator/cases", params={"state": "in_review"}, headers=reviewer.headers)
    assert [c["case_id"] for c in queue.json()] == [str(case_id)]
    claimed = await client.post(f"/v1/operator/cases/{case_id}/claim", headers=reviewer.headers)
    assert claimed.json()["assignee_id"] == str(reviewer.operator_id)
    mine = await client.get("/v1/operator/cases", params={"mine": "true"}, headers=reviewer.headers)
    assert len(mine.json()) == 1

    detail = (await client.get(f"/v1/operator/cases/{case_id}", headers=reviewer.headers)).json()
    assert {e["name"]: e["masked"] for e in detail["evidence"]} == {
        "id_number": "1101**********002X",
        "legal_name": "张*",
    }
    assert ID_NUMBER not in str(detail)
    assert detail["automated_results"][0]["score"] == 0.62
    assert [h["event"] for h in detail["history"]] == ["open", "start_checks", "refer"]

    decided = await decide(client, reviewer, case_id, "reject", "name_mismatch", note="Name differs from the card.")
    assert decided.status_code == 200, decided.text
    assert decided.json() == {"case_id": str(case_id), "state": "rejected", "staged": False, "staged_decision_id": None}
    detail = (await client.get(f"/v1/operator/cases/{case_id}", headers=reviewer.headers)).json()
    assert detail["history"][-1]["note"] == "Name differs from the card."
    assert detail["summary"]["assignee_id"] is None


async def test_decisions_need_a_reason_that_fits(client: httpx.AsyncClient, runtime: Runtime) -> None:
    case_id = await case_in_review(client, runtime)
    reviewer = await enrolled_operator(runtime, client, "reviewer")
    wrong_reason = await decide(client, reviewer, case_id, "approve", "name_mismatch")
    assert wrong_reason.status_code == 422 and wrong_reason.json()["errors"][0]["field"] == "reason_code"
    unknown = await decide(client, reviewer, case_id, "approve", "because")
    assert unknown.status_code == 422
    wrong_kind = await decide(client, reviewer, case_id, "overturn", "original_decision_wrong")
    assert wrong_kind.status_code == 422 and wrong_kind.json()["errors"][0]["field"] == "decision"


async def test_revealing_a_masked_value_needs_a_reason_and_is_audited(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    case_id = await case_in_review(client, runtime)
    reviewer = await enrolled_operator(runtime, client, "reviewer")
    url = f"/v1/operator/cases/{case_id}/evidence/id_number/reveal"
    assert (await client.post(url, json={}, headers=reviewer.headers)).status_code == 422
    revealed = await client.post(url, json={"reason": "identity_check"}, headers=reviewer.headers)
    assert revealed.json() == {"name": "id_number", "value": ID_NUMBER}
    row = await db.fetchrow(
        "SELECT actor_id, target_id, details FROM audit_log WHERE action = 'case.evidence_revealed'"
    )
    assert row is not None
    assert (row["actor_id"], row["target_id"]) == (str(reviewer.operator_id), str(case_id))
    assert '"reason":"identity_check"' in row["details"] and ID_NUMBER not in row["details"]
    sealed = await db.fetchval("SELECT value FROM review_case_evidence WHERE name = 'id_number'")
    assert ID_NUMBER.encode() not in sealed


async def test_two_operators_deciding_at_once_make_one_decision(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    case_id = await case_in_review(client, runtime)
    first = await enrolled_operator(runtime, client, "reviewer")
    second = await enrolled_operator(runtime, client, "senior_reviewer")
    responses = await asyncio.gather(
        decide(client, first, case_id, "approve", "evidence_consistent"),
        decide(client, second, case_id, "reject", "name_mismatch"),
    )
    assert sorted(r.status_code for r in responses) == [200, 409]
    assert [r.json()["code"] for r in responses if r.status_code == 409] == ["illegal_transition"]
    decisions = await db.fetchval(
        "SELECT count(*) FROM review_case_events WHERE case_id = $1 AND event IN ('approve', 'reject')", case_id
    )
    assert decisions == 1


async def test_a_case_claimed_by_one_operator_is_not_decided_by_another(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    case_id = await case_in_review(client, runtime)
    holder = await enrolled_operator(runtime, client, "reviewer")
    other = await enrolled_operator(runtime, client, "reviewer")
    await client.post(f"/v1/operator/cases/{case_id}/claim", headers=holder.headers)
    assert (await client.post(f"/v1/operator/cases/{case_id}/claim", headers=other.headers)).status_code == 409
    assert (await decide(client, other, case_id, "approve", "evidence_consistent")).status_code == 409
    released = await client.post(f"/v1/operator/cases/{case_id}/release", headers=holder.headers)
    assert released.json()["assignee_id"] is None
    assert (await decide(client, other, case_id, "approve", "evidence_consistent")).status_code == 200


async def test_roles_limit_which_case_types_an_operator_sees(client: httpx.AsyncClient, runtime: Runtime) -> None:
    case_id = await case_in_review(client, runtime)
    privacy = await enrolled_operator(runtime, client, "privacy_officer")
    assert (await client.get("/v1/operator/cases", headers=privacy.headers)).json() == []
    response = await client.get(f"/v1/operator/cases/{case_id}", headers=privacy.headers)
    assert response.status_code == 403 and response.json()["code"] == "case_type_not_allowed"


async def test_resubmissions_are_capped(client: httpx.AsyncClient, runtime: Runtime) -> None:
    case_id = await case_in_review(client, runtime)
    reviewer = await enrolled_operator(runtime, client, "reviewer")
    async with runtime.database.transaction() as conn:
        await conn.execute(
            "UPDATE review_cases SET resubmissions = $2 WHERE id = $1", case_id, runtime.settings.case_max_resubmissions
        )
    response = await decide(client, reviewer, case_id, "request_resubmission", "document_unreadable")
    assert response.status_code == 409 and response.json()["code"] == "resubmission_cap_reached"


async def test_users_see_their_own_cases_with_safe_reasons_and_can_withdraw(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await register(client)
    account_id = uuid.UUID(user["account_id"])
    case_id = await case_in_review(client, runtime, account_id=account_id)
    stranger = await register(client, email="x@example.com", username="stranger", phone=None)

    own = (await client.get("/v1/me/cases", headers=bearer(user["session"]["token"]))).json()
    assert [(c["case_id"], c["state"], c["can_appeal"]) for c in own] == [(str(case_id), "in_review", False)]
    assert (await client.get("/v1/me/cases", headers=bearer(stranger["session"]["token"]))).json() == []
    # Someone else's case looks exactly like one that does not exist.
    foreign = await client.post(f"/v1/me/cases/{case_id}/withdraw", headers=bearer(stranger["session"]["token"]))
    assert foreign.status_code == 404
    withdrawn = await client.post(f"/v1/me/cases/{case_id}/withdraw", headers=bearer(user["session"]["token"]))
    assert withdrawn.json()["state"] == "withdrawn"
    assert withdrawn.json()["message"] == "You withdrew this request."


@pytest.fixture
async def four_eyes_client(tmp_path: Path, database_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    settings = load_settings(
        environment_for_tests(tmp_path / "state", IDV_FOUR_EYES_DECISIONS="overturn,reject,child_data")
    )
    async with Runtime.open(settings, database_url, apply_migrations=False) as runtime:
        transport = httpx.ASGITransport(app=create_asgi(settings, runtime=runtime), client=("203.0.113.10", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="https://idv.test") as http:
            yield http, runtime


async def test_four_eyes_a_staged_decision_needs_a_different_senior(
    four_eyes_client: tuple[httpx.AsyncClient, Runtime], db: asyncpg.Connection
) -> None:
    client, runtime = four_eyes_client
    case_id = await case_in_review(client, runtime)
    maker = await enrolled_operator(runtime, client, "senior_reviewer")
    checker = await enrolled_operator(runtime, client, "senior_reviewer")
    reviewer = await enrolled_operator(runtime, client, "reviewer")

    staged = await decide(client, maker, case_id, "reject", "suspected_false_information")
    assert staged.json()["staged"] is True and staged.json()["state"] == "pending_second_approval"
    confirm_url = f"/v1/operator/cases/{case_id}/staged-decision/confirm"
    own = await client.post(confirm_url, headers=maker.headers)
    assert own.status_code == 403 and own.json()["code"] == "four_eyes_same_operator"
    junior = await client.post(confirm_url, headers=reviewer.headers)
    assert junior.status_code == 403 and junior.json()["code"] == "role_not_allowed"
    # Nothing else can be decided while the decision waits.
    assert (await decide(client, reviewer, case_id, "approve", "evidence_consistent")).status_code == 409

    confirmed = await client.post(confirm_url, headers=checker.headers)
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "rejected"
    assert (await client.post(confirm_url, headers=checker.headers)).json()["code"] == "nothing_staged"
    status = await db.fetchval("SELECT status FROM staged_decisions WHERE case_id = $1", case_id)
    assert status == "confirmed"


async def test_four_eyes_changed_evidence_cancels_a_staged_decision(
    four_eyes_client: tuple[httpx.AsyncClient, Runtime],
) -> None:
    client, runtime = four_eyes_client
    case_id = await case_in_review(client, runtime)
    maker = await enrolled_operator(runtime, client, "reviewer")
    checker = await enrolled_operator(runtime, client, "senior_reviewer")
    assert (await decide(client, maker, case_id, "reject", "name_mismatch")).json()["staged"] is True

    async with runtime.database.transaction() as conn:
        case = await lock_case(conn, case_id)
        await replace_evidence(
            conn, runtime.vault, case, [Evidence("legal_name", "张三丰", "张**")], Actor.system("tests")
        )
    response = await client.post(f"/v1/operator/cases/{case_id}/staged-decision/confirm", headers=checker.headers)
    assert response.status_code == 409 and response.json()["code"] == "nothing_staged"
    detail = (await client.get(f"/v1/operator/cases/{case_id}", headers=checker.headers)).json()
    assert detail["summary"]["state"] == "in_review"
    assert detail["history"][-1]["event"] == "evidence_changed"


async def test_four_eyes_evidence_racing_the_confirmation_sends_the_case_back(
    four_eyes_client: tuple[httpx.AsyncClient, Runtime], db: asyncpg.Connection
) -> None:
    client, runtime = four_eyes_client
    case_id = await case_in_review(client, runtime)
    maker = await enrolled_operator(runtime, client, "reviewer")
    checker = await enrolled_operator(runtime, client, "senior_reviewer")
    await decide(client, maker, case_id, "reject", "name_mismatch")
    # The evidence version moved without going through replace_evidence (a writer that raced it).
    async with runtime.database.transaction() as conn:
        await conn.execute("UPDATE review_cases SET evidence_version = evidence_version + 1 WHERE id = $1", case_id)
    response = await client.post(f"/v1/operator/cases/{case_id}/staged-decision/confirm", headers=checker.headers)
    assert response.status_code == 409 and response.json()["code"] == "evidence_changed"
    assert await db.fetchval("SELECT state FROM review_cases WHERE id = $1", case_id) == "in_review"
    assert await db.fetchval("SELECT status FROM staged_decisions WHERE case_id = $1", case_id) == "cancelled"


async def test_any_decision_on_a_childs_case_takes_four_eyes(client: httpx.AsyncClient, runtime: Runtime) -> None:
    case_id = await case_in_review(client, runtime, child=True)
    reviewer = await enrolled_operator(runtime, client, "reviewer")
    response = await decide(client, reviewer, case_id, "approve", "evidence_consistent")
    assert response.json()["staged"] is True
    senior = await enrolled_operator(runtime, client, "senior_reviewer")
    sent_back = await client.post(
        f"/v1/operator/cases/{case_id}/staged-decision/send-back",
        json={"note": "Check the guardian first."},
        headers=senior.headers,
    )
    assert sent_back.json()["state"] == "in_review"


async def test_an_appeal_is_judged_by_someone_else_and_overturning_takes_four_eyes(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await register(client)
    token = bearer(user["session"]["token"])
    case_id = await case_in_review(client, runtime, account_id=uuid.UUID(user["account_id"]))
    first = await enrolled_operator(runtime, client, "reviewer")
    await decide(client, first, case_id, "reject", "document_unreadable")

    own = (await client.get("/v1/me/cases", headers=token)).json()
    assert own[0]["can_appeal"] is True
    assert own[0]["message"] == "We could not read your document. Please send a clearer picture."
    appealed = await client.post(
        f"/v1/me/cases/{case_id}/appeal", json={"statement": "The photo was clear."}, headers=token
    )
    assert appealed.status_code == 201
    appeal_id = appealed.json()["case_id"]
    assert appealed.json()["state"] == "appeal_open"
    again = await client.post(f"/v1/me/cases/{case_id}/appeal", json={"statement": "Again."}, headers=token)
    assert again.status_code == 409

    refused = await decide(client, first, uuid.UUID(appeal_id), "overturn", "original_decision_wrong")
    assert refused.status_code == 403 and refused.json()["code"] == "excluded_from_case"
    second = await enrolled_operator(runtime, client, "reviewer")
    staged = await decide(client, second, uuid.UUID(appeal_id), "overturn", "original_decision_wrong")
    assert staged.json()["staged"] is True
    senior = await enrolled_operator(runtime, client, "senior_reviewer")
    confirmed = await client.post(f"/v1/operator/cases/{appeal_id}/staged-decision/confirm", headers=senior.headers)
    assert confirmed.json()["state"] == "overturned"

    states = {c["case_id"]: c["state"] for c in (await client.get("/v1/me/cases", headers=token)).json()}
    assert states == {str(case_id): "approved", appeal_id: "overturned"}


async def test_an_upheld_appeal_leaves_the_rejection(client: httpx.AsyncClient, runtime: Runtime) -> None:
    user = await register(client)
    token = bearer(user["session"]["token"])
    case_id = await case_in_review(client, runtime, account_id=uuid.UUID(user["account_id"]))
    await decide(client, await enrolled_operator(runtime, client, "reviewer"), case_id, "reject", "name_mismatch")
    appeal_id = (
        await client.post(f"/v1/me/cases/{case_id}/appeal", json={"statement": "Please look again."}, headers=token)
    ).json()["case_id"]
    senior = await enrolled_operator(runtime, client, "senior_reviewer")
    upheld = await decide(client, senior, uuid.UUID(appeal_id), "uphold", "original_decision_correct")
    assert upheld.json() == {"case_id": appeal_id, "state": "upheld", "staged": False, "staged_decision_id": None}
    states = {c["case_id"]: c["state"] for c in (await client.get("/v1/me/cases", headers=token)).json()}
    assert states == {str(case_id): "rejected", appeal_id: "upheld"}


async def test_the_sweep_expires_unanswered_resubmissions_and_escalates_overdue_reviews(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    waiting_for_user = await case_in_review(client, runtime)
    waiting_for_operator = await case_in_review(client, runtime)
    on_time = await case_in_review(client, runtime)
    reviewer = await enrolled_operator(runtime, client, "reviewer")
    asked = await decide(client, reviewer, waiting_for_user, "request_resubmission", "document_unreadable")
    assert asked.json()["state"] == "resubmission_requested"
    due = await db.fetchval("SELECT due_at - now() FROM review_cases WHERE id = $1", waiting_for_user)
    assert due > timedelta(days=13)

    async with runtime.database.transaction() as conn:
        await conn.execute(
            "UPDATE review_cases SET due_at = now() - interval '1 minute' WHERE id = ANY($1::uuid[])",
            [waiting_for_user, waiting_for_operator],
        )
    result = await sweep_overdue(runtime)
    assert (result.expired, result.escalated) == (1, 1)
    states = dict(await db.fetch("SELECT id, state FROM review_cases"))
    assert states[waiting_for_user] == "expired" and states[waiting_for_operator] == "in_review"
    priorities = dict(await db.fetch("SELECT id, priority FROM review_cases"))
    assert (priorities[waiting_for_operator], priorities[on_time]) == (1, 2)
    assert (await sweep_overdue(runtime)).escalated == 0
    escalations = await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'case.escalated'")
    assert escalations == 1


async def test_a_decision_needs_a_claim_by_the_deciding_operator(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    case_id = await case_in_review(client, runtime)
    reviewer = await enrolled_operator(runtime, client, "reviewer")
    url = f"/v1/operator/cases/{case_id}/decision"
    body = {"decision": "approve", "reason_code": "evidence_consistent"}

    unclaimed = await client.post(url, json=body, headers=reviewer.headers)
    assert (unclaimed.status_code, unclaimed.json()["code"]) == (409, "case_not_claimed")
    assert await db.fetchval("SELECT state FROM review_cases WHERE id = $1", case_id) == "in_review"

    other = await enrolled_operator(runtime, client, "reviewer")
    assert (await client.post(f"/v1/operator/cases/{case_id}/claim", headers=other.headers)).status_code == 200
    taken = await client.post(url, json={**body, "claim": True}, headers=reviewer.headers)
    assert (taken.status_code, taken.json()["code"]) == (409, "case_claimed_by_other")
    assert (await client.post(f"/v1/operator/cases/{case_id}/release", headers=other.headers)).status_code == 200

    decided = await client.post(url, json={**body, "claim": True}, headers=reviewer.headers)
    assert decided.status_code == 200, decided.text
    trail = await db.fetch(
        "SELECT action, actor_id FROM audit_log WHERE target_type = 'case' AND target_id = $1 ORDER BY id",
        str(case_id),
    )
    mine = [row["action"] for row in trail if row["actor_id"] == str(reviewer.operator_id)]
    assert mine.index("case.claimed") < mine.index("case.decided")
