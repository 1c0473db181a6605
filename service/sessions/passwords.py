"""Choosing a new password: changing it while signed in, or (sessions.recovery) after proving one
receives the account's codes.

The new password meets registration's rules, judged against the account's own identifiers; it is
set in one transaction that ends every other session and tells every verified contact."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from service.accounts import store as accounts
from service.accounts.notices import notify_every_contact
from service.accounts.store import AccountProfile
from service.audit import Actor, AuditEntry
from service.errors import checking
from service.runtime import Runtime
from service.sessions import store
from service.sessions.reauthentication import confirm_password
from service.sessions.sessions import Principal
from service.vault import OwnerCipher
from service.vault.labels import VaultField


def _personal_words(cipher: OwnerCipher, profile: AccountProfile) -> list[str]:
    """What registration checks a password against: the person's name, identifiers and birth date."""
    words = [
        cipher.open_optional(VaultField.ACCOUNT_DISPLAY_NAME, profile.display_name),
        cipher.open_optional(VaultField.ACCOUNT_USERNAME, profile.username),
        cipher.open_optional(VaultField.CONTACT_EMAIL, profile.email),
        cipher.open_optional(VaultField.CONTACT_PHONE, profile.phone),
    ]
    born = cipher.open_optional(VaultField.ACCOUNT_BIRTH_DATE, profile.birth_date)
    if born:  # ISO 8601, as registration seals it
        year, month, day = born.split("-")
        words += [f"{year}{month}{day}", f"{day}{month}{year}", f"{month}{day}{year}", year]
    return [word for word in words if word]


async def hash_new_password(runtime: Runtime, account_id: UUID, password: str, field: str) -> str:
    """The PHC hash of an acceptable new password, or 422 with the field's problem."""
    async with runtime.database.connection() as conn:
        cipher = await runtime.vault.open(conn, account_id)
        profile = await accounts.fetch_profile(conn, account_id)
    personal = _personal_words(cipher, profile) if profile is not None else []
    with checking(field):
        return await runtime.passwords.hash_new(password, personal)


async def set_password(
    runtime: Runtime,
    conn: asyncpg.Connection,
    account_id: UUID,
    phc: str,
    *,
    keep_session: UUID | None,
    actor: Actor,
    action: str,
    notice: tuple[str, str],
) -> int:
    """In the caller's transaction: the new hash, every other session ended, the audit entry, and a
    notice to every verified contact. How many sessions were ended."""
    await accounts.set_password_hash(conn, account_id, phc)
    ended = await store.end_all_but(conn, account_id, keep_session, action.removeprefix("account."))
    await runtime.audit.append(conn, AuditEntry(actor, action, "account", str(account_id), {"sessions_ended": ended}))
    await notify_every_contact(runtime, conn, account_id, notice, {})
    return ended


async def change_password(
    runtime: Runtime,
    principal: Principal,
    current_password: str,
    new_password: str,
    *,
    client_address: str,
    user_agent: str | None,
) -> None:
    """The current password first (throttled like sign-in, so a stolen session cannot guess it),
    then the new one's rules."""
    await confirm_password(runtime, principal, current_password, client_address)
    phc = await hash_new_password(runtime, principal.account_id, new_password, "new_password")
    async with runtime.database.transaction() as conn:
        await set_password(
            runtime,
            conn,
            principal.account_id,
            phc,
            keep_session=principal.session_id,
            actor=Actor.user(principal.account_id, client_address, user_agent),
            action="account.password_changed",
            notice=("password_changed", "password_changed_sms"),
        )
