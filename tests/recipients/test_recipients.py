"""Recipients are told, by a signed webhook, when a person they received data about is erased or
withdraws consent; what they do not acknowledge stays in the privacy officers' list."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
from litestar import Request, Response, post

from service.lifecycle.cancellation import erase_due
from service.recipients.notices import DeliverNotice, NoticeNotAcknowledged, deliver
from service.runtime import Runtime
from tests.arrange.people import PERSON, real_name_verified
from tests.helpers import STRONG_PASSWORD, enrolled_operator
from tests.peers import serving, signed_by

SECRET = b"relying-party-shared-secret-0123456789abcdef"


@dataclass
class RelyingParty:
    """Checks signatures like a real recipient, and can be down."""

    down: bool = False
    received: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0


@pytest.fixture
async def relying_party() -> AsyncIterator[tuple[RelyingParty, str]]:
    state = RelyingParty()

    @post("/idv-events", status_code=200)
    async def event(request: Request[Any, Any, Any]) -> Response[dict[str, str]]:
        body = await request.body()
        if not signed_by(SECRET, request.headers, body):
            state.bad_signatures += 1
            return Response({"error": "bad signature"}, status_code=401)
        if state.down:
            return Response({"error": "down"}, status_code=503)
        state.received.append(json.loads(body))
        return Response({"ok": "deleted"}, status_code=200)

    async with serving(event) as base:
        yield state, f"{base}/idv-events"


async def _queued_notices(db: asyncpg.Connection) -> list[uuid.UUID]:
    rows = await db.fetch("SELECT payload FROM pgqueuer WHERE entrypoint = 'recipients.deliver_notice' ORDER BY id")
    return [msgspec.json.decode(r["payload"], type=DeliverNotice).notice_id for r in rows]


async def test_recipients_are_told_to_delete_and_must_acknowledge(
    client: httpx.AsyncClient,
    runtime: Runtime,
    db: asyncpg.Connection,
    relying_party: tuple[RelyingParty, str],
) -> None:
    state, url = relying_party
    account_id, me = await real_name_verified(client, runtime)
    admin = await enrolled_operator(runtime, client, "admin")
    privacy = await enrolled_operator(runtime, client, "privacy_officer")
    body = {"name": "Shop", "kind": "relying_party", "webhook_url": url, "secret": base64.b64encode(SECRET).decode()}
    created = await client.post("/v1/operator/recipients", json=body, headers=admin.headers)
    assert created.status_code == 201, created.text
    recipient_id = created.json()["recipient_id"]
    assert "secret" not in created.json()
    disclosed = await client.post(
        f"/v1/operator/recipients/{recipient_id}/disclosures",
        json={"account_id": str(account_id), "categories": ["contact", "real_name_status"]},
        headers=admin.headers,
    )
    assert disclosed.status_code == 204

    # Withdrawing a consent is told; the recipient is down at first, then acknowledges.
    await client.post("/v1/me/consents/identity_data/withdraw", headers=me)
    (withdrawal,) = await _queued_notices(db)
    state.down = True
    with pytest.raises(NoticeNotAcknowledged, match="503"):
        await deliver(runtime, withdrawal)
    # The worker would now wait before its next attempt (backoff): the list says until when.
    await db.execute(
        """UPDATE pgqueuer SET execute_after = now() + interval '2 hours', attempts = 3
           WHERE entrypoint = 'recipients.deliver_notice'"""
    )
    owed = (await client.get("/v1/operator/recipients/notices/unacknowledged", headers=privacy.headers)).json()
    assert [(n["event"], n["attempts"], n["last_error"]) for n in owed] == [("consent.withdrawn", 1, "HTTP 503")]
    assert datetime.fromisoformat(owed[0]["next_attempt_at"]) > datetime.now(UTC) + timedelta(minutes=110)
    metrics = (await client.get("/metrics")).text
    assert 'idv_recipient_notices_unacknowledged{event="consent.withdrawn"} 1.0' in metrics
    # Once the recipient is back, a privacy officer need not wait for the next retry; resending
    # while the retries still run brings their next attempt forward, never a second chain.
    for _ in range(2):
        resent = await client.post(f"/v1/operator/recipients/notices/{withdrawal}/resend", headers=privacy.headers)
        assert resent.status_code == 202
    assert await _queued_notices(db) == [withdrawal]
    job = await db.fetchrow(
        "SELECT execute_after <= now() AS due, attempts FROM pgqueuer WHERE entrypoint = 'recipients.deliver_notice'"
    )
    assert job is not None and (job["due"], job["attempts"]) == (True, 3)
    state.down = False
    assert await deliver(runtime, withdrawal) is True
    again = await client.post(f"/v1/operator/recipients/notices/{withdrawal}/resend", headers=privacy.headers)
    assert (again.status_code, again.json()["code"]) == (409, "notice_acknowledged")
    unknown = await client.post(f"/v1/operator/recipients/notices/{uuid.uuid4()}/resend", headers=privacy.headers)
    assert unknown.status_code == 404
    assert state.received[0]["event"] == "consent.withdrawn"
    assert state.received[0]["details"] == {"purpose": "identity_data"}

    # Erasure is told too, with nothing personal in the notice.
    assert (await client.post("/v1/me/cancellation", json={"password": STRONG_PASSWORD}, headers=me)).status_code == 202
    await db.execute("UPDATE cancellations SET erase_after = now() - interval '1 second'")
    assert await erase_due(runtime) == 1
    erased = (await _queued_notices(db))[-1]
    assert await deliver(runtime, erased) is True
    notice = state.received[-1]
    assert (notice["event"], notice["account_id"]) == ("account.erased", str(account_id))
    assert PERSON["email"] not in json.dumps(notice) and state.bad_signatures == 0
    late = await client.post(
        f"/v1/operator/recipients/{recipient_id}/disclosures",
        json={"account_id": str(account_id), "categories": ["contact"]},
        headers=admin.headers,
    )
    assert (late.status_code, late.json()["code"]) == (409, "account_erased")
    assert (await client.get("/v1/operator/recipients/notices/unacknowledged", headers=privacy.headers)).json() == []
    metrics = (await client.get("/metrics")).text
    assert 'idv_recipient_notices_unacknowledged{event="consent.withdrawn"} 0.0' in metrics


async def test_a_recipient_with_a_short_secret_is_refused(client: httpx.AsyncClient, runtime: Runtime) -> None:
    admin = await enrolled_operator(runtime, client, "admin")
    body = {
        "name": "Weak",
        "kind": "processor",
        "webhook_url": "https://weak.example.com/hook",
        "secret": base64.b64encode(b"x" * 33).decode(),
    }
    assert (await client.post("/v1/operator/recipients", json=body, headers=admin.headers)).status_code == 201
    short = {**body, "name": "Weaker", "secret": base64.b64encode(b"x" * 31).decode().ljust(44, "=")}
    response = await client.post("/v1/operator/recipients", json=short, headers=admin.headers)
    assert response.status_code == 422


async def test_disclosures_name_a_real_account_and_recipient_names_are_unique(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await enrolled_operator(runtime, client, "admin")
    body = {
        "name": "Processor",
        "kind": "processor",
        "webhook_url": "https://processor.example.com/hook",
        "secret": base64.b64encode(SECRET).decode(),
    }
    created = await client.post("/v1/operator/recipients", json=body, headers=admin.headers)
    again = await client.post("/v1/operator/recipients", json=body, headers=admin.headers)
    assert (created.status_code, again.status_code, again.json()["code"]) == (201, 409, "recipient_exists")
    unknown = await client.post(
        f"/v1/operator/recipients/{created.json()['recipient_id']}/disclosures",
        json={"account_id": str(uuid.uuid4()), "categories": ["contact"]},
        headers=admin.headers,
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "account_not_found")


async def test_a_resend_after_the_retries_ran_out_starts_one_new_round(
    client: httpx.AsyncClient,
    runtime: Runtime,
    db: asyncpg.Connection,
    relying_party: tuple[RelyingParty, str],
) -> None:
    state, url = relying_party
    account_id, me = await real_name_verified(client, runtime)
    admin = await enrolled_operator(runtime, client, "admin")
    privacy = await enrolled_operator(runtime, client, "privacy_officer")
    body = {"name": "Shop", "kind": "relying_party", "webhook_url": url, "secret": base64.b64encode(SECRET).decode()}
    recipient_id = (await client.post("/v1/operator/recipients", json=body, headers=admin.headers)).json()[
        "recipient_id"
    ]
    disclosure = {"account_id": str(account_id), "categories": ["contact"]}
    await client.post(f"/v1/operator/recipients/{recipient_id}/disclosures", json=disclosure, headers=admin.headers)
    await client.post("/v1/me/consents/identity_data/withdraw", headers=me)
    (notice,) = await _queued_notices(db)
    # Fifteen attempts failed: the worker holds the job as failed, and nothing retries any more.
    await db.execute(
        "UPDATE pgqueuer SET status = 'failed', attempts = 15 WHERE entrypoint = 'recipients.deliver_notice'"
    )
    owed = (await client.get("/v1/operator/recipients/notices/unacknowledged", headers=privacy.headers)).json()
    assert [(n["notice_id"], n["next_attempt_at"]) for n in owed] == [(str(notice), None)]

    for _ in range(2):
        resent = await client.post(f"/v1/operator/recipients/notices/{notice}/resend", headers=privacy.headers)
        assert resent.status_code == 202
    live = await db.fetch(
        "SELECT attempts FROM pgqueuer WHERE status = 'queued' AND entrypoint = 'recipients.deliver_notice'"
    )
    assert [row["attempts"] for row in live] == [0]  # one new round, not two
    owed = (await client.get("/v1/operator/recipients/notices/unacknowledged", headers=privacy.headers)).json()
    assert owed[0]["next_attempt_at"] is not None
    assert await deliver(runtime, notice) is True and state.received[0]["event"] == "consent.withdrawn"
