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

from service.database.pool import Database
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
# Pods still running with the old settings may write under the previous key for a little while
# after the rotation is configured; the walk starts once a rolling update has surely finished.
SETTLE = "15 minutes"


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
    rows = {
        row["target"]: row
        for row in await conn.fetch(
            "SELECT target, started_at, finished_at, left_behind FROM blind_index_rotations WHERE key_fingerprint = $1",
            index.fingerprint(),
        )
    }
    passes = []
    for target in PASSES:
        row = rows.get(target)
        passes.append(
            ReindexPass(
                target,
                None if row is None else row["started_at"],
                None if row is None else row["finished_at"],
                0 if row is None else row["left_behind"],
            )
        )
    return ReindexStatus(index.rotating, tuple(passes))


async def _cursor(conn: asyncpg.Connection, index: BlindIndex, target: str) -> asyncpg.Record:
    await conn.execute(
        """INSERT INTO blind_index_rotations (key_fingerprint, target) VALUES ($1, $2)
           ON CONFLICT (key_fingerprint, target) DO NOTHING""",
        index.fingerprint(),
        target,
    )
    row = await conn.fetchrow(
        f"""SELECT last_row, finished_at, started_at < now() - interval '{SETTLE}' AS settled
            FROM blind_index_rotations WHERE key_fingerprint = $1 AND target = $2 FOR UPDATE""",  # noqa: S608
        index.fingerprint(),
        target,
    )
    assert row is not None
    return row


async def _advance(
    conn: asyncpg.Connection, index: BlindIndex, target: str, last_row: str | None, left_behind: int
) -> None:
    await conn.execute(
        """UPDATE blind_index_rotations
           SET last_row = coalesce($3, last_row), left_behind = left_behind + $4,
               finished_at = CASE WHEN $3 IS NULL THEN now() END
           WHERE key_fingerprint = $1 AND target = $2""",
        index.fingerprint(),
        target,
        last_row,
        left_behind,
    )


async def reindex_batch(conn: asyncpg.Connection, vault: Vault, *, settle: bool = True) -> int:
    """Re-index one batch in ``conn``'s transaction; the rows looked at, 0 when all is done (or
    no rotation is under way, or it has not settled yet)."""
    index = vault.blind_index
    if not index.rotating:
        return 0
    for target in PASSES:
        cursor = await _cursor(conn, index, target)
        if cursor["finished_at"] is not None:
            continue
        if settle and not cursor["settled"]:
            return 0
        walk = _owners if target == OWNERS else _identity_bars
        if count := await walk(conn, vault, cursor["last_row"]):
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
    keys = await conn.fetch(
        """SELECT owner_id, master_key_id, wrapped_key FROM data_keys
           WHERE destroyed_at IS NULL AND owner_id > $1::uuid ORDER BY owner_id LIMIT $2""",
        after or "00000000-0000-0000-0000-000000000000",
        BATCH,
    )
    if not keys:
        await _advance(conn, vault.blind_index, OWNERS, None, 0)
        return 0
    ciphers: dict[UUID, OwnerCipher] = {}
    unreadable = 0
    for k in keys:
        try:
            ciphers[k["owner_id"]] = vault.open_wrapped(k["owner_id"], k["master_key_id"], k["wrapped_key"])
        except VaultError:
            # Wrapped by a master key already removed: nothing of theirs opens, nor can be re-indexed.
            unreadable += 1
    owners = list(ciphers)
    index = vault.blind_index
    # Each UPDATE is a compare-and-set on the index read: a change made meanwhile (an erasure
    # blanking the row, a new username) wins, and an erased person's index is never made again.
    for row in await conn.fetch(
        "SELECT account_id, kind, address, address_index FROM contacts WHERE account_id = ANY($1)", owners
    ):
        address = ciphers[row["account_id"]].open_text(VaultField.contact(row["kind"]), row["address"])
        key = email_key(address) if row["kind"] == "email" else address
        await conn.execute(
            "UPDATE contacts SET address_index = $4 WHERE account_id = $1 AND kind = $2 AND address_index = $3",
            row["account_id"],
            row["kind"],
            row["address_index"],
            index.digest(IndexPurpose.contact(row["kind"]), key),
        )
    for row in await conn.fetch(
        "SELECT id, username, username_index FROM accounts WHERE id = ANY($1) AND username_index IS NOT NULL", owners
    ):
        username = ciphers[row["id"]].open_text(VaultField.ACCOUNT_USERNAME, row["username"])
        await conn.execute(
            "UPDATE accounts SET username_index = $3 WHERE id = $1 AND username_index = $2",
            row["id"],
            row["username_index"],
            index.digest(IndexPurpose.USERNAME, username_key(username)),
        )
    for row in await conn.fetch("SELECT id, email, email_index FROM operators WHERE id = ANY($1)", owners):
        email = ciphers[row["id"]].open_text(VaultField.OPERATOR_EMAIL, row["email"])
        await conn.execute(
            "UPDATE operators SET email_index = $3 WHERE id = $1 AND email_index = $2",
            row["id"],
            row["email_index"],
            index.digest(IndexPurpose.OPERATOR_EMAIL, email_key(email)),
        )
    for table in ("real_name_verifications", "correction_requests"):
        rows = await conn.fetch(
            f"""SELECT id, account_id, id_number, id_number_index FROM {table}
                WHERE account_id = ANY($1) AND length(id_number_index) > 0""",  # noqa: S608 - a constant table name
            owners,
        )
        for row in rows:
            number = ciphers[row["account_id"]].open_text(VaultField.REALNAME_ID_NUMBER, row["id_number"])
            await conn.execute(
                f"UPDATE {table} SET id_number_index = $3 WHERE id = $1 AND id_number_index = $2",  # noqa: S608
                row["id"],
                row["id_number_index"],
                index.digest(IndexPurpose.IDENTITY_NUMBER, number),
            )
    await _advance(conn, index, OWNERS, str(keys[-1]["owner_id"]), unreadable)
    return len(keys)


async def _identity_bars(conn: asyncpg.Connection, vault: Vault, after: str | None) -> int:
    bars = await conn.fetch(
        """SELECT b.id, b.id_number_index, c.subject_account_id, k.master_key_id, k.wrapped_key
           FROM identity_bars b JOIN review_cases c ON c.id = b.case_id
           LEFT JOIN data_keys k ON k.owner_id = c.subject_account_id AND k.destroyed_at IS NULL
           WHERE b.id > $1 ORDER BY b.id LIMIT $2 FOR UPDATE OF b""",
        int(after or 0),
        BATCH,
    )
    index = vault.blind_index
    if not bars:
        await _advance(conn, index, IDENTITY_BARS, None, 0)
        return 0
    left_behind = 0
    for bar in bars:
        new = await _bar_index(conn, vault, bar)
        if new is None:
            left_behind += 1
        elif new != bar["id_number_index"]:
            await conn.execute("UPDATE identity_bars SET id_number_index = $2 WHERE id = $1", bar["id"], new)
    await _advance(conn, index, IDENTITY_BARS, str(bars[-1]["id"]), left_behind)
    return len(bars)


async def _bar_index(conn: asyncpg.Connection, vault: Vault, bar: asyncpg.Record) -> bytes | None:
    """The bar's index under the current key, from the barred person's verified numbers; None when
    their data key is gone and the number with it."""
    if bar["wrapped_key"] is None:
        return None
    subject: UUID = bar["subject_account_id"]
    cipher: OwnerCipher = vault.open_wrapped(subject, bar["master_key_id"], bar["wrapped_key"])
    index = vault.blind_index
    for row in await conn.fetch(
        "SELECT id_number FROM real_name_verifications WHERE account_id = $1 AND length(id_number_index) > 0", subject
    ):
        number = cipher.open_text(VaultField.REALNAME_ID_NUMBER, row["id_number"])
        if bar["id_number_index"] in index.digests(IndexPurpose.IDENTITY_NUMBER, number):
            return index.digest(IndexPurpose.IDENTITY_NUMBER, number)
    return None
