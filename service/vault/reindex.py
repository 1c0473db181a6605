"""Blind-index key rotation: re-make every stored index under the current key, then drop the old.

With ``IDV_BLIND_INDEX_KEY`` new and ``IDV_BLIND_INDEX_KEY_PREVIOUS`` the key it replaced, new
indexes are made under the new key and look-ups try both. This job walks, in batches that each
commit with their cursor, first every live data key's owner (their contacts, username, operator
e-mail, real-name and correction ID numbers, whose plaintext their data key opens), then the
identity bars, which hold an index only: a bar is re-made from the barred person's verified
number while their data key lives, and is left behind, counted, once they have been erased.
Erased people have no key and no index, so there is nothing of theirs to carry over.

What is not re-made: digests of secrets nobody stores (one-time codes, recovery codes, guardian
invitation codes, the sign-in throttle's subjects), which look-ups check under both keys; the
short-lived ones end by themselves, recovery codes are left to their holders (README).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from service.accounts import store as accounts
from service.contacts import store as contacts
from service.corrections import store as corrections
from service.database.pool import Database
from service.operators import store as operators
from service.realname import store as realname
from service.termination import store as termination
from service.vault import store
from service.vault.blind_index import BlindIndex
from service.vault.cipher import OwnerCipher
from service.vault.labels import IndexPurpose, VaultField
from service.vault.vault import Vault, VaultError
from verification.contacts import email_key
from verification.usernames import username_key

OWNERS = "owners"
IDENTITY_BARS = "identity_bars"
PASSES = (OWNERS, IDENTITY_BARS)
BATCH = 200


@dataclass(frozen=True)
class ReindexPass:
    target: str
    started_at: datetime | None
    finished_at: datetime | None
    left_behind: int


@dataclass(frozen=True)
class ReindexStatus:
    rotating: bool
    passes: tuple[ReindexPass, ...]

    @property
    def done(self) -> bool:
        return self.rotating and all(p.finished_at is not None for p in self.passes)

    @property
    def left_behind(self) -> int:
        return sum(p.left_behind for p in self.passes)


async def status(conn: asyncpg.Connection, index: BlindIndex) -> ReindexStatus:
    rows = await store.reindex_progress(conn, index.fingerprint())
    passes = []
    for target in PASSES:
        row = rows.get(target)
        passes.append(
            ReindexPass(
                target,
                None if row is None else row.started_at,
                None if row is None else row.finished_at,
                0 if row is None else row.left_behind,
            )
        )
    return ReindexStatus(index.rotating, tuple(passes))


async def reindex_batch(conn: asyncpg.Connection, vault: Vault, *, settle: bool = True) -> int:
    """Re-index one batch in ``conn``'s transaction; the rows looked at, 0 when all is done (or
    no rotation is under way, or it has not settled yet)."""
    index = vault.blind_index
    if not index.rotating:
        return 0
    for target in PASSES:
        cursor = await store.lock_reindex_cursor(conn, index.fingerprint(), target)
        if cursor.finished_at is not None:
            continue
        if settle and not cursor.settled:
            return 0
        walk = _owners if target == OWNERS else _identity_bars
        if count := await walk(conn, vault, cursor.last_row):
            return count
        # That pass has just finished: go on with the next one.
    return 0


async def reindex(database: Database, vault: Vault, batches: int, *, settle: bool = True) -> int:
    done = 0
    for _ in range(batches):
        async with database.transaction() as conn:
            count = await reindex_batch(conn, vault, settle=settle)
        if not count:
            break
        done += count
    return done


async def _owners(conn: asyncpg.Connection, vault: Vault, after: str | None) -> int:
    keys = await store.live_keys_after(conn, after, BATCH)
    index = vault.blind_index
    if not keys:
        await store.advance_reindex(conn, index.fingerprint(), OWNERS, None, 0)
        return 0
    ciphers: dict[UUID, OwnerCipher] = {}
    unreadable = 0
    for k in keys:
        try:
            ciphers[k.owner_id] = vault.open_wrapped(k.owner_id, k.master_key_id, k.wrapped_key)
        except VaultError:
            # Wrapped by a master key already removed: nothing of theirs opens, nor can be re-indexed.
            unreadable += 1
    owners = list(ciphers)
    # Each replacement is a compare-and-set on the index read: a change made meanwhile (an erasure
    # blanking the row, a new username) wins, and an erased person's index is never made again.
    for contact in await contacts.indexed_addresses(conn, owners):
        address = ciphers[contact.account_id].open_text(VaultField.contact(contact.kind), contact.address)
        key = email_key(address) if contact.kind == "email" else address
        await contacts.replace_address_index(
            conn,
            contact.account_id,
            contact.kind,
            contact.address_index,
            index.digest(IndexPurpose.contact(contact.kind), key),
        )
    for account in await accounts.indexed_usernames(conn, owners):
        username = ciphers[account.id].open_text(VaultField.ACCOUNT_USERNAME, account.username)
        await accounts.replace_username_index(
            conn, account.id, account.username_index, index.digest(IndexPurpose.USERNAME, username_key(username))
        )
    for operator in await operators.indexed_emails(conn, owners):
        email = ciphers[operator.id].open_text(VaultField.OPERATOR_EMAIL, operator.email)
        await operators.replace_email_index(
            conn, operator.id, operator.email_index, index.digest(IndexPurpose.OPERATOR_EMAIL, email_key(email))
        )
    for holder in (realname, corrections):
        for row in await holder.indexed_id_numbers(conn, owners):
            number = ciphers[row.account_id].open_text(VaultField.REALNAME_ID_NUMBER, row.id_number)
            await holder.replace_id_number_index(
                conn, row.id, row.id_number_index, index.digest(IndexPurpose.IDENTITY_NUMBER, number)
            )
    await store.advance_reindex(conn, index.fingerprint(), OWNERS, str(keys[-1].owner_id), unreadable)
    return len(keys)


async def _identity_bars(conn: asyncpg.Connection, vault: Vault, after: str | None) -> int:
    bars = await termination.lock_bars_after(conn, int(after or 0), BATCH)
    index = vault.blind_index
    if not bars:
        await store.advance_reindex(conn, index.fingerprint(), IDENTITY_BARS, None, 0)
        return 0
    left_behind = 0
    for bar in bars:
        new = await _bar_index(conn, vault, bar)
        if new is None:
            left_behind += 1
        elif new != bar.id_number_index:
            await termination.replace_bar_index(conn, bar.id, new)
    await store.advance_reindex(conn, index.fingerprint(), IDENTITY_BARS, str(bars[-1].id), left_behind)
    return len(bars)


async def _bar_index(conn: asyncpg.Connection, vault: Vault, bar: termination.BarToReindex) -> bytes | None:
    """The bar's index under the current key, from the barred person's verified numbers; None when
    their data key is gone and the number with it."""
    if bar.wrapped_key is None:
        return None
    subject = bar.subject_account_id
    cipher: OwnerCipher = vault.open_wrapped(subject, bar.master_key_id, bar.wrapped_key)
    index = vault.blind_index
    for sealed in await realname.indexed_id_numbers_of(conn, subject):
        number = cipher.open_text(VaultField.REALNAME_ID_NUMBER, sealed)
        if bar.id_number_index in index.digests(IndexPurpose.IDENTITY_NUMBER, number):
            return index.digest(IndexPurpose.IDENTITY_NUMBER, number)
    return None
