"""Enrolling, listing and removing the signed-in person's passkeys.

An enrolment's challenge is bound to the session that asked for it and used at most once; asking
for one needs the password again (as TOTP's enrolment does), so a stolen session cannot quietly add
a way back in. Enrolling or removing a passkey tells the person on every verified contact."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from service.accounts import store as accounts
from service.accounts.notices import notify_every_contact
from service.audit import Actor, AuditEntry
from service.errors import Conflict, Invalid, NotFound
from service.passkeys import ceremony, store
from service.runtime import Runtime
from service.sessions.sessions import Principal
from service.vault.labels import VaultField

# More would only be a way to fill the table; a person has a few devices.
MOST_PASSKEYS = 20


@dataclass(frozen=True)
class PasskeyView:
    id: UUID
    name: str
    created_at: datetime
    last_used_at: datetime | None
    backup_eligible: bool
    backed_up: bool


def _at(runtime: Runtime) -> str:
    # ISO 8601: the courier writes it in the reader's language and format.
    return datetime.now(ZoneInfo(runtime.settings.time_zone)).isoformat(timespec="minutes")


async def tell(runtime: Runtime, conn: asyncpg.Connection, account_id: UUID, notice: str, name: str) -> None:
    await notify_every_contact(runtime, conn, account_id, (notice, f"{notice}_sms"), {"name": name, "at": _at(runtime)})


async def creation_options(runtime: Runtime, principal: Principal) -> dict[str, Any]:
    """PublicKeyCredentialCreationOptions (as JSON) for this session; the caller has confirmed the password."""
    challenge = ceremony.new_challenge()
    async with runtime.database.transaction() as conn:
        cipher = await runtime.vault.open(conn, principal.account_id)
        profile = await accounts.fetch_profile(conn, principal.account_id)
        username = cipher.open_optional(VaultField.ACCOUNT_USERNAME, profile.username) if profile else None
        existing = await store.for_account(conn, principal.account_id)
        if len(existing) >= MOST_PASSKEYS:
            raise Conflict("too_many_passkeys", f"At most {MOST_PASSKEYS} passkeys; remove one first")
        await store.put_challenge(
            conn,
            uuid.uuid4(),
            store.Purpose.ENROLMENT,
            challenge,
            ceremony.CHALLENGE_LIFETIME,
            session_id=principal.session_id,
            account_id=principal.account_id,
        )
    return ceremony.creation_options(
        runtime.settings,
        challenge=challenge,
        # The account id, not a name: the authenticator keeps it, and it says nothing about the person.
        user_id=principal.account_id.bytes,
        user_name=username or str(principal.account_id),
        display_name=username or "",
        exclude=[passkey.credential_id for passkey in existing],
    )


async def enrol(
    runtime: Runtime, principal: Principal, name: str, credential: dict[str, Any], actor: Actor
) -> PasskeyView:
    challenge = ceremony.sent_challenge(credential)
    # Consumed on its own, before the answer is checked: a wrong answer uses it up too.
    async with runtime.database.transaction() as conn:
        taken = await store.take_enrolment_challenge(conn, principal.session_id, challenge)
    if not taken:
        raise Invalid("passkey_challenge_invalid", "Ask for new passkey options: these were used, expired or not yours")
    async with runtime.database.transaction() as conn:
        verified = ceremony.check_registration(runtime.settings, credential, challenge)
        cipher = await runtime.vault.open(conn, principal.account_id)
        passkey = store.Passkey(
            id=uuid.uuid4(),
            account_id=principal.account_id,
            credential_id=verified.credential_id,
            public_key=verified.public_key,
            sign_count=verified.sign_count,
            name=cipher.seal(VaultField.PASSKEY_NAME, name),
            aaguid=verified.aaguid,
            backup_eligible=verified.backup_eligible,
            backed_up=verified.backed_up,
            created_at=datetime.now(UTC),
            last_used_at=None,
        )
        if not await store.insert(conn, passkey):
            raise Conflict("passkey_already_enrolled", "This passkey is already enrolled")
        details = {"kind": "passkey", "passkey_id": str(passkey.id)}
        await runtime.audit.append(
            conn, AuditEntry(actor, "passkey.added", "account", str(principal.account_id), details)
        )
        await tell(runtime, conn, principal.account_id, "passkey_added", name)
    return PasskeyView(passkey.id, name, passkey.created_at, None, passkey.backup_eligible, passkey.backed_up)


async def list_passkeys(runtime: Runtime, principal: Principal) -> list[PasskeyView]:
    async with runtime.database.connection() as conn:
        cipher = await runtime.vault.open(conn, principal.account_id)
        passkeys = await store.for_account(conn, principal.account_id)
    return [
        PasskeyView(
            passkey.id,
            cipher.open_text(VaultField.PASSKEY_NAME, passkey.name),
            passkey.created_at,
            passkey.last_used_at,
            passkey.backup_eligible,
            passkey.backed_up,
        )
        for passkey in passkeys
    ]


async def remove_passkey(runtime: Runtime, principal: Principal, passkey_id: UUID, actor: Actor) -> None:
    """Remove one of the person's passkeys; the caller has confirmed the password. Another person's
    passkey is answered as one that does not exist."""
    async with runtime.database.transaction() as conn:
        cipher = await runtime.vault.open(conn, principal.account_id)
        mine = {passkey.id: passkey for passkey in await store.for_account(conn, principal.account_id)}
        if passkey_id not in mine or not await store.remove(conn, principal.account_id, passkey_id):
            raise NotFound("passkey_not_found", "No such passkey")
        name = cipher.open_text(VaultField.PASSKEY_NAME, mine[passkey_id].name)
        details = {"kind": "passkey", "passkey_id": str(passkey_id)}
        await runtime.audit.append(
            conn, AuditEntry(actor, "passkey.removed", "account", str(principal.account_id), details)
        )
        await tell(runtime, conn, principal.account_id, "passkey_removed", name)
