"""One's security log (issue 19): read from the audit trail, summarised, one's own only, paginated, retained."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import msgspec
import pyotp
import pytest

from service.app import create_asgi
from service.runtime import Runtime
from tests.arrange.contacts import verify_email
from tests.helpers import STRONG_PASSWORD, audit_keys, bearer, latest_code, register

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1"
)


@pytest.fixture
async def elsewhere(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The same service reached from another network (an IPv6 address)."""
    transport = httpx.ASGITransport(
        app=create_asgi(runtime.settings, runtime=runtime), client=("2001:db8:abcd:12::7", 1)
    )
    async with httpx.AsyncClient(transport=transport, base_url="https://idv.test") as http:
        yield http


async def _person(client: httpx.AsyncClient, runtime: Runtime) -> tuple[str, dict[str, str]]:
    suffix = uuid.uuid4().hex[:8]
    email = f"{suffix}@example.com"
    body = await register(client, birth_date="1949-12-31", email=email, username=f"u_{suffix}", phone=None)
    me = bearer(body["session"]["token"])
    await verify_email(client, runtime, me, email)
    client.cookies.clear()
    return email, me


async def _sign_in(
    client: httpx.AsyncClient, email: str, agent: str, password: str = STRONG_PASSWORD
) -> httpx.Response:
    answer = await client.post(
        "/v1/sessions", json={"identifier": email, "password": password}, headers={"user-agent": agent}
    )
    client.cookies.clear()
    return answer


async def _activity(client: httpx.AsyncClient, me: dict[str, str], **query: Any) -> dict[str, Any]:
    answer = await client.get("/v1/me/activity", params=query, headers=me)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_sign_ins_failures_and_factor_changes_are_shown_newest_first_with_device_and_network(
    client: httpx.AsyncClient, runtime: Runtime, elsewhere: httpx.AsyncClient
) -> None:
    email, me = await _person(client, runtime)
    assert (await _sign_in(client, email, FIREFOX)).status_code == 201
    assert (await _sign_in(elsewhere, email, "curl/8.5.0", password="not-my-password-at-all")).status_code == 401
    enrolled = await client.post(
        "/v1/me/totp", json={"password": STRONG_PASSWORD}, headers={**me, "user-agent": IPHONE}
    )
    assert enrolled.status_code == 201, enrolled.text
    code = pyotp.TOTP(enrolled.json()["secret"]).now()
    confirmed = await client.post("/v1/me/totp/confirm", json={"code": code}, headers={**me, "user-agent": IPHONE})
    assert confirmed.status_code == 200, confirmed.text

    answer = await client.get("/v1/me/activity", headers=me)
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    entries = answer.json()["entries"]
    shown = [(e["event"], e["device"], e["network"]) for e in entries]
    assert shown[:3] == [
        ("second_factor_added", "Safari on iOS", "203.0.113.0/24"),
        ("sign_in_failed", "curl", "2001:db8:abcd::/48"),
        ("signed_in", "Firefox on Windows", "203.0.113.0/24"),
    ]
    assert entries[1]["details"] == {"reason": "invalid_credentials"}
    assert [e["entry_id"] for e in entries] == sorted((e["entry_id"] for e in entries), reverse=True)
    # Summaries only: neither the full address nor the user agent is ever shown.
    for raw in ("203.0.113.10", "2001:db8:abcd:12::7", "Gecko/20100101", "curl/8.5.0", "session_id"):
        assert raw not in answer.text


async def test_nobody_sees_another_persons_activity(
    client: httpx.AsyncClient, runtime: Runtime, elsewhere: httpx.AsyncClient
) -> None:
    alice_email, alice = await _person(client, runtime)
    _, mallory = await _person(client, runtime)
    assert (await _sign_in(client, alice_email, FIREFOX)).status_code == 201
    # Mallory tries Alice's password from elsewhere: it is Alice's log that shows it, not Mallory's.
    assert (await _sign_in(elsewhere, alice_email, "curl/8.5.0", password="guessing-the-password")).status_code == 401
    alices = await _activity(client, alice)
    malloris = await _activity(client, mallory)
    alice_ids = {e["entry_id"] for e in alices["entries"]}
    assert {"signed_in", "sign_in_failed"} <= {e["event"] for e in alices["entries"]}
    assert not alice_ids & {e["entry_id"] for e in malloris["entries"]}
    assert "sign_in_failed" not in {e["event"] for e in malloris["entries"]}
    # Naming a position in Alice's log gives Mallory nothing of Alice's.
    for entry_id in alice_ids:
        page = await _activity(client, mallory, before=entry_id + 1, limit=100)
        assert not alice_ids & {e["entry_id"] for e in page["entries"]}
    # Without a session, nothing.
    assert (await client.get("/v1/me/activity")).status_code == 401


async def test_pages_cover_the_log_without_overlap_and_bad_parameters_are_refused(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    email, me = await _person(client, runtime)
    for _ in range(3):
        assert (await _sign_in(client, email, FIREFOX)).status_code == 201
        assert (await _sign_in(client, email, IPHONE, password="a-wrong-password-1")).status_code == 401
    everything = [e["entry_id"] for e in (await _activity(client, me, limit=100))["entries"]]
    assert len(everything) >= 6 and (await _activity(client, me, limit=100))["next_before"] is None

    seen: list[int] = []
    page = await _activity(client, me, limit=4)
    while True:
        seen += [e["entry_id"] for e in page["entries"]]
        if page["next_before"] is None:
            break
        page = await _activity(client, me, limit=4, before=page["next_before"])
    assert seen == everything

    for query in ({"limit": 0}, {"limit": 101}, {"limit": "many"}, {"before": 0}, {"before": "x"}, {"before": 2**70}):
        refused = await client.get("/v1/me/activity", params=query, headers=me)
        assert refused.status_code == 400, (query, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"


async def test_parallel_readers_and_sign_ins_do_not_break_the_log(client: httpx.AsyncClient, runtime: Runtime) -> None:
    email, me = await _person(client, runtime)
    answers = await asyncio.gather(
        *(_sign_in(client, email, FIREFOX) for _ in range(4)),
        *(client.get("/v1/me/activity", headers=me) for _ in range(4)),
    )
    assert all(answer.status_code in {200, 201} for answer in answers)
    assert sum(e["event"] == "signed_in" for e in (await _activity(client, me))["entries"]) >= 4


async def test_entries_older_than_the_audit_origins_retention_are_not_shown(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    email, me = await _person(client, runtime)
    assert (await _sign_in(client, email, FIREFOX)).status_code == 201
    assert (await _activity(client, me))["entries"]
    runtime.settings = msgspec.structs.replace(runtime.settings, retention={"audit_origins": timedelta(seconds=1)})
    await asyncio.sleep(1.2)
    assert (await _activity(client, me))["entries"] == []


async def test_an_entry_whose_origin_key_is_destroyed_shows_no_device_or_network(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    email, me = await _person(client, runtime)
    assert (await _sign_in(client, email, FIREFOX)).status_code == 201
    async with runtime.database.transaction() as conn:
        for owner in audit_keys():
            await runtime.vault.destroy(conn, owner)
    entries = (await _activity(client, me))["entries"]
    assert entries and {(e["device"], e["network"]) for e in entries} == {("an unknown device", "an unknown network")}


async def test_a_contact_added_and_removed_is_shown_with_its_kind_never_its_address(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    _, me = await _person(client, runtime)
    phone = "+8613412349876"
    added = await client.post(
        "/v1/me/contacts", json={"kind": "phone", "address": phone}, headers={**me, "user-agent": IPHONE}
    )
    assert added.status_code == 201, added.text
    # An address still waiting for its code is no contact yet: the log shows nothing of it.
    assert "contact_added" not in {e["event"] for e in (await _activity(client, me))["entries"]}
    code = await latest_code(runtime, "sms", phone)
    proven = await client.post(
        f"/v1/me/contacts/{added.json()['id']}/verify", json={"code": code}, headers={**me, "user-agent": IPHONE}
    )
    assert proven.status_code == 200, proven.text
    wrong = await client.request(
        "DELETE", f"/v1/me/contacts/{added.json()['id']}", json={"password": "not-my-password"}, headers=me
    )
    assert wrong.status_code == 403  # a refused removal removes (and records) nothing
    removed = await client.request(
        "DELETE",
        f"/v1/me/contacts/{added.json()['id']}",
        json={"password": STRONG_PASSWORD},
        headers={**me, "user-agent": FIREFOX},
    )
    assert removed.status_code == 204, removed.text

    answer = await client.get("/v1/me/activity", headers=me)
    entries = [e for e in answer.json()["entries"] if e["event"].startswith("contact_")]
    assert [(e["event"], e["device"], e["details"]) for e in entries] == [
        ("contact_removed", "Firefox on Windows", {"kind": "phone"}),
        ("contact_added", "Safari on iOS", {"kind": "phone"}),
    ]
    assert phone not in answer.text and phone[-4:] not in answer.text
