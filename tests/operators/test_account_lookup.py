"""Operators look an account up by exact e-mail, phone or ID number (through the blind index, with a
reason, audited without the identifier), and see it by id: state history, cases of their types,
restrictions, masked contacts."""

from __future__ import annotations

import logging
import uuid

import asyncpg
import httpx
import pytest

from service.cases.catalogue import CaseType
from service.runtime import Runtime
from tests.arrange.cases import case_in_review
from tests.arrange.operators import decide
from tests.arrange.people import PERSON, ZHANG_SAN, ready_for_real_name, real_name_verified
from tests.helpers import enrolled_operator

LOOKUP = "/v1/operator/accounts/lookup"
# What PERSON is found by, each written as an operator might type it.
IDENTIFIERS = (
    ("email", "  Bruce@Example.COM "),
    ("phone", "138 1234 5678"),  # a national number, read in IDV_DEFAULT_PHONE_REGION as registration reads it
    ("phone", "+86 138-1234-5678"),
    ("id_number", "11010519491231002x"),
)
SECRETS = ("bruce@example.com", "13812345678", "11010519491231002X", "11010519491231002x", "1234 5678")


async def audit_details(db: asyncpg.Connection, action: str) -> list[asyncpg.Record]:
    return await db.fetch(
        "SELECT actor_id, target_type, target_id, details FROM audit_log WHERE action = $1 ORDER BY at", action
    )


@pytest.mark.parametrize(("kind", "value"), IDENTIFIERS)
async def test_an_account_is_found_by_its_exact_identifier(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection, kind: str, value: str
) -> None:
    account_id, _ = await real_name_verified(client, runtime)
    senior = await enrolled_operator(runtime, client, "senior_reviewer")
    response = await client.post(
        LOOKUP, json={"kind": kind, "value": value, "reason": "user_request"}, headers=senior.headers
    )
    assert response.status_code == 200, response.text
    [account] = response.json()["accounts"]
    assert account["account_id"] == str(account_id)
    assert account["state"] == "active"
    assert {c["kind"]: c["verified"] for c in account["contacts"]} == {"email": True, "phone": False}
    assert [c["masked"] for c in account["contacts"]] == ["br***@example.com", "+86138****5678"]
    assert account["state_history"][-1]["event"] == "registered"  # newest first
    assert account["state_history"][0]["to_state"] == "active"
    assert [c["case_type"] for c in account["cases"]] == ["real_name"]
    assert account["restrictions"] == []
    for secret in SECRETS:
        assert secret not in response.text
    [entry] = await audit_details(db, "account.looked_up")
    assert (entry["actor_id"], entry["target_type"], entry["target_id"]) == (
        str(senior.operator_id),
        "account",
        str(account_id),
    )
    assert entry["details"] == f'{{"kind":"{kind}","reason":"user_request"}}'


async def test_the_identifier_is_neither_in_the_audit_trail_nor_in_the_logs(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    await real_name_verified(client, runtime)
    senior = await enrolled_operator(runtime, client, "senior_reviewer")
    caplog.set_level(logging.DEBUG)
    for kind, value in (*IDENTIFIERS, ("email", "nobody@example.com"), ("id_number", "110105194912310038")):
        response = await client.post(
            LOOKUP, json={"kind": kind, "value": value, "reason": "fraud_investigation"}, headers=senior.headers
        )
        assert response.status_code in {200, 404}
        assert value not in str(response.url)
    rows = await db.fetch(
        "SELECT action, target_id, details FROM audit_log WHERE actor_id = $1", str(senior.operator_id)
    )
    actions = sorted(row["action"] for row in rows if row["action"].startswith("account."))
    assert actions == ["account.looked_up"] * 4 + ["account.lookup_missed"] * 2
    trail = " ".join(f"{row['target_id']} {row['details']}" for row in rows)
    # Each record whole, with the fields the access log adds (path, status, ...), not only its message.
    logged = " ".join(str(vars(record)) for record in caplog.records)
    assert "/v1/operator/accounts/lookup" in logged
    for secret in (*SECRETS, "nobody@example.com", "110105194912310038", "nobody"):
        assert secret not in trail
        assert secret not in logged


async def test_an_unknown_identifier_is_a_plain_404_and_audited(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    await real_name_verified(client, runtime)
    officer = await enrolled_operator(runtime, client, "privacy_officer")
    for kind, value in (
        ("email", "bruce@example.org"),
        ("phone", "+8613912345678"),
        # A valid number nobody is verified with.
        ("id_number", "110105194912310038"),
    ):
        response = await client.post(
            LOOKUP, json={"kind": kind, "value": value, "reason": "user_request"}, headers=officer.headers
        )
        assert response.status_code == 404, (kind, response.text)
        assert response.json()["code"] == "account_not_found"
    missed = await audit_details(db, "account.lookup_missed")
    assert [(row["target_type"], row["target_id"]) for row in missed] == [("operator", str(officer.operator_id))] * 3
    assert await audit_details(db, "account.looked_up") == []


async def test_an_address_of_one_kind_does_not_find_the_other(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await real_name_verified(client, runtime)
    senior = await enrolled_operator(runtime, client, "senior_reviewer")
    # The e-mail's index under the phone's purpose matches nothing, nor a prefix of the address.
    for kind, value in (("email", "bruce@example"), ("email", "ruce@example.com"), ("phone", "+86138123456")):
        response = await client.post(
            LOOKUP, json={"kind": kind, "value": value, "reason": "user_request"}, headers=senior.headers
        )
        assert response.status_code in {404, 422}, (kind, value, response.text)


async def test_malformed_look_ups_are_refused_as_4xx(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await real_name_verified(client, runtime)
    senior = await enrolled_operator(runtime, client, "senior_reviewer")
    bodies = [
        {},
        {"kind": "email", "value": "bruce@example.com"},  # no reason
        {"kind": "email", "value": "bruce@example.com", "reason": "curiosity"},
        {"kind": "username", "value": "bruce_lee", "reason": "user_request"},
        {"kind": "email", "value": "", "reason": "user_request"},
        {"kind": "email", "value": "x" * 400 + "@example.com", "reason": "user_request"},
        {"kind": "email", "value": "bruce@example.com\x00", "reason": "user_request"},
        {"kind": "email", "value": "not an address", "reason": "user_request"},
        {"kind": "phone", "value": "call me", "reason": "user_request"},
        {"kind": "phone", "value": "+1 555", "reason": "user_request"},
        {"kind": "id_number", "value": "11010519491231002", "reason": "user_request"},
        {"kind": "id_number", "value": "110105194912310021", "reason": "user_request"},  # wrong check character
        {"kind": "id_number", "value": "' OR 1=1 --", "reason": "user_request"},
        {"kind": "email", "value": ["bruce@example.com"], "reason": "user_request"},
        {"kind": "email", "value": "bruce@example.com", "reason": "user_request", "like": True},
    ]
    for body in bodies:
        response = await client.post(LOOKUP, json=body, headers=senior.headers)
        assert 400 <= response.status_code < 500, (body, response.text)
        assert response.status_code != 404, body
    assert (await client.post(LOOKUP, content=b"kind=email", headers=senior.headers)).status_code in {400, 415}
    # The identifier never goes in an address: there is no GET look-up.
    assert (
        await client.get(LOOKUP, params={"kind": "email", "value": "bruce@example.com"}, headers=senior.headers)
    ).status_code in {404, 405}


async def test_only_the_roles_that_see_accounts_look_them_up(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    account_id, person = await real_name_verified(client, runtime)
    body = {"kind": "email", "value": PERSON["email"], "reason": "user_request"}
    for role in ("reviewer", "admin"):
        login = await enrolled_operator(runtime, client, role)
        for response in (
            await client.post(LOOKUP, json=body, headers=login.headers),
            await client.get(f"/v1/operator/accounts/{account_id}", headers=login.headers),
        ):
            assert response.status_code == 403, role
            assert response.json()["code"] == "role_not_allowed"
            assert "example.com" not in response.text
    # A person's session is no operator's.
    for response in (
        await client.post(LOOKUP, json=body, headers=person),
        await client.get(f"/v1/operator/accounts/{account_id}", headers=person),
    ):
        assert response.status_code == 401
    assert await audit_details(db, "account.looked_up") == []
    assert await audit_details(db, "account.viewed") == []
    denied = await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'operator.access_denied'")
    assert denied == 4


async def test_the_view_by_id_is_audited_and_shows_only_cases_of_ones_types(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    account_id, _ = await real_name_verified(client, runtime)
    rights = await case_in_review(client, runtime, case_type=CaseType.DATA_SUBJECT_REQUEST, account_id=account_id)
    senior = await enrolled_operator(runtime, client, "senior_reviewer")
    officer = await enrolled_operator(runtime, client, "privacy_officer")
    seen = await client.get(f"/v1/operator/accounts/{account_id}", headers=senior.headers)
    assert seen.status_code == 200, seen.text
    assert [c["case_type"] for c in seen.json()["cases"]] == ["real_name"]
    assert str(rights) not in seen.text
    seen = await client.get(f"/v1/operator/accounts/{account_id}", headers=officer.headers)
    assert [(c["case_id"], c["case_type"], c["state"]) for c in seen.json()["cases"]] == [
        (str(rights), "data_subject_request", "in_review")
    ]
    assert seen.json()["cases"][0]["closed"] is False and seen.json()["cases"][0]["due_at"]
    viewed = await audit_details(db, "account.viewed")
    assert [row["actor_id"] for row in viewed] == [str(senior.operator_id), str(officer.operator_id)]
    unknown = await client.get(f"/v1/operator/accounts/{uuid.uuid4()}", headers=senior.headers)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "account_not_found")
    assert (await client.get("/v1/operator/accounts/not-a-uuid", headers=senior.headers)).status_code in {400, 404}


async def test_restrictions_show_with_their_reasons_and_who_placed_and_lifted_them(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account_id, _ = await real_name_verified(client, runtime)
    senior = await enrolled_operator(runtime, client, "senior_reviewer")
    url = f"/v1/operator/accounts/{account_id}/restriction"
    assert (
        await client.post(url, json={"reason_code": "identity_in_doubt"}, headers=senior.headers)
    ).status_code == 200
    assert (
        await client.post(f"{url}/lift", json={"reason_code": "doubt_cleared"}, headers=senior.headers)
    ).status_code == 200
    assert (
        await client.post(url, json={"reason_code": "suspected_takeover"}, headers=senior.headers)
    ).status_code == 200
    response = await client.post(
        LOOKUP,
        json={"kind": "id_number", "value": ZHANG_SAN["id_number"], "reason": "account_review"},
        headers=senior.headers,
    )
    account = response.json()["accounts"][0]
    assert account["state"] == "restricted"
    newest, oldest = account["restrictions"]
    by = f"operator:{senior.operator_id}"
    assert (newest["reason_code"], newest["restricted_by"], newest["lifted_at"]) == ("suspected_takeover", by, None)
    assert (oldest["reason_code"], oldest["lift_reason_code"], oldest["lifted_by"]) == (
        "identity_in_doubt",
        "doubt_cleared",
        by,
    )
    assert oldest["description"] and oldest["lifted_at"] >= oldest["restricted_at"]
    assert [h["event"] for h in account["state_history"][:3]] == ["restricted", "restriction_lifted", "restricted"]


async def test_an_id_number_finds_every_account_verified_with_it_and_no_other(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    first, _ = await real_name_verified(client, runtime)
    # The same number on a second account waits for an operator as a possible duplicate identity.
    _, me = await ready_for_real_name(client, runtime)
    pending = await client.post("/v1/me/verifications/real-name", json=ZHANG_SAN, headers=me)
    assert pending.json()["status"] == "pending", pending.text
    second = await db.fetchval("SELECT account_id FROM real_name_verifications WHERE status = 'pending'")
    senior = await enrolled_operator(runtime, client, "senior_reviewer")
    body = {"kind": "id_number", "value": ZHANG_SAN["id_number"], "reason": "fraud_investigation"}
    response = await client.post(LOOKUP, json=body, headers=senior.headers)
    assert [a["account_id"] for a in response.json()["accounts"]] == [str(first)]
    case_id = await db.fetchval("SELECT case_id FROM real_name_verifications WHERE account_id = $1", second)
    reviewer = await enrolled_operator(runtime, client, "reviewer")
    decided = await decide(client, reviewer, case_id, "approve", "evidence_consistent")
    assert decided.status_code == 200, decided.text
    assert await db.fetchval("SELECT status FROM real_name_verifications WHERE account_id = $1", second) == "verified"
    response = await client.post(LOOKUP, json=body, headers=senior.headers)
    assert response.status_code == 200, response.text
    assert sorted(a["account_id"] for a in response.json()["accounts"]) == sorted([str(first), str(second)])
    assert len(await audit_details(db, "account.looked_up")) == 3
