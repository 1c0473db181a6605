"""The console's account pages: a look-up posted with a reason (the identifier never in an address),
the account with its history, cases, restrictions and masked contacts, and the measures a senior
reviewer takes from it through the API's own domain functions, each form with its CSRF token."""

from __future__ import annotations

import uuid

import asyncpg
import httpx

from service.cases.catalogue import CaseType
from service.runtime import Runtime
from tests.arrange.cases import case_in_review
from tests.arrange.console import ConsoleOperator, console_sign_in, csrf_of, enrolled_for_console
from tests.arrange.people import PERSON, ZHANG_SAN, real_name_verified
from tests.helpers import register

COOKIE = "__Host-idv_console"
CLEAR = (PERSON["email"], "13812345678", ZHANG_SAN["id_number"])


async def signed_in(client: httpx.AsyncClient, runtime: Runtime, *roles: str) -> ConsoleOperator:
    operator = await enrolled_for_console(runtime, client, *roles)
    response = await console_sign_in(client, operator)
    assert response.status_code == 303, response.text
    return operator


async def account_state(db: asyncpg.Connection, account_id: uuid.UUID) -> str:
    state: str = await db.fetchval("SELECT state FROM accounts WHERE id = $1", account_id)
    return state


async def look_up(client: httpx.AsyncClient, kind: str, value: str, reason: str = "user_request") -> httpx.Response:
    token = csrf_of((await client.get("/console/accounts")).text)
    return await client.post(
        "/console/accounts/lookup", data={"csrf_token": token, "kind": kind, "value": value, "reason": reason}
    )


async def test_the_look_up_form_posts_the_identifier_and_shows_the_account(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    account_id, _ = await real_name_verified(client, runtime)
    await signed_in(client, runtime, "senior_reviewer")
    home = await client.get("/console/")
    assert 'href="/console/accounts"' in home.text
    form = await client.get("/console/accounts")
    assert form.status_code == 200
    assert form.headers["cache-control"] == "no-store"
    text = " ".join(form.text.split())
    assert '<form method="post" action="/console/accounts/lookup"' in text
    assert 'name="value" autocomplete="off"' in text
    for kind, value in (
        ("email", "BRUCE@example.com"),
        ("phone", "13812345678"),
        ("id_number", ZHANG_SAN["id_number"]),
    ):
        page = await look_up(client, kind, value)
        assert page.status_code == 200, page.text
        assert page.url.path == "/console/accounts/lookup" and not page.url.query
        assert page.headers["cache-control"] == "no-store"
        assert str(account_id) in page.text
        assert "br***@example.com" in page.text and "+86138****5678" in page.text
        for clear in CLEAR:
            assert clear not in page.text
        assert 'href="/console/cases/' in page.text  # its real-name case
        assert "Never restricted." in page.text
    details = await db.fetch("SELECT details FROM audit_log WHERE action = 'account.looked_up' ORDER BY at")
    assert [row["details"] for row in details] == [
        '{"kind":"email","reason":"user_request"}',
        '{"kind":"phone","reason":"user_request"}',
        '{"kind":"id_number","reason":"user_request"}',
    ]


async def test_not_found_and_malformed_look_ups_answer_with_the_form(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    await real_name_verified(client, runtime)
    await signed_in(client, runtime, "privacy_officer")
    missing = await look_up(client, "email", "nobody@example.com")
    assert missing.status_code == 404
    assert "account_not_found" in missing.text and 'action="/console/accounts/lookup"' in missing.text
    assert "nobody@example.com" not in missing.text  # the form comes back empty
    for kind, value, reason in (
        ("email", "no address", "user_request"),
        ("phone", "12", "user_request"),
        ("id_number", "11010519491231002", "user_request"),
        ("username", "bruce_lee", "user_request"),
        ("email", PERSON["email"], "curiosity"),
        ("email", "", "user_request"),
        ("email", "x" * 500, "user_request"),
    ):
        response = await look_up(client, kind, value, reason)
        assert response.status_code == 422, (kind, value, reason)
        assert 'action="/console/accounts/lookup"' in response.text
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'account.looked_up'") == 0


async def test_a_look_up_without_the_sessions_token_is_refused(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    await real_name_verified(client, runtime)
    await signed_in(client, runtime, "senior_reviewer")
    form = {"kind": "email", "value": PERSON["email"], "reason": "user_request"}
    for token in ({}, {"csrf_token": "forged"}):
        response = await client.post("/console/accounts/lookup", data={**form, **token})
        assert response.status_code == 403
        assert "csrf_token_invalid" in response.text
        assert "@example.com" not in response.text
    assert (await client.post("/console/accounts/lookup", json=form)).status_code == 415
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE action LIKE 'account.look%'") == 0


async def test_roles_without_accounts_and_persons_get_no_account_page(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account_id, _ = await real_name_verified(client, runtime)
    for role in ("reviewer", "admin"):
        client.cookies.clear()
        await signed_in(client, runtime, role)
        assert 'href="/console/accounts"' not in (await client.get("/console/")).text
        token = csrf_of((await client.get("/console/")).text)
        for response in (
            await client.get("/console/accounts"),
            await client.get(f"/console/accounts/{account_id}"),
            await client.post(
                "/console/accounts/lookup",
                data={"csrf_token": token, "kind": "email", "value": PERSON["email"], "reason": "user_request"},
            ),
        ):
            assert response.status_code == 403, role
            assert "role_not_allowed" in response.text
            assert str(account_id) not in response.text or response.url.path.endswith(str(account_id))
            assert "br***" not in response.text
    # A person's session opens nothing here.
    client.cookies.clear()
    suffix = uuid.uuid4().hex[:8]
    person = await register(client, email=f"{suffix}@example.com", username=f"u_{suffix}", phone=None)
    client.cookies.clear()
    client.cookies.set(COOKIE, person["session"]["token"], domain="idv.test")
    for path in ("/console/accounts", f"/console/accounts/{account_id}"):
        response = await client.get(path)
        assert response.status_code == 303 and response.headers["location"] == "/console/sign-in"


async def test_a_senior_reviewer_restricts_lifts_and_proposes_termination_from_the_page(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    account_id, _ = await real_name_verified(client, runtime)
    senior = await signed_in(client, runtime, "senior_reviewer")
    page = await client.get(f"/console/accounts/{account_id}")
    assert page.status_code == 200
    assert "/console/audit?" not in page.text  # senior reviewers do not read the trail
    assert f'action="/console/accounts/{account_id}/restriction"' in page.text
    assert f'action="/console/accounts/{account_id}/restriction/lift"' not in page.text
    token = csrf_of(page.text)
    base = f"/console/accounts/{account_id}"

    # Without the session's token nothing happens.
    for form in ({"reason_code": "identity_in_doubt"}, {"reason_code": "identity_in_doubt", "csrf_token": "x"}):
        assert (await client.post(f"{base}/restriction", data=form)).status_code == 403
    assert await account_state(db, account_id) == "active"
    refused = await client.post(f"{base}/restriction", data={"csrf_token": token, "reason_code": "because"})
    assert refused.status_code == 422 and f'href="{base}"' in refused.text
    assert await account_state(db, account_id) == "active"

    restricted = await client.post(
        f"{base}/restriction", data={"csrf_token": token, "reason_code": "identity_in_doubt"}
    )
    assert restricted.status_code == 303 and restricted.headers["location"] == base
    assert await account_state(db, account_id) == "restricted"
    page = await client.get(base)
    text = " ".join(page.text.split())
    assert "identity_in_doubt" in text and f"operator:{senior.operator_id}" in text and "in force" in text
    assert f'action="{base}/restriction/lift"' in text and f'action="{base}/restriction"' not in text
    again = await client.post(f"{base}/restriction", data={"csrf_token": token, "reason_code": "identity_in_doubt"})
    assert again.status_code == 409 and "illegal_transition" in again.text

    assert (await client.post(f"{base}/restriction/lift", data={"reason_code": "doubt_cleared"})).status_code == 403
    assert await account_state(db, account_id) == "restricted"
    lifted = await client.post(f"{base}/restriction/lift", data={"csrf_token": token, "reason_code": "doubt_cleared"})
    assert lifted.status_code == 303
    assert await account_state(db, account_id) == "active"
    assert "doubt_cleared" in (await client.get(base)).text

    proposal = {"reason": "abuse", "note": "Sent the same scam\r\nto forty people."}
    assert (await client.post(f"{base}/termination", data=proposal)).status_code == 403
    short = await client.post(f"{base}/termination", data={**proposal, "csrf_token": token, "note": "bad"})
    assert short.status_code == 422 and "note" in short.text
    proposed = await client.post(f"{base}/termination", data={**proposal, "csrf_token": token})
    assert proposed.status_code == 303, proposed.text
    case_id = await db.fetchval(
        "SELECT id FROM review_cases WHERE subject_account_id = $1 AND case_type = 'account_termination'", account_id
    )
    assert case_id is not None
    assert await account_state(db, account_id) == "active"  # until a second operator confirms
    page = await client.get(base)
    assert f'href="/console/cases/{case_id}"' in page.text and "account_termination" in page.text
    actions = await db.fetch(
        "SELECT action FROM audit_log WHERE target_type = 'account' AND target_id = $1 AND actor_id = $2 ORDER BY at",
        str(account_id),
        str(senior.operator_id),
    )
    measures = {"account.restricted", "account.restriction_lifted", "account.termination_proposed"}
    assert [row["action"] for row in actions if row["action"] in measures] == [
        "account.restricted",
        "account.restriction_lifted",
        "account.termination_proposed",
    ]


async def test_a_privacy_officer_sees_the_account_and_its_trail_but_takes_no_measure(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    account_id, _ = await real_name_verified(client, runtime)
    rights = await case_in_review(client, runtime, case_type=CaseType.DATA_SUBJECT_REQUEST, account_id=account_id)
    await signed_in(client, runtime, "privacy_officer")
    page = await client.get(f"/console/accounts/{account_id}")
    assert page.status_code == 200
    assert f'href="/console/audit?target_type=account&amp;target_id={account_id}"' in page.text
    assert f'href="/console/cases/{rights}"' in page.text
    assert "real_name" not in page.text.split("<h2>Cases</h2>")[1].split("<h2>")[0]  # not a type of theirs
    assert "/restriction" not in page.text and "/termination" not in page.text
    token = csrf_of(page.text)
    refused = await client.post(
        f"/console/accounts/{account_id}/restriction", data={"csrf_token": token, "reason_code": "identity_in_doubt"}
    )
    assert refused.status_code == 403 and "role_not_allowed" in refused.text
    assert await account_state(db, account_id) == "active"
    trail = await client.get("/console/audit", params={"target_type": "account", "target_id": str(account_id)})
    assert trail.status_code == 200 and "account.viewed" in trail.text
    assert (await client.get(f"/console/accounts/{uuid.uuid4()}")).status_code == 404
