"""A senior reviewer restricts an account while a doubt is checked: sessions live on but reach only
verification, appeals and data rights; the person is told why; cancelling and coming back, or being
suspended and reinstated, returns the account to restricted, never past it."""

from __future__ import annotations

import re
import uuid

import asyncpg
import httpx
import msgspec

from service.accounts.notices import send_state_notice
from service.accounts.suspension import reinstate_if_caused_by, suspend
from service.accounts.transitions import StateNotice
from service.audit import Actor
from service.runtime import Runtime
from tests.arrange.people import PERSON, real_name_verified
from tests.helpers import STRONG_PASSWORD, enrolled_operator, latest_code, outbox


async def _deliver_state_notices(runtime: Runtime, db: asyncpg.Connection) -> None:
    for row in await db.fetch("SELECT payload FROM pgqueuer WHERE entrypoint = 'accounts.state_notice' ORDER BY id"):
        await send_state_notice(runtime, msgspec.json.decode(row["payload"], type=StateNotice))
    await db.execute("DELETE FROM pgqueuer WHERE entrypoint = 'accounts.state_notice'")
    await runtime.courier.deliver_queued()


async def test_a_restricted_account_reaches_only_verification_appeals_and_data_rights(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    account_id, me = await real_name_verified(client, runtime)
    assert (await client.get("/v1/sessions/whoami", headers=me)).headers["x-idv-real-name-verified"] == "true"
    senior = await enrolled_operator(runtime, client, "senior_reviewer")
    url = f"/v1/operator/accounts/{account_id}/restriction"
    restricted = await client.post(url, json={"reason_code": "identity_in_doubt"}, headers=senior.headers)
    assert restricted.status_code == 200, restricted.text
    assert restricted.json()["state"] == "restricted"
    again = await client.post(url, json={"reason_code": "identity_in_doubt"}, headers=senior.headers)
    assert (again.status_code, again.json()["code"]) == (409, "illegal_transition")
    unknown = await client.post(url, json={"reason_code": "because"}, headers=senior.headers)
    assert unknown.status_code == 422

    # The session lives on; whoami and the profile say why, and what the account proved earlier is
    # not vouched for while in doubt.
    whoami = await client.get("/v1/sessions/whoami", headers=me)
    assert whoami.json()["state"] == "restricted" and whoami.json()["assurance"]["real_name_verified"] is False
    assert whoami.headers["x-idv-real-name-verified"] == "false"
    profile = (await client.get("/v1/me", headers=me)).json()
    assert profile["restriction"]["reason_code"] == "identity_in_doubt"
    assert "verify your real name again" in profile["restriction"]["message"]
    # Verification, cases and data rights work; everything else is paused.
    assert (await client.get("/v1/me/verifications/real-name", headers=me)).status_code == 200
    phone_code = await latest_code(runtime, "sms", PERSON["phone"])
    verified = await client.post("/v1/contacts/phone/verify", json={"code": phone_code}, headers=me)
    assert (verified.status_code, verified.json()["account_state"]) == (200, "restricted")
    assert (await client.get("/v1/me/cases", headers=me)).status_code == 200
    assert (await client.get("/v1/me/exports", headers=me)).status_code == 200
    paused = await client.post("/v1/me/totp", json={"password": STRONG_PASSWORD}, headers=me)
    assert (paused.status_code, paused.json()["code"]) == (403, "account_restricted")

    # The change records the operator, the reason and the notice; the person gets it.
    change = await db.fetchrow(
        "SELECT actor, reason_code, notice FROM account_state_changes WHERE account_id = $1 ORDER BY id DESC LIMIT 1",
        account_id,
    )
    assert change is not None
    assert (change["actor"], change["reason_code"], change["notice"]) == (
        f"operator:{senior.operator_id}",
        "identity_in_doubt",
        "account_restricted",
    )
    await _deliver_state_notices(runtime, db)
    notice = next(m for m in outbox(runtime) if m["to"] == PERSON["email"] and "restricted" in m["subject"])
    assert "verify your real name again" in notice["body"]

    lifted = await client.post(f"{url}/lift", json={"reason_code": "verified_again"}, headers=senior.headers)
    assert (lifted.status_code, lifted.json()["state"]) == (200, "active")
    not_restricted = await client.post(f"{url}/lift", json={"reason_code": "doubt_cleared"}, headers=senior.headers)
    assert (not_restricted.status_code, not_restricted.json()["code"]) == (409, "not_restricted")
    assert (await client.post("/v1/me/totp", json={"password": STRONG_PASSWORD}, headers=me)).status_code == 201
    missing = await client.post(
        f"/v1/operator/accounts/{uuid.uuid4()}/restriction",
        json={"reason_code": "suspected_takeover"},
        headers=senior.headers,
    )
    assert missing.status_code == 404


async def test_leaving_cancellation_or_suspension_returns_to_restricted(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    account_id, me = await real_name_verified(client, runtime)
    senior = await enrolled_operator(runtime, client, "senior_reviewer")
    url = f"/v1/operator/accounts/{account_id}/restriction"
    await client.post(url, json={"reason_code": "identity_in_doubt"}, headers=senior.headers)

    # Deleting one's data is a right a restriction does not take away, and keeping the account
    # after all does not lift the restriction.
    cancelled = await client.post("/v1/me/cancellation", json={"password": STRONG_PASSWORD}, headers=me)
    assert cancelled.status_code == 202, cancelled.text
    # Asking to cancel is no way out of the doubt: the proofing flags stay unvouched while the
    # cancellation cools off (they came back before the doubt was kept as a fact of its own).
    cooling = await client.get("/v1/sessions/whoami", headers=me)
    assert cooling.json()["state"] == "cancellation_pending"
    assert cooling.json()["assurance"]["real_name_verified"] is False
    assert cooling.headers["x-idv-real-name-verified"] == "false"
    kept = await client.delete("/v1/me/cancellation", headers=me)
    assert (kept.status_code, kept.json()["state"]) == (200, "restricted")

    system = Actor.system("tests")
    async with runtime.database.transaction() as conn:
        assert await suspend(conn, account_id, "false_information", system, None)
    async with runtime.database.transaction() as conn:
        assert await reinstate_if_caused_by(conn, account_id, None, system)  # type: ignore[arg-type]
    assert await db.fetchval("SELECT state FROM accounts WHERE id = $1", account_id) == "restricted"
    # Still for the reason first given, since the restriction was placed (the suspension signed
    # everyone out).
    signed_in = await client.post("/v1/sessions", json={"identifier": PERSON["email"], "password": STRONG_PASSWORD})
    me = {"authorization": f"Bearer {signed_in.json()['session']['token']}"}
    restriction = (await client.get("/v1/me", headers=me)).json()["restriction"]
    assert restriction["reason_code"] == "identity_in_doubt"
    assert (await client.get("/v1/sessions/whoami", headers=me)).headers["x-idv-real-name-verified"] == "false"
    # Lifted, what the account proved is vouched for again.
    lifted = await client.post(f"{url}/lift", json={"reason_code": "doubt_cleared"}, headers=senior.headers)
    assert lifted.status_code == 200, lifted.text
    assert (await client.get("/v1/sessions/whoami", headers=me)).headers["x-idv-real-name-verified"] == "true"

    history = await db.fetch(
        "SELECT event, notice FROM account_state_changes WHERE account_id = $1 AND event <> 'registered' ORDER BY id",
        account_id,
    )
    assert [(row["event"], row["notice"]) for row in history][-6:] == [
        ("restricted", "account_restricted"),
        ("cancellation_requested", "cancellation_requested"),
        ("cancellation_withdrawn_restricted", "cancellation_withdrawn"),
        ("suspended", "account_suspended"),
        ("reinstated_restricted", "account_reinstated_restricted"),
        ("restriction_lifted", "account_restriction_lifted"),
    ]
    await _deliver_state_notices(runtime, db)
    subjects = [m.get("subject") for m in outbox(runtime) if m["to"] == PERSON["email"]]
    assert "Your account will be deleted" in subjects and "Your account is kept" in subjects
    reinstated = next(m for m in outbox(runtime) if m.get("subject") == "Your account is no longer suspended")
    assert "stays restricted" in reinstated["body"]
    deletion = next(m for m in outbox(runtime) if m.get("subject") == "Your account will be deleted")
    assert re.search(r"will be deleted on \w+ \d{1,2}, 20\d\d", deletion["body"])  # the reader's date format


async def test_a_suspected_takeover_signs_everyone_out(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    account_id, me = await real_name_verified(client, runtime)
    senior = await enrolled_operator(runtime, client, "senior_reviewer")
    url = f"/v1/operator/accounts/{account_id}/restriction"
    restricted = await client.post(url, json={"reason_code": "suspected_takeover"}, headers=senior.headers)
    assert restricted.status_code == 200
    assert (await client.get("/v1/sessions/whoami", headers=me)).status_code == 401
    signed_in = await client.post("/v1/sessions", json={"identifier": PERSON["email"], "password": STRONG_PASSWORD})
    assert signed_in.status_code == 201
    again = {"authorization": f"Bearer {signed_in.json()['session']['token']}"}
    assert (await client.get("/v1/me", headers=again)).json()["restriction"]["reason_code"] == "suspected_takeover"
