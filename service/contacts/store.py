"""SQL for contacts and one-time codes."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

import asyncpg
import msgspec

from service.accounts.states import AccountState


class ContactKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"

    @property
    def purpose(self) -> str:
        return f"verify_{self.value}"


class OwnContactRow(msgspec.Struct, frozen=True):
    """A contact of the account, or an address waiting for its code (never verified, never the
    notices' recipient)."""

    id: UUID
    kind: ContactKind
    address: bytes  # sealed under the account's data key
    verified: bool
    receives_notices: bool
    created_at: datetime


class LockedContact(msgspec.Struct, frozen=True):
    id: UUID
    kind: ContactKind
    address: bytes  # sealed under the account's data key
    address_index: bytes
    verified_at: datetime | None
    receives_notices: bool


class SealedAddress(msgspec.Struct, frozen=True):
    """An address waiting for its code, or the contact notices go to."""

    id: UUID
    kind: ContactKind
    address: bytes  # sealed under the account's data key


def _sealed_address(row: asyncpg.Record | None) -> SealedAddress | None:
    return None if row is None else SealedAddress(row["id"], ContactKind(row["kind"]), row["address"])


class Contact(msgspec.Struct, frozen=True):
    address: bytes  # sealed under the account's data key
    verified_at: datetime | None


class SignInAccount(msgspec.Struct, frozen=True):
    """What sign-in needs of the account an identifier names."""

    id: UUID
    state: AccountState
    password_hash: str
    master_key_id: str
    wrapped_key: bytes
    totp_enabled: bool


class RecentCodes(msgspec.Struct, frozen=True):
    """The codes of one purpose issued to an account within a window."""

    issued: int
    seconds_since_last: Decimal | None
    seconds_until_oldest_expires: Decimal | None


class LiveCode(msgspec.Struct, frozen=True):
    id: UUID
    code_digest: bytes


def _contact(row: asyncpg.Record | None) -> Contact | None:
    return None if row is None else Contact(row["address"], row["verified_at"])


def _sign_in_account(row: asyncpg.Record | None) -> SignInAccount | None:
    if row is None:
        return None
    return SignInAccount(
        row["id"],
        AccountState(row["state"]),
        row["password_hash"],
        row["master_key_id"],
        row["wrapped_key"],
        row["totp_enabled"],
    )


async def insert_many(conn: asyncpg.Connection, account_id: UUID, rows: list[tuple[str, bytes, bytes]]) -> None:
    """(kind, sealed address, blind index) rows, in one statement."""
    await conn.execute(
        """INSERT INTO contacts (account_id, kind, address, address_index)
           SELECT $1, kind, address, address_index FROM unnest($2::text[], $3::bytea[], $4::bytea[])
                  AS c(kind, address, address_index)""",
        account_id,
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
    )


async def fetch(conn: asyncpg.Connection, account_id: UUID, kind: str) -> Contact | None:
    return _contact(
        await conn.fetchrow(
            "SELECT address, verified_at FROM contacts WHERE account_id = $1 AND kind = $2", account_id, kind
        )
    )


async def lock(conn: asyncpg.Connection, account_id: UUID, kind: str) -> Contact | None:
    """The contact, locked until the transaction ends: serializes code requests and checks for it."""
    return _contact(
        await conn.fetchrow(
            "SELECT address, verified_at FROM contacts WHERE account_id = $1 AND kind = $2 FOR UPDATE",
            account_id,
            kind,
        )
    )


async def mark_verified(conn: asyncpg.Connection, account_id: UUID, kind: str) -> None:
    await conn.execute(
        "UPDATE contacts SET verified_at = coalesce(verified_at, now()) WHERE account_id = $1 AND kind = $2",
        account_id,
        kind,
    )


async def find_account(conn: asyncpg.Connection, kind: str, indexes: list[bytes]) -> SignInAccount | None:
    """The account a sign-in identifier names, with what sign-in needs (``indexes``: the identifier's
    index under each blind-index key in use, during a rotation two)."""
    row = await conn.fetchrow(
        """SELECT a.id, a.state, a.password_hash, k.master_key_id, k.wrapped_key,
                  EXISTS (SELECT 1 FROM totp_credentials t WHERE t.account_id = a.id
                          AND t.confirmed_at IS NOT NULL) AS totp_enabled
           FROM contacts c JOIN accounts a ON a.id = c.account_id JOIN data_keys k ON k.owner_id = a.id
           WHERE c.kind = $1 AND c.address_index = ANY($2::bytea[])""",
        kind,
        indexes,
    )
    return _sign_in_account(row)


async def find_account_by_username(conn: asyncpg.Connection, indexes: list[bytes]) -> SignInAccount | None:
    row = await conn.fetchrow(
        """SELECT a.id, a.state, a.password_hash, k.master_key_id, k.wrapped_key,
                  EXISTS (SELECT 1 FROM totp_credentials t WHERE t.account_id = a.id
                          AND t.confirmed_at IS NOT NULL) AS totp_enabled
           FROM accounts a JOIN data_keys k ON k.owner_id = a.id
           WHERE a.username_index = ANY($1::bytea[])""",
        indexes,
    )
    return _sign_in_account(row)


async def taken_under_previous_key(
    conn: asyncpg.Connection, username_index: bytes | None, contacts: list[tuple[str, bytes]], except_account: UUID
) -> str | None:
    """During a blind-index rotation the unique constraints see only indexes of one key: the field
    whose identifier another account holds under the previous key, if any. (Re-indexing that row
    either committed before, and the constraint answers, or after this sees it here.)"""
    if username_index is not None and await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM accounts WHERE username_index = $1 AND id <> $2)", username_index, except_account
    ):
        return "username"
    for kind, index in contacts:
        if await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM contacts WHERE kind = $1 AND address_index = $2 AND account_id <> $3)",
            kind,
            index,
            except_account,
        ):
            return kind
    return None


async def recent_codes(conn: asyncpg.Connection, account_id: UUID, purpose: str, window: timedelta) -> RecentCodes:
    row = await conn.fetchrow(
        """SELECT count(*) AS issued, extract(epoch FROM now() - max(created_at)) AS seconds_since_last,
                  extract(epoch FROM min(created_at) + $3::interval - now()) AS seconds_until_oldest_expires
           FROM one_time_codes WHERE account_id = $1 AND purpose = $2 AND created_at > now() - $3::interval""",
        account_id,
        purpose,
        window,
    )
    assert row is not None  # an aggregate always returns one row
    return RecentCodes(row["issued"], row["seconds_since_last"], row["seconds_until_oldest_expires"])


async def insert_code(
    conn: asyncpg.Connection, code_id: UUID, account_id: UUID, purpose: str, digest: bytes, ttl: timedelta
) -> None:
    # A new code replaces the old: only the newest one can be used.
    await conn.execute(
        """UPDATE one_time_codes SET expires_at = least(expires_at, now())
           WHERE account_id = $1 AND purpose = $2 AND consumed_at IS NULL AND expires_at > now()""",
        account_id,
        purpose,
    )
    await conn.execute(
        """INSERT INTO one_time_codes (id, account_id, purpose, code_digest, expires_at)
           VALUES ($1, $2, $3, $4, now() + $5::interval)""",
        code_id,
        account_id,
        purpose,
        digest,
        ttl,
    )


async def spend_attempt(conn: asyncpg.Connection, account_id: UUID, purpose: str, max_attempts: int) -> LiveCode | None:
    """Count one attempt against the live code; None when there is none or it is used up."""
    row = await conn.fetchrow(
        """UPDATE one_time_codes SET attempts = attempts + 1
           WHERE id = (SELECT id FROM one_time_codes
                       WHERE account_id = $1 AND purpose = $2 AND consumed_at IS NULL
                         AND expires_at > now()
                       ORDER BY created_at DESC LIMIT 1 FOR UPDATE)
             AND attempts < $3
           RETURNING id, code_digest""",
        account_id,
        purpose,
        max_attempts,
    )
    return None if row is None else LiveCode(row["id"], row["code_digest"])


async def consume(conn: asyncpg.Connection, code_id: UUID) -> bool:
    result = await conn.fetchval(
        "UPDATE one_time_codes SET consumed_at = now() WHERE id = $1 AND consumed_at IS NULL RETURNING 1",
        code_id,
    )
    return result is not None


async def insert_first_codes(
    conn: asyncpg.Connection, account_id: UUID, codes: list[tuple[UUID, str, bytes]], ttl: timedelta
) -> None:
    """(id, purpose, digest) codes of a new account, which has none to replace or throttle."""
    await conn.execute(
        """INSERT INTO one_time_codes (id, account_id, purpose, code_digest, expires_at)
           SELECT id, $1, purpose, digest, now() + $5::interval
           FROM unnest($2::uuid[], $3::text[], $4::bytea[]) AS c(id, purpose, digest)""",
        account_id,
        [c[0] for c in codes],
        [c[1] for c in codes],
        [c[2] for c in codes],
        ttl,
    )


async def erase_for_account(conn: asyncpg.Connection, account_id: UUID) -> None:
    """The account's contacts and the codes sent to them (they name the person through a blind index)."""
    await conn.execute("DELETE FROM contacts WHERE account_id = $1", account_id)
    await conn.execute("DELETE FROM contact_additions WHERE account_id = $1", account_id)
    await conn.execute("DELETE FROM one_time_codes WHERE account_id = $1", account_id)


class IndexedAddress(msgspec.Struct, frozen=True):
    account_id: UUID
    kind: str
    address: bytes  # sealed under the account's data key
    address_index: bytes


async def indexed_addresses(conn: asyncpg.Connection, account_ids: list[UUID]) -> list[IndexedAddress]:
    """The accounts' contacts with their blind indexes (vault.reindex re-makes them)."""
    rows = await conn.fetch(
        "SELECT account_id, kind, address, address_index FROM contacts WHERE account_id = ANY($1)", account_ids
    )
    return [IndexedAddress(row["account_id"], row["kind"], row["address"], row["address_index"]) for row in rows]


async def replace_address_index(conn: asyncpg.Connection, account_id: UUID, kind: str, old: bytes, new: bytes) -> None:
    """Compare-and-set: a change made since ``old`` was read (an erasure, a new address) wins."""
    await conn.execute(
        "UPDATE contacts SET address_index = $4 WHERE account_id = $1 AND kind = $2 AND address_index = $3",
        account_id,
        kind,
        old,
        new,
    )


async def consume_live(conn: asyncpg.Connection, code_id: UUID) -> bool:
    """Use the code up if it is still live: not used, not expired, not replaced by a newer one."""
    result = await conn.fetchval(
        """UPDATE one_time_codes SET consumed_at = now()
           WHERE id = $1 AND consumed_at IS NULL AND expires_at > now() RETURNING 1""",
        code_id,
    )
    return result is not None


# A signed-in person's own contacts and the addresses they are adding (issue 19).


async def list_for_account(conn: asyncpg.Connection, account_id: UUID) -> list[OwnContactRow]:
    """The account's contacts, then the addresses waiting for their code, e-mail first."""
    rows = await conn.fetch(
        """SELECT id, kind, address, verified_at IS NOT NULL AS verified, receives_notices, created_at
           FROM contacts WHERE account_id = $1
           UNION ALL
           SELECT id, kind, address, false, false, created_at
           FROM contact_additions WHERE account_id = $1 AND expires_at > now()
           ORDER BY verified DESC, kind, created_at""",
        account_id,
    )
    return [
        OwnContactRow(
            row["id"],
            ContactKind(row["kind"]),
            row["address"],
            row["verified"],
            row["receives_notices"],
            row["created_at"],
        )
        for row in rows
    ]


async def lock_contacts(conn: asyncpg.Connection, account_id: UUID) -> list[LockedContact]:
    """The account's contacts, locked until the transaction ends: serializes every change to them
    (two removals in parallel cannot each leave the other as the last)."""
    rows = await conn.fetch(
        """SELECT id, kind, address, address_index, verified_at, receives_notices FROM contacts
           WHERE account_id = $1 ORDER BY kind FOR UPDATE""",
        account_id,
    )
    return [
        LockedContact(
            row["id"],
            ContactKind(row["kind"]),
            row["address"],
            row["address_index"],
            row["verified_at"],
            row["receives_notices"],
        )
        for row in rows
    ]


async def proven_by_other(conn: asyncpg.Connection, kind: str, indexes: list[bytes], account_id: UUID) -> bool:
    """Whether another account verified the address (under any blind-index key in use)."""
    return bool(
        await conn.fetchval(
            """SELECT EXISTS (SELECT 1 FROM contacts
                              WHERE kind = $1 AND address_index = ANY($2::bytea[]) AND account_id <> $3
                                AND verified_at IS NOT NULL)""",
            kind,
            indexes,
            account_id,
        )
    )


async def release_unproven(conn: asyncpg.Connection, kind: str, indexes: list[bytes], account_id: UUID) -> None:
    """Take the address from another account that registered it and never proved it. A holder
    verifying it at this moment holds its row's lock: this waits, and then finds it verified."""
    await conn.execute(
        """DELETE FROM contacts
           WHERE kind = $1 AND address_index = ANY($2::bytea[]) AND account_id <> $3 AND verified_at IS NULL""",
        kind,
        indexes,
        account_id,
    )


async def put_addition(
    conn: asyncpg.Connection, addition_id: UUID, account_id: UUID, kind: str, address: bytes, lifetime: timedelta
) -> None:
    """The address waiting for its code; it replaces one of the same kind still waiting."""
    await conn.execute(
        """INSERT INTO contact_additions (id, account_id, kind, address, expires_at)
           VALUES ($1, $2, $3, $4, now() + $5::interval)
           ON CONFLICT (account_id, kind) DO UPDATE
           SET id = excluded.id, address = excluded.address, created_at = now(), expires_at = excluded.expires_at""",
        addition_id,
        account_id,
        kind,
        address,
        lifetime,
    )


async def lock_addition(conn: asyncpg.Connection, account_id: UUID, addition_id: UUID) -> SealedAddress | None:
    """The account's live addition with this id (another account's id is None, like an unknown one)."""
    row = await conn.fetchrow(
        """SELECT id, kind, address FROM contact_additions
           WHERE id = $1 AND account_id = $2 AND expires_at > now() FOR UPDATE""",
        addition_id,
        account_id,
    )
    return _sealed_address(row)


async def delete_addition(conn: asyncpg.Connection, addition_id: UUID) -> None:
    await conn.execute("DELETE FROM contact_additions WHERE id = $1", addition_id)


async def put_verified(
    conn: asyncpg.Connection, contact_id: UUID, account_id: UUID, kind: str, address: bytes, address_index: bytes
) -> None:
    """The proven address becomes the account's contact of its kind, replacing the one it had. The
    unique constraint on the address decides between accounts proving it at the same time."""
    await conn.execute(
        """INSERT INTO contacts (id, account_id, kind, address, address_index, verified_at)
           VALUES ($1, $2, $3, $4, $5, now())
           ON CONFLICT (account_id, kind) DO UPDATE
           SET id = excluded.id, address = excluded.address, address_index = excluded.address_index,
               verified_at = now(), created_at = now()""",
        contact_id,
        account_id,
        kind,
        address,
        address_index,
    )


async def delete_contact(conn: asyncpg.Connection, contact_id: UUID) -> None:
    await conn.execute("DELETE FROM contacts WHERE id = $1", contact_id)


async def choose_notice_recipient(conn: asyncpg.Connection, account_id: UUID, contact_id: UUID) -> None:
    # Two statements: the index allowing one recipient per account is checked row by row.
    await conn.execute(
        "UPDATE contacts SET receives_notices = false WHERE account_id = $1 AND receives_notices", account_id
    )
    await conn.execute("UPDATE contacts SET receives_notices = true WHERE id = $1", contact_id)


async def notice_recipient(conn: asyncpg.Connection, account_id: UUID) -> SealedAddress | None:
    """The verified contact notices go to: the one the person chose, else the e-mail, else the phone."""
    row = await conn.fetchrow(
        """SELECT id, kind, address FROM contacts WHERE account_id = $1 AND verified_at IS NOT NULL
           ORDER BY receives_notices DESC, kind LIMIT 1""",
        account_id,
    )
    return _sealed_address(row)
