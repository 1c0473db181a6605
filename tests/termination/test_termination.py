"""Terminating an account for false information: proposed by a senior reviewer, confirmed by a
second operator, sessions ended, and the verified identity barred from other accounts."""

from __future__ import annotations

import uuid

import asyncpg
import httpx

from service.cases.catalogue import CASE_TYPES, CaseType, SubjectRight, subject_may
from service.runtime import Runtime
from tests.arrange.operators import claim_and_decide
from tests.arrange.people import ZHANG_SAN, ready_for_real_name
from tests.helpers import STRONG_PASSWORD, enrolled_operator


async def test_two_operators_terminate_and_the_identity_is_barred(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    email, me = await ready_for_real_name(client, runtime)
    assert (await client.post("/v1/me/verifications/real-name", json=ZHANG_SAN, headers=me)).status_code == 201
    account_id = (await client.get("/v1/me", headers=me)).json()["account_id"]

    reviewer = await enrolled_operator(runtime, client, "reviewer")
    body = {"reason": "false_information", "note": "The employer confirmed the certificate was forged."}
    url = f"/v1/operator/accounts/{account_id}/termination"
    assert (await client.post(url, json=body, headers=reviewer.headers)).status_code == 403
    senior = await enrolled_operator(runtime, client, "senior_reviewer")
    proposed = await client.post(url, json=body, headers=senior.headers)
    assert proposed.status_code == 201, proposed.text
    case_id = proposed.json()["case_id"]

    staged = await claim_and_decide(client, senior, case_id, "approve", "termination_warranted")
    assert staged["staged"] is True  # never on one operator's word
    assert (await client.get("/v1/sessions/whoami", headers=me)).status_code == 200
    second = await enrolled_operator(runtime, client, "senior_reviewer")
    confirmed = await client.post(f"/v1/operator/cases/{case_id}/staged-decision/confirm", headers=second.headers)
    assert confirmed.status_code == 200, confirmed.text

    assert (await client.get("/v1/sessions/whoami", headers=me)).status_code == 401
    assert await db.fetchval("SELECT state FROM accounts WHERE id = $1", uuid.UUID(account_id)) == "terminated"
    again = await client.post("/v1/sessions", json={"identifier": email, "password": STRONG_PASSWORD})
    assert again.status_code == 401
    twice = await client.post(url, json=body, headers=senior.headers)
    assert (twice.status_code, twice.json()["code"]) == (409, "illegal_transition")
    # The terminated account's notice went out with the reason, and the change records it.
    notice = await db.fetchval(
        "SELECT notice FROM account_state_changes WHERE account_id = $1 ORDER BY id DESC LIMIT 1",
        uuid.UUID(account_id),
    )
    assert notice == "account_terminated"
    bar = await db.fetchrow("SELECT id_number_index, barred_until - now() AS left FROM identity_bars")
    assert bar is not None and bar["id_number_index"] != ZHANG_SAN["id_number"].encode()
    assert 1094 <= bar["left"].days <= 1095

    # The same identity cannot be verified on a new account while the bar lasts.
    _, other = await ready_for_real_name(client, runtime)
    barred = await client.post("/v1/me/verifications/real-name", json=ZHANG_SAN, headers=other)
    assert barred.status_code == 403 and barred.json()["code"] == "identity_barred"


async def test_the_subject_can_neither_see_nor_withdraw_a_termination_proposed_against_them(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    _, me = await ready_for_real_name(client, runtime)
    account_id = (await client.get("/v1/me", headers=me)).json()["account_id"]
    senior = await enrolled_operator(runtime, client, "senior_reviewer")
    body = {"reason": "false_information", "note": "The employer confirmed the certificate was forged."}
    proposed = await client.post(f"/v1/operator/accounts/{account_id}/termination", json=body, headers=senior.headers)
    case_id = proposed.json()["case_id"]

    # Before a decision the case is not the subject's to see, and its id answers as an unknown one.
    assert case_id not in [c["case_id"] for c in (await client.get("/v1/me/cases", headers=me)).json()]
    for _ in range(2):
        withdrawn = await client.post(f"/v1/me/cases/{case_id}/withdraw", headers=me)
        assert (withdrawn.status_code, withdrawn.json()["code"]) == (404, "case_not_found")
    queue = await client.get("/v1/operator/cases", params={"state": "in_review"}, headers=senior.headers)
    assert case_id in [c["case_id"] for c in queue.json()]

    # Decided (not warranted, by two operators), the subject reads the outcome, and still cannot act on it.
    await claim_and_decide(client, senior, case_id, "reject", "termination_not_warranted")
    second = await enrolled_operator(runtime, client, "senior_reviewer")
    confirm = await client.post(f"/v1/operator/cases/{case_id}/staged-decision/confirm", headers=second.headers)
    assert confirm.status_code == 200, confirm.text
    own = {c["case_id"]: c for c in (await client.get("/v1/me/cases", headers=me)).json()}
    assert own[case_id]["message"] == "Your account stays open." and own[case_id]["can_appeal"] is False
    appeal = await client.post(f"/v1/me/cases/{case_id}/appeal", json={"statement": "I disagree."}, headers=me)
    assert (appeal.status_code, appeal.json()["code"]) == (409, "appeal_not_possible")


def test_every_case_type_says_what_its_subject_may_do() -> None:
    # A table, not an if: a case against the person is never theirs to withdraw.
    assert CASE_TYPES[CaseType.ACCOUNT_TERMINATION].subject_rights == frozenset()
    assert not subject_may(CaseType.GUARDIAN_CONSENT, SubjectRight.WITHDRAW)
    assert not subject_may(CaseType.APPEAL, SubjectRight.APPEAL)
    assert subject_may(CaseType.REAL_NAME, SubjectRight.WITHDRAW)
