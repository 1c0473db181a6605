"""Erasing an account's personal data, leaving a tombstone.

What is sealed under the account's data key (names, birth date, contacts, documents, case
evidence) becomes unreadable everywhere, backups included, when the key is destroyed; what
identifies the person in clear or through a blind index (contacts, username) is deleted, which
also frees them for a new registration. The state history and the consent ledger keep only the
pseudonymous account id. The account lifecycle (cancellation, legal holds, recipients) builds on this.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from service.accounts import store
from service.accounts.states import AccountEvent
from service.accounts.transitions import move
from service.audit import Actor
from service.contacts import store as contacts
from service.sessions import store as sessions
from service.totp import store as totp
from service.vault import Vault


async def erase_personal_data(
    conn: asyncpg.Connection, vault: Vault, account_id: UUID, event: AccountEvent, actor: Actor, reason_code: str
) -> None:
    await sessions.end_all_for_account(conn, account_id, "account_erased")
    await contacts.erase_for_account(conn, account_id)
    await totp.remove(conn, account_id)
    await store.erase_identifiers(conn, account_id)
    await vault.destroy(conn, account_id)
    await move(conn, account_id, event, actor=actor.label, reason_code=reason_code)
