"""People who cancel, and what happens to them meanwhile, as the service makes them (over HTTP)."""

from __future__ import annotations

import uuid

import asyncpg
import httpx

from service.runtime import Runtime
from tests.helpers import STRONG_PASSWORD, bearer, enrolled_operator, latest_code, register

ZHANG_SAN = {"legal_name": "张三", "document_type": "resident_id_card", "id_number": "11010519491231002X"}


async def person(
    client: httpx.AsyncClient, runtime: Runtime, *, identity: dict[str, str] | None = None
) -> tuple[uuid.UUID, dict[str, str]]:
    """A registered person with a verified e-mail (and a verified identity when given one)."""
    suffix = uuid.uuid4().hex[:8]
    email = f"{suffix}@example.com"
    body = await register(client, birth_date="1949-12-31", email=email, username=f"u_{suffix}", phone=None)
    me = bearer(body["session"]["token"])
    code = await latest_code(runtime, "email", email)
    assert (await client.post("/v1/contacts/email/verify", json={"code": code}, headers=me)).status_code == 200
    if identity is not None:
        consent = await client.post("/v1/me/consents/identity_data", json={"version": "2026-11-01"}, headers=me)
        assert consent.status_code == 200
        verified = await client.post("/v1/me/verifications/real-name", json=identity, headers=me)
        assert verified.status_code == 201, verified.text
    return uuid.UUID(body["account_id"]), me


async def cancel_now_due(client: httpx.AsyncClient, db: asyncpg.Connection, me: dict[str, str], ago: int = 1) -> None:
    """Cancel, and let the cooling-off end ``ago`` seconds ago (older ones are picked first)."""
    cancelled = await client.post("/v1/me/cancellation", json={"password": STRONG_PASSWORD}, headers=me)
    assert cancelled.status_code == 202, cancelled.text
    account_id = (await client.get("/v1/me", headers=me)).json()["account_id"]
    await db.execute(
        "UPDATE cancellations SET erase_after = now() - make_interval(secs => $2) WHERE account_id = $1",
        uuid.UUID(account_id),
        ago,
    )


async def terminate(client: httpx.AsyncClient, runtime: Runtime, account_id: uuid.UUID, reason: str) -> None:
    """Two senior reviewers terminate the account (one proposes and decides, the other confirms)."""
    senior = await enrolled_operator(runtime, client, "senior_reviewer")
    body = {"reason": reason, "note": "The employer confirmed the certificate was forged."}
    proposed = await client.post(f"/v1/operator/accounts/{account_id}/termination", json=body, headers=senior.headers)
    assert proposed.status_code == 201, proposed.text
    case_id = proposed.json()["case_id"]
    await client.post(f"/v1/operator/cases/{case_id}/claim", headers=senior.headers)
    staged = await client.post(
        f"/v1/operator/cases/{case_id}/decision",
        json={"decision": "approve", "reason_code": "termination_warranted"},
        headers=senior.headers,
    )
    assert staged.status_code == 200, staged.text
    second = await enrolled_operator(runtime, client, "senior_reviewer")
    confirmed = await client.post(f"/v1/operator/cases/{case_id}/staged-decision/confirm", headers=second.headers)
    assert confirmed.status_code == 200, confirmed.text


async def ready_export(db: asyncpg.Connection, account_id: uuid.UUID) -> uuid.UUID:
    """A data export whose download period has just ended (the erasure job expires it)."""
    export_id = uuid.uuid4()
    await db.execute(
        """INSERT INTO data_exports (id, account_id, requested_by, status, archive, ready_at, expires_at)
           VALUES ($1, $2, $2, 'ready', '\\x00'::bytea, now() - interval '8 days', now() - interval '1 second')""",
        export_id,
        account_id,
    )
    return export_id
