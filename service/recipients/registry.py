"""Registering recipients and recording what they received."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

import msgspec

from service.accounts import store as accounts
from service.accounts.states import AccountState
from service.audit import AuditEntry
from service.errors import Conflict, NotFound, invalid_field
from service.http.schemas import NO_CONTROL_CHARACTERS, RequestBody
from service.jobs import queue
from service.operators.auth import OperatorPrincipal
from service.recipients import destinations, store
from service.recipients.keys import RECIPIENT_SECRETS
from service.recipients.notices import delivery_key
from service.runtime import Runtime
from service.settings import Environment
from service.vault.labels import VaultField


class RecipientKind(StrEnum):
    RELYING_PARTY = "relying_party"
    PROCESSOR = "processor"


class NewRecipient(RequestBody):
    name: Annotated[str, msgspec.Meta(min_length=2, max_length=100, pattern=NO_CONTROL_CHARACTERS)]
    kind: RecipientKind
    webhook_url: Annotated[str, msgspec.Meta(pattern=r"^https?://[^\s]+$", max_length=500)]
    # Base64 of at least 32 random bytes, shared with the recipient to check signatures.
    secret: Annotated[str, msgspec.Meta(min_length=44, max_length=200)]


class RecipientView(msgspec.Struct):
    recipient_id: UUID
    name: str
    kind: RecipientKind
    webhook_url: str
    created_at: datetime


class Disclosure(RequestBody):
    account_id: UUID
    categories: Annotated[
        list[Annotated[str, msgspec.Meta(pattern=r"^[a-z_]{2,40}$")]], msgspec.Meta(min_length=1, max_length=20)
    ]


class UnacknowledgedNotice(msgspec.Struct):
    notice_id: UUID
    recipient: str
    account_id: UUID
    event: str
    attempts: int
    last_error: str | None
    created_at: datetime
    # When the automatic retries attempt it next (in the past: being attempted now); null once they
    # have run out, when only a resend tries again.
    next_attempt_at: datetime | None


async def register(runtime: Runtime, operator: OperatorPrincipal, body: NewRecipient) -> RecipientView:
    try:
        secret = base64.b64decode(body.secret, validate=True)
    except (binascii.Error, ValueError):
        raise invalid_field("secret", "not_base64", "the secret must be base64") from None
    if len(secret) < 32:
        raise invalid_field("secret", "too_short", "the secret must be at least 32 random bytes")
    try:
        await destinations.check(body.webhook_url, production=runtime.settings.env is Environment.PRODUCTION)
    except destinations.UnsafeDestination as exc:
        raise invalid_field("webhook_url", exc.code, exc.message) from None
    recipient_id = uuid.uuid4()
    async with runtime.database.transaction() as conn:
        cipher = await runtime.vault.open_or_create(conn, RECIPIENT_SECRETS)
        sealed = cipher.seal(VaultField.RECIPIENT_SECRET, secret)
        row = await store.insert_recipient(conn, recipient_id, body.name, body.kind, body.webhook_url, sealed)
        if row is None:
            raise Conflict("recipient_exists", "A recipient with this name exists")
        await runtime.audit.append(
            conn,
            AuditEntry(operator.actor, "recipient.registered", "recipient", str(recipient_id), {"kind": body.kind}),
        )
    return _view(row)


def _view(row: store.Recipient) -> RecipientView:
    return RecipientView(row.id, row.name, RecipientKind(row.kind), row.webhook_url, row.created_at)


async def listed(runtime: Runtime) -> list[RecipientView]:
    async with runtime.database.connection() as conn:
        rows = await store.recipients(conn)
    return [_view(row) for row in rows]


async def disclose(runtime: Runtime, operator: OperatorPrincipal, recipient_id: UUID, body: Disclosure) -> None:
    async with runtime.database.transaction() as conn:
        if await store.recipient(conn, recipient_id) is None:
            raise NotFound("recipient_not_found", "No such recipient")
        # Locking the account orders this against an erasure: a disclosure recorded after one
        # would never be followed by the notice to delete.
        state = await accounts.lock_state(conn, body.account_id)
        if state is None:
            raise NotFound("account_not_found", "No such account")
        if state is AccountState.ERASED:
            raise Conflict("account_erased", "The account is erased: there is nothing left to disclose")
        await store.record_disclosure(conn, recipient_id, body.account_id, body.categories)
        details = {"recipient": str(recipient_id), "categories": ",".join(body.categories)}
        await runtime.audit.append(
            conn, AuditEntry(operator.actor, "recipient.disclosed", "account", str(body.account_id), details)
        )


async def unacknowledged(runtime: Runtime) -> list[UnacknowledgedNotice]:
    async with runtime.database.connection() as conn:
        rows = await store.unacknowledged(conn)
        live = await queue.live_jobs(conn, [delivery_key(r.id) for r in rows])
    views = []
    for r in rows:
        job = live.get(delivery_key(r.id))
        views.append(
            UnacknowledgedNotice(
                r.id,
                r.recipient,
                r.account_id,
                r.event,
                r.attempts,
                r.last_error,
                r.created_at,
                None if job is None else job.due_at,
            )
        )
    return views
