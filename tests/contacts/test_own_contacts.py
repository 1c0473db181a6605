"""A signed-in person's own contacts (issue 19): listed masked, added only once proven with a code,
removed after re-authentication but never the last verified one, notices to the chosen contact,
and every change told to the old and other verified addresses."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import asyncpg
import httpx
import msgspec
import pyotp

from service.accounts.notices import notify
from service.lifecycle.cancellation import erase_due
from service.lifecycle.retention import purge, report
from service.rights.exports import build_archive
from service.runtime import Runtime
from tests.arrange.contacts import verify_email
from tests.arrange.lifecycle import cancel_now_due
from tests.helpers import STRONG_PASSWORD, bearer, latest_code, outbox, register, registration


async def _active(client: httpx.AsyncClient, runtime: Runtime, phone: str | None = None) -> tuple[str, dict[str, str]]:
    """An active person with a verified e-mail (and an unverified phone when given); their e-mail."""
    suffix = uuid.uuid4().hex[:8]
    email = f"{suffix}@example.com"
    body = await register(client, email=email, username=f"u_{suffix}", phone=phone)
    me = bearer(body["session"]["token"])
    await verify_email(client, runtime, me, email)
    return email, me


async def _sign_in(client: httpx.AsyncClient, identifier: str) -> int:
    response = await client.post("/v1/sessions", json={"identifier": identifier, "password": STRONG_PASSWORD})
    return response.status_code


async def _add(client: httpx.AsyncClient, me: dict[str, str], kind: str, address: str) -> dict[str, Any]:
    response = await client.post("/v1/me/contacts", json={"kind": kind, "address": address}, headers=me)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _add_verified(
    client: httpx.AsyncClient, runtime: Runtime, me: dict[str, str], kind: str, address: str
) -> dict[str, Any]:
    added = await _add(client, me, kind, address)
    code = await latest_code(runtime, "email" if kind == "email" else "sms", address)
    verified = await client.post(f"/v1/me/contacts/{added['id']}/verify", json={"code": code}, headers=me)
    assert verified.status_code == 200, verified.text
    body: dict[str, Any] = verified.json()
    return body


async def _contacts(client: httpx.AsyncClient, me: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get("/v1/me/contacts", headers=me)
    assert response.status_code == 200, response.text
    contacts: list[dict[str, Any]] = response.json()["contacts"]
    return contacts


async def _remove(client: httpx.AsyncClient, me: dict[str, str], contact_id: str, **body: Any) -> httpx.Response:
    return await client.request(
        "DELETE", f"/v1/me/contacts/{contact_id}", json={"password": STRONG_PASSWORD, **body}, headers=me
    )


def _notices(runtime: Runtime, recipient: str) -> list[str]:
    return [m.get("subject") or m["body"] for m in outbox(runtime) if m["to"] == recipient]


async def test_contacts_are_listed_masked_with_the_notice_recipient(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    email, me = await _active(client, runtime, phone="+8613812345679")
    contacts = await _contacts(client, me)
    assert [(c["kind"], c["verified"], c["receives_notices"]) for c in contacts] == [
        ("email", True, True),
        ("phone", False, False),
    ]
    assert contacts[0]["masked_address"] == email[:2] + "******@example.com"
    assert contacts[1]["masked_address"] == "+86138****5679"
    client.cookies.clear()
    assert (await client.get("/v1/me/contacts")).status_code == 401


async def test_a_new_email_is_usable_only_once_verified_and_replaces_the_old(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    old, me = await _active(client, runtime)
    new = f"new-{uuid.uuid4().hex[:8]}@example.com"
    added = await _add(client, me, "email", new)
    assert added["verified"] is False and added["receives_notices"] is False
    code = await latest_code(runtime, "email", new)
    # Waiting, the address signs nothing in and receives no notice.
    assert await _sign_in(client, new) == 401
    assert [c["verified"] for c in await _contacts(client, me)] == [True, False]

    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    refused = await client.post(f"/v1/me/contacts/{added['id']}/verify", json={"code": wrong}, headers=me)
    assert refused.status_code == 422 and refused.json()["code"] == "code_invalid"
    verified = await client.post(f"/v1/me/contacts/{added['id']}/verify", json={"code": code}, headers=me)
    assert verified.status_code == 200, verified.text
    assert verified.json()["verified"] is True and verified.json()["receives_notices"] is True
    replayed = await client.post(f"/v1/me/contacts/{added['id']}/verify", json={"code": code}, headers=me)
    assert replayed.status_code == 404 and replayed.json()["code"] == "contact_not_found"

    assert await _sign_in(client, new) == 201
    assert await _sign_in(client, old) == 401
    assert [(c["id"], c["verified"]) for c in await _contacts(client, me)] == [(added["id"], True)]
    await runtime.courier.deliver_queued()
    assert "A contact of your account was changed" in _notices(runtime, old)
    assert not any("changed" in n for n in _notices(runtime, new))


async def test_an_added_phone_joins_and_the_email_is_told(client: httpx.AsyncClient, runtime: Runtime) -> None:
    email, me = await _active(client, runtime)
    phone = "+8613912345678"
    verified = await _add_verified(client, runtime, me, "phone", phone)
    assert verified["kind"] == "phone" and verified["masked_address"] == "+86139****5678"
    assert [c["kind"] for c in await _contacts(client, me) if c["verified"]] == ["email", "phone"]
    assert await _sign_in(client, phone) == 201
    await runtime.courier.deliver_queued()
    assert "A contact was added to your account" in _notices(runtime, email)


async def test_an_address_another_account_verified_is_refused_like_registration(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    theirs, _ = await _active(client, runtime)
    _, me = await _active(client, runtime)
    for address in (theirs, theirs.upper()):
        response = await client.post("/v1/me/contacts", json={"kind": "email", "address": address}, headers=me)
        assert response.status_code == 409, response.text
        assert response.json()["code"] == "identifier_taken"
        assert response.json()["errors"][0]["field"] == "address"
    registering = await client.post(
        "/v1/registrations",
        json=registration(email=theirs, username=None, phone=None),
    )
    assert registering.status_code == 409 and registering.json()["code"] == "identifier_taken"


async def test_adding_ones_own_address_again_is_refused(client: httpx.AsyncClient, runtime: Runtime) -> None:
    email, me = await _active(client, runtime)
    response = await client.post("/v1/me/contacts", json={"kind": "email", "address": email}, headers=me)
    assert response.status_code == 409 and response.json()["code"] == "contact_exists"


async def test_a_pending_address_blocks_nobody_and_one_of_two_racing_accounts_wins(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    contested = f"contested-{uuid.uuid4().hex[:8]}@example.com"
    _, first = await _active(client, runtime)
    _, second = await _active(client, runtime)
    added_first = await _add(client, first, "email", contested)
    code_first = await latest_code(runtime, "email", contested)
    # Pending on the first account, the address is not theirs: the second may add it too.
    added_second = await _add(client, second, "email", contested)
    code_second = await latest_code(runtime, "email", contested)
    answers = await asyncio.gather(
        client.post(f"/v1/me/contacts/{added_first['id']}/verify", json={"code": code_first}, headers=first),
        client.post(f"/v1/me/contacts/{added_second['id']}/verify", json={"code": code_second}, headers=second),
    )
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    loser = next(a for a in answers if a.status_code == 409)
    assert loser.json()["code"] == "identifier_taken"
    holders = await db.fetchval(
        "SELECT count(*) FROM contacts WHERE id = ANY($1::uuid[])",
        [uuid.UUID(added_first["id"]), uuid.UUID(added_second["id"])],
    )
    assert holders == 1
    # The loser's waiting address is gone: its code cannot be tried again.
    assert (
        await db.fetchval(
            "SELECT count(*) FROM contact_additions WHERE id = ANY($1::uuid[])",
            [uuid.UUID(added_first["id"]), uuid.UUID(added_second["id"])],
        )
        == 0
    )
    assert await _sign_in(client, contested) == 201


async def test_malformed_addresses_and_bodies_are_refused(client: httpx.AsyncClient, runtime: Runtime) -> None:
    _, me = await _active(client, runtime)
    for body in (
        {"kind": "email", "address": "not-an-address"},
        {"kind": "phone", "address": "12345"},
        {"kind": "phone", "address": "+861381234567"},
    ):
        response = await client.post("/v1/me/contacts", json=body, headers=me)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["errors"][0]["field"] == "address"
    for body in (
        {"kind": "fax", "address": "a@example.com"},
        {"kind": "email"},
        {"kind": "email", "address": "a\x00@example.com"},
        {"kind": "email", "address": "a" * 400 + "@example.com"},
        {"kind": "email", "address": "a@example.com", "verified": True},
    ):
        response = await client.post("/v1/me/contacts", json=body, headers=me)
        assert 400 <= response.status_code < 500, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    huge = b'{"kind": "email", "address": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    response = await client.post("/v1/me/contacts", content=huge, headers={**me, "content-type": "application/json"})
    assert response.status_code == 413
    assert (
        await client.post("/v1/me/contacts/not-a-uuid/verify", json={"code": "123456"}, headers=me)
    ).status_code in (
        400,
        404,
    )
    email_id = (await _contacts(client, me))[0]["id"]
    for body in ({"receives_notices": "yes"}, {"receives_notices": True, "address": "x@example.com"}, {}):
        response = await client.patch(f"/v1/me/contacts/{email_id}", json=body, headers=me)
        assert 400 <= response.status_code < 500, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    for code in ("abcdef", "1" * 17, "", "12\n34"):
        response = await client.post(f"/v1/me/contacts/{email_id}/verify", json={"code": code}, headers=me)
        assert 400 <= response.status_code < 500, response.text
    for body in ({"password": 7}, {"password": STRONG_PASSWORD, "totp_code": "12"}, {"password": "x" * 2000}):
        response = await client.request("DELETE", f"/v1/me/contacts/{email_id}", json=body, headers=me)
        assert 400 <= response.status_code < 500 and response.status_code != 409, response.text
    assert [c["kind"] for c in await _contacts(client, me)] == ["email"]


async def test_another_persons_contact_ids_answer_like_unknown_ones(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    _, victim = await _active(client, runtime)
    _, attacker = await _active(client, runtime)
    pending = await _add(client, victim, "phone", "+8613712345678")
    code = await latest_code(runtime, "sms", "+8613712345678")
    contact_id = (await _contacts(client, victim))[0]["id"]
    for target in (pending["id"], contact_id, str(uuid.uuid4())):
        answers = [
            await client.post(f"/v1/me/contacts/{target}/verify", json={"code": code}, headers=attacker),
            await client.post(f"/v1/me/contacts/{target}/code", headers=attacker),
            await client.patch(f"/v1/me/contacts/{target}", json={"receives_notices": True}, headers=attacker),
            await _remove(client, attacker, target),
        ]
        assert [a.status_code for a in answers] == [404] * 4, [a.text for a in answers]
        assert {a.json()["code"] for a in answers} == {"contact_not_found"}
    # The victim's code was not spent by the attacker's tries.
    verified = await client.post(f"/v1/me/contacts/{pending['id']}/verify", json={"code": code}, headers=victim)
    assert verified.status_code == 200, verified.text


async def test_codes_for_an_added_address_are_throttled(client: httpx.AsyncClient, runtime: Runtime) -> None:
    _, me = await _active(client, runtime)
    added = await _add(client, me, "email", f"slow-{uuid.uuid4().hex[:8]}@example.com")
    again = await client.post(f"/v1/me/contacts/{added['id']}/code", headers=me)
    assert again.status_code == 429 and again.json()["code"] == "code_resend_too_soon"
    # Replacing the waiting address does not reset the throttle either.
    other = await client.post("/v1/me/contacts", json={"kind": "email", "address": "other@example.com"}, headers=me)
    assert other.status_code == 429


async def test_five_wrong_codes_burn_the_added_addresses_code(client: httpx.AsyncClient, runtime: Runtime) -> None:
    _, me = await _active(client, runtime)
    address = f"guess-{uuid.uuid4().hex[:8]}@example.com"
    added = await _add(client, me, "email", address)
    code = await latest_code(runtime, "email", address)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    answers = await asyncio.gather(
        *(client.post(f"/v1/me/contacts/{added['id']}/verify", json={"code": wrong}, headers=me) for _ in range(8))
    )
    assert sorted(a.json()["code"] for a in answers) == ["code_expired"] * 3 + ["code_invalid"] * 5
    late = await client.post(f"/v1/me/contacts/{added['id']}/verify", json={"code": code}, headers=me)
    assert late.status_code == 422 and late.json()["code"] == "code_expired"


async def test_removal_needs_the_password(client: httpx.AsyncClient, runtime: Runtime) -> None:
    _, me = await _active(client, runtime, phone="+8613612345678")
    phone_id = (await _contacts(client, me))[1]["id"]
    missing = await client.request("DELETE", f"/v1/me/contacts/{phone_id}", headers=me)
    assert missing.status_code == 422 and missing.headers["content-type"].startswith("application/problem+json")
    wrong = await _remove(client, me, phone_id, password="not-the-password-42")
    assert wrong.status_code == 403 and wrong.json()["code"] == "reauthentication_failed"
    assert len(await _contacts(client, me)) == 2
    assert (await _remove(client, me, phone_id)).status_code == 204
    assert [c["kind"] for c in await _contacts(client, me)] == ["email"]


async def test_removal_needs_the_totp_code_when_enrolled(client: httpx.AsyncClient, runtime: Runtime) -> None:
    _, me = await _active(client, runtime, phone="+8613512345678")
    secret = (await client.post("/v1/me/totp", json={"password": STRONG_PASSWORD}, headers=me)).json()["secret"]
    confirm = pyotp.TOTP(secret).at(time.time() - 30)
    assert (await client.post("/v1/me/totp/confirm", json={"code": confirm}, headers=me)).status_code == 200
    phone_id = (await _contacts(client, me))[1]["id"]
    without = await _remove(client, me, phone_id)
    assert without.status_code == 403 and without.json()["code"] == "reauthentication_failed"
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 1) % 1_000_000:06d}"
    assert (await _remove(client, me, phone_id, totp_code=wrong)).status_code == 403
    assert (await _remove(client, me, phone_id, totp_code=pyotp.TOTP(secret).now())).status_code == 204


async def test_the_last_verified_contact_stays_and_a_removed_one_signs_in_no_more(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    email, me = await _active(client, runtime)
    email_id = (await _contacts(client, me))[0]["id"]
    last = await _remove(client, me, email_id)
    assert last.status_code == 409 and last.json()["code"] == "last_verified_contact"

    phone = "+8613412345678"
    await _add_verified(client, runtime, me, "phone", phone)
    assert (await _remove(client, me, email_id)).status_code == 204
    assert await _sign_in(client, email) == 401
    assert await _sign_in(client, phone) == 201
    before = len(_notices(runtime, email))
    no_code = await client.post("/v1/contacts/email/code", headers=me)
    assert no_code.status_code == 404
    await runtime.courier.deliver_queued()
    told = _notices(runtime, email)
    assert told[before - 1 :] and "A contact was removed from your account" in told
    assert not any("code" in n.lower() for n in told[before:])
    assert any("was removed from your account" in n for n in _notices(runtime, phone))
    phone_id = (await _contacts(client, me))[0]["id"]
    assert (await _remove(client, me, phone_id)).status_code == 409


async def test_parallel_removals_never_remove_both_verified_contacts(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    _, me = await _active(client, runtime)
    await _add_verified(client, runtime, me, "phone", "+8613312345678")
    ids = [c["id"] for c in await _contacts(client, me)]
    answers = await asyncio.gather(*(_remove(client, me, contact_id) for contact_id in ids))
    assert sorted(a.status_code for a in answers) == [204, 409], [a.text for a in answers]
    assert len([c for c in await _contacts(client, me) if c["verified"]]) == 1


async def test_a_waiting_address_can_be_withdrawn(client: httpx.AsyncClient, runtime: Runtime) -> None:
    _, me = await _active(client, runtime)
    address = f"gone-{uuid.uuid4().hex[:8]}@example.com"
    added = await _add(client, me, "email", address)
    code = await latest_code(runtime, "email", address)
    assert (await _remove(client, me, added["id"])).status_code == 204
    late = await client.post(f"/v1/me/contacts/{added['id']}/verify", json={"code": code}, headers=me)
    assert late.status_code == 404


async def test_notices_go_to_the_contact_the_person_chose(client: httpx.AsyncClient, runtime: Runtime) -> None:
    email, me = await _active(client, runtime)
    phone = "+8613212345678"
    chosen = await _add_verified(client, runtime, me, "phone", phone)
    pending = await _add(client, me, "email", f"later-{uuid.uuid4().hex[:8]}@example.com")
    refused = await client.patch(f"/v1/me/contacts/{pending['id']}", json={"receives_notices": True}, headers=me)
    assert refused.status_code == 409 and refused.json()["code"] == "contact_not_verified"
    off = await client.patch(f"/v1/me/contacts/{chosen['id']}", json={"receives_notices": False}, headers=me)
    assert off.status_code == 422

    response = await client.patch(f"/v1/me/contacts/{chosen['id']}", json={"receives_notices": True}, headers=me)
    assert response.status_code == 200, response.text
    assert [(c["kind"], c["receives_notices"]) for c in response.json()["contacts"] if c["verified"]] == [
        ("email", False),
        ("phone", True),
    ]
    await runtime.courier.deliver_queued()
    assert "Your account's notices go elsewhere now" in _notices(runtime, email)
    again = await client.patch(f"/v1/me/contacts/{chosen['id']}", json={"receives_notices": True}, headers=me)
    assert again.status_code == 200
    await runtime.courier.deliver_queued()
    assert _notices(runtime, email).count("Your account's notices go elsewhere now") == 1
    account_id = (await client.get("/v1/me", headers=me)).json()["account_id"]
    async with runtime.database.transaction() as conn:
        assert await notify(runtime, conn, uuid.UUID(account_id), ("sign_in_locked", "sign_in_locked_sms"), {})
    await runtime.courier.deliver_queued()
    assert any("password sign-in is paused" in n for n in _notices(runtime, phone))
    assert not any("paused" in n for n in _notices(runtime, email))


async def test_an_address_that_waited_in_vain_goes_with_the_codes_retention(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    _, me = await _active(client, runtime)
    kept = await _add(client, me, "phone", "+8613112345678")
    await db.execute(
        "UPDATE contact_additions SET expires_at = now() - interval '2 days' WHERE id = $1", uuid.UUID(kept["id"])
    )
    # Past its lifetime the address is no longer listed nor provable, and the purge removes it.
    assert [c["kind"] for c in await _contacts(client, me)] == ["email"]
    assert (await client.post(f"/v1/me/contacts/{kept['id']}/code", headers=me)).status_code == 404
    due = {line.category: line.due_now for line in await report(db, runtime.settings.retention)}
    assert due["one_time_codes"] == 1
    assert (await purge(runtime))["one_time_codes"] == 1
    assert await db.fetchval("SELECT count(*) FROM contact_additions") == 0


async def test_a_waiting_address_is_exported_and_erased_with_the_account(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    _, me = await _active(client, runtime)
    address = f"export-{uuid.uuid4().hex[:8]}@example.com"
    await _add(client, me, "email", address)
    account_id = uuid.UUID((await client.get("/v1/me", headers=me)).json()["account_id"])
    async with runtime.database.connection() as conn:
        archive = msgspec.json.decode(
            await build_archive(conn, runtime.vault, await runtime.vault.open(conn, account_id), account_id)
        )
    assert [row["address"] for row in archive["contact_additions"]] == [address]
    assert {"id", "receives_notices"} <= set(archive["contacts"][0])
    await cancel_now_due(client, db, me)
    assert await erase_due(runtime) == 1
    assert await db.fetchval("SELECT count(*) FROM contact_additions WHERE account_id = $1", account_id) == 0


async def test_a_mistyped_registration_address_is_replaced_and_the_account_activated(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    body = await register(client, email="typo@exmaple.com", username="typo_one", phone=None)
    me = bearer(body["session"]["token"])
    assert (await client.get("/v1/me/contacts", headers=me)).json()["contacts"][0]["verified"] is False
    await _add_verified(client, runtime, me, "email", "right@example.com")
    assert (await client.get("/v1/sessions/whoami", headers=me)).json()["state"] == "active"
    assert await _sign_in(client, "typo@exmaple.com") == 401
    # The mistyped address is free again for whoever owns it.
    await register(client, email="typo@exmaple.com", username="typo_owner", phone=None)


async def test_parallel_additions_send_one_code_and_a_code_proves_once(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    _, me = await _active(client, runtime)
    addresses = [f"burst-{n}-{uuid.uuid4().hex[:6]}@example.com" for n in range(5)]
    answers = await asyncio.gather(
        *(client.post("/v1/me/contacts", json={"kind": "email", "address": a}, headers=me) for a in addresses)
    )
    assert sorted(a.status_code for a in answers) == [201] + [429] * 4, [a.text for a in answers]
    added = next(a.json() for a in answers if a.status_code == 201)
    address = addresses[[a.status_code for a in answers].index(201)]
    code = await latest_code(runtime, "email", address)
    assert await db.fetchval("SELECT count(*) FROM one_time_codes WHERE purpose = 'add_email'") == 1
    proofs = await asyncio.gather(
        *(client.post(f"/v1/me/contacts/{added['id']}/verify", json={"code": code}, headers=me) for _ in range(4))
    )
    assert sorted(p.status_code for p in proofs) == [200, 404, 404, 404], [p.text for p in proofs]


async def test_an_address_registered_but_never_proven_goes_to_whoever_proves_it(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    squatted = f"squatted-{uuid.uuid4().hex[:8]}@example.com"
    squatter = bearer(
        (await register(client, email=squatted, username=f"s_{uuid.uuid4().hex[:8]}", phone="+8613012340000"))[
            "session"
        ]["token"]
    )
    squatter_code = await latest_code(runtime, "email", squatted)
    _, owner = await _active(client, runtime)
    await _add_verified(client, runtime, owner, "email", squatted)
    assert await _sign_in(client, squatted) == 201
    late = await client.post("/v1/contacts/email/verify", json={"code": squatter_code}, headers=squatter)
    assert late.status_code == 404 and late.json()["code"] == "contact_not_found"
    assert [c["kind"] for c in await _contacts(client, squatter)] == ["phone"]
    # Nobody is told at the address's old holder: it was never theirs.
    await runtime.courier.deliver_queued()
    assert not any("contact" in n.lower() for n in _notices(runtime, "+8613012340000"))


async def test_a_registration_proving_its_address_and_another_account_proving_it_at_once_one_wins(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    contested = f"race-{uuid.uuid4().hex[:8]}@example.com"
    registrant = bearer(
        (await register(client, email=contested, username=f"r_{uuid.uuid4().hex[:8]}", phone=None))["session"]["token"]
    )
    registration_code = await latest_code(runtime, "email", contested)
    _, adder = await _active(client, runtime)
    added = await _add(client, adder, "email", contested)
    addition_code = await latest_code(runtime, "email", contested)
    answers = await asyncio.gather(
        client.post("/v1/contacts/email/verify", json={"code": registration_code}, headers=registrant),
        client.post(f"/v1/me/contacts/{added['id']}/verify", json={"code": addition_code}, headers=adder),
    )
    assert sorted(a.status_code for a in answers) in ([200, 404], [200, 409]), [a.text for a in answers]
    holders = await db.fetch(
        "SELECT verified_at FROM contacts WHERE kind = 'email' AND address_index = $1",
        runtime.vault.blind_index.digest("contact.email", contested),
    )
    assert len(holders) == 1 and holders[0]["verified_at"] is not None
    assert await _sign_in(client, contested) == 201
