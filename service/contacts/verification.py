"""Asking for a code and proving ownership of a contact with it."""

from __future__ import annotations

import asyncpg

from service.accounts.states import AccountEvent, AccountState
from service.accounts.transitions import move
from service.contacts import store
from service.contacts.codes import CodeCheck, ContactKind, check_code, send_code
from service.errors import Conflict, Invalid, NotFound
from service.runtime import Runtime
from service.sessions.sessions import Principal
from service.vault.labels import VaultField


async def _unverified_contact(conn: asyncpg.Connection, principal: Principal, kind: ContactKind) -> store.Contact:
    contact = await store.lock(conn, principal.account_id, kind)
    if contact is None:
        raise NotFound("contact_not_found", f"This account has no {kind.value} contact")
    if contact.verified_at is not None:
        raise Conflict("already_verified", f"The {kind.value} is already verified")
    return contact


async def request_code(runtime: Runtime, principal: Principal, kind: ContactKind) -> None:
    async with runtime.database.transaction() as conn:
        contact = await _unverified_contact(conn, principal, kind)
        cipher = await runtime.vault.open(conn, principal.account_id)
        address = cipher.open_text(VaultField.contact(kind), contact.address)
        await send_code(conn, runtime.vault.blind_index, cipher, kind, address)


async def verify_contact(runtime: Runtime, principal: Principal, kind: ContactKind, code: str) -> AccountState:
    async with runtime.database.transaction() as conn:
        await _unverified_contact(conn, principal, kind)
        result = await check_code(conn, runtime.vault.blind_index, principal.account_id, kind, code)
        if result is CodeCheck.ACCEPTED:
            await store.mark_verified(conn, principal.account_id, kind)
            return await move(conn, principal.account_id, AccountEvent.CONTACT_VERIFIED, actor="self")
    # Outside the transaction: the spent attempt is committed before we answer.
    if result is CodeCheck.WRONG:
        raise Invalid("code_invalid", "The code is not right")
    raise Invalid("code_expired", "There is no valid code: ask for a new one")
