"""The holes a review found, closed: appeals keep the roles of the case appealed, four eyes
cannot be skipped through an appeal or a withdrawal, staged reasons stay hidden, and refusals
and reveals are limited and audited."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from service.app import create_asgi
from service.cases.catalogue import CaseType
from service.runtime import Runtime
from service.settings import SettingsError, load_settings
from tests.arrange.cases import case_in_review
from tests.arrange.operators import decide
from tests.conftest import environment_for_tests
from tests.helpers import STRONG_PASSWORD, bearer, enrolled_operator, register


async def test_an_appeal_is_worked_by_the_roles_of_the_case_appealed(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await register(client)
    token = bearer(user["session"]["token"])
    case_id = await case_in_review(
        client, runtime, account_id=uuid.UUID(user["account_id"]), case_type=CaseType.DATA_SUBJECT_REQUEST
    )
    first = await enrolled_operator(runtime, client, "privacy_officer")
    refusal = await decide(client, first, case_id, "reject", "request_unfounded", note="Asked for twice this week.")
    assert refusal.status_code == 200
    appeal = await client.post(f"/v1/me/cases/{case_id}/appeal", json={"statement": "I have a right."}, headers=token)
    appeal_id = appeal.json()["case_id"]

    reviewer = await enrolled_operator(runtime, client, "reviewer", "senior_reviewer")
    assert (await client.get("/v1/operator/cases", headers=reviewer.headers)).json() == []
    refused = await decide(client, reviewer, uuid.UUID(appeal_id), "overturn", "original_decision_wrong")
    assert refused.status_code == 403 and refused.json()["code"] == "case_type_not_allowed"
    other_officer = await enrolled_operator(runtime, client, "privacy_officer")
    listed = (await client.get("/v1/operator/cases", headers=other_officer.headers)).json()
    assert [c["case_id"] for c in listed] == [appeal_id]


async def test_staged_reasons_stay_hidden_and_withdrawal_cannot_dodge_them(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await register(client)
    token = bearer(user["session"]["token"])
    case_id = await case_in_review(client, runtime, account_id=uuid.UUID(user["account_id"]), child=True)
    reviewer = await enrolled_operator(runtime, client, "reviewer")
    staged = await decide(client, reviewer, case_id, "reject", "suspected_false_information")
    assert staged.json()["staged"] is True

    own = (await client.get("/v1/me/cases", headers=token)).json()[0]
    assert own["state"] == "pending_second_approval"
    assert own["message"] == "A person is reviewing it."
    withdrawn = await client.post(f"/v1/me/cases/{case_id}/withdraw", headers=token)
    assert withdrawn.status_code == 409

    senior = await enrolled_operator(runtime, client, "senior_reviewer")
    await client.post(f"/v1/operator/cases/{case_id}/staged-decision/confirm", headers=senior.headers)
    # The confirmed rejection suspended the account and ended the session; signing in again
    # reaches one's cases, and the reason now shows.
    signed_in = await client.post("/v1/sessions", json={"identifier": "bruce_lee", "password": STRONG_PASSWORD})
    token = bearer(signed_in.json()["session"]["token"])
    own = (await client.get("/v1/me/cases", headers=token)).json()[0]
    assert own["message"] == "The information you gave could not be accepted as true."


@pytest.fixture
async def strict_client(tmp_path: Path, database_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    settings = load_settings(environment_for_tests(tmp_path / "state", IDV_FOUR_EYES_DECISIONS="reject,child_data"))
    async with Runtime.open(settings, database_url, apply_migrations=False) as runtime:
        transport = httpx.ASGITransport(app=create_asgi(settings, runtime=runtime), client=("203.0.113.10", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="https://idv.test") as http:
            yield http, runtime


async def test_upholding_a_rejection_takes_the_four_eyes_a_rejection_takes(
    strict_client: tuple[httpx.AsyncClient, Runtime],
) -> None:
    client, runtime = strict_client
    user = await register(client)
    case_id = await case_in_review(client, runtime, account_id=uuid.UUID(user["account_id"]))
    maker = await enrolled_operator(runtime, client, "reviewer")
    checker = await enrolled_operator(runtime, client, "senior_reviewer")
    await decide(client, maker, case_id, "reject", "name_mismatch")
    await client.post(f"/v1/operator/cases/{case_id}/staged-decision/confirm", headers=checker.headers)
    appeal = await client.post(
        f"/v1/me/cases/{case_id}/appeal", json={"statement": "Look again."}, headers=bearer(user["session"]["token"])
    )
    third = await enrolled_operator(runtime, client, "reviewer")
    upheld = await decide(client, third, uuid.UUID(appeal.json()["case_id"]), "uphold", "original_decision_correct")
    assert upheld.json()["staged"] is True


def test_settings_refuse_four_eyes_on_approval_that_an_appeal_could_skip(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="overturn"):
        load_settings(environment_for_tests(tmp_path, IDV_FOUR_EYES_DECISIONS="approve"))


async def test_refusals_inside_a_case_are_audited_and_closed_cases_reveal_nothing(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    user = await register(client)
    case_id = await case_in_review(client, runtime, account_id=uuid.UUID(user["account_id"]))
    first = await enrolled_operator(runtime, client, "reviewer")
    await decide(client, first, case_id, "reject", "name_mismatch")
    reveal = await client.post(
        f"/v1/operator/cases/{case_id}/evidence/id_number/reveal",
        json={"reason": "identity_check"},
        headers=first.headers,
    )
    assert reveal.status_code == 409 and reveal.json()["code"] == "case_closed"

    appeal = await client.post(
        f"/v1/me/cases/{case_id}/appeal", json={"statement": "Wrong."}, headers=bearer(user["session"]["token"])
    )
    appeal_id = appeal.json()["case_id"]
    refused = await decide(client, first, uuid.UUID(appeal_id), "overturn", "original_decision_wrong")
    assert refused.json()["code"] == "excluded_from_case"
    row = await db.fetchrow(
        "SELECT actor_id, target_id, details FROM audit_log WHERE action = 'operator.access_denied'"
    )
    assert row is not None
    assert (row["actor_id"], row["target_id"]) == (str(first.operator_id), appeal_id)
    assert "excluded_from_case" in row["details"]


async def test_the_service_role_cannot_shadow_tables_with_temporary_ones(db: asyncpg.Connection) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await db.execute("CREATE TEMP TABLE audit_log (LIKE public.audit_log)")
